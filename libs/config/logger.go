package config

import (
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns a text logger at the named level (debug, info, warn,
// error), tagged with the service name so that interleaved logs read clearly.
func NewLogger(w io.Writer, service, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})).With("service", service)
}
