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
	if cfg.S3Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%sS3_TIMEOUT must be positive", envPrefix))
	}
	return cfg, errors.Join(errs...)
}
