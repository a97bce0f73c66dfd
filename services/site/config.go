package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/blocpress/blocpress/libs/config"
)

// envPrefix prefixes every site-specific variable.
const envPrefix = "SITE_"

// Config is site's configuration, read from SITE_* and the shared NATS_* /
// S3_* variables.
type Config struct {
	config.Common

	HTTPAddr string `env:"HTTP_ADDR" default:":8080" help:"listen address of the public site"`
	// S3Timeout bounds how long a reader waits for storage to start answering
	// before getting a 503, rather than hanging while S3 is down.
	S3Timeout time.Duration `env:"S3_TIMEOUT" default:"5s" help:"time to first byte from S3 before answering 503"`
	// CacheBytes bounds the in-memory copy of pages and renditions; 0 turns it off.
	CacheBytes int64 `env:"CACHE_BYTES" default:"268435456" help:"bytes of pages and renditions kept in memory (0: no cache)"`
	// CacheTTL is how long a cached object is served without asking S3 again,
	// unless an event says it changed first. Past it, it is still served
	// while S3 is unreachable.
	CacheTTL time.Duration `env:"CACHE_TTL" default:"5m" help:"how long a cached object is used before S3 is asked again"`
}

// loadConfig reads and checks the configuration.
func loadConfig(getenv func(string) string) (Config, error) {
	var cfg Config
	if err := config.Load(envPrefix, getenv, &cfg); err != nil {
		return cfg, err
	}
	var errs []error
	if cfg.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%sSHUTDOWN_TIMEOUT must be positive", envPrefix))
	}
	if cfg.CacheBytes < 0 || cfg.CacheTTL <= 0 {
		errs = append(errs, fmt.Errorf("%sCACHE_BYTES must not be negative and %sCACHE_TTL must be positive", envPrefix, envPrefix))
	}
	if cfg.S3Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%sS3_TIMEOUT must be positive", envPrefix))
	}
	return cfg, errors.Join(errs...)
}
