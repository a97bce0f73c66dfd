package main

import (
	"fmt"

	"github.com/blocpress/blocpress/libs/config"
)

// envPrefix prefixes this service's own variables; config.Common's NATS_* and
// S3_* are shared and unprefixed (moderation does not use S3 yet).
const envPrefix = "MODERATION_"

// Config is moderation's configuration, read from the environment.
type Config struct {
	config.Common
	HTTPAddr string `env:"HTTP_ADDR" default:":8085" help:"listen address for /healthz, /readyz, /metrics"`
}

func (c *Config) validate() error {
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("%sSHUTDOWN_TIMEOUT: %s must be positive", envPrefix, c.ShutdownTimeout)
	}
	return nil
}
