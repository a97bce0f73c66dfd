package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/blocpress/blocpress/libs/config"
)

// envPrefix prefixes this service's own variables; config.Common's NATS_* and
// S3_* are shared and unprefixed (moderation does not use S3).
const envPrefix = "MODERATION_"

// Config is moderation's configuration, read from the environment.
type Config struct {
	config.Common
	HTTPAddr string `env:"HTTP_ADDR" default:":8085" help:"listen address of the review desk (API and pages), /healthz, /readyz, /metrics"`
	// SiteURL is where the preview takes photos from: site serves
	// /<tenant>/media/<id>/<width>.jpg.
	SiteURL string `env:"SITE_URL" default:"http://localhost:8080" help:"public site base URL, for photos in the review desk's preview"`
	// SessionSecret signs the review desk's session cookies; replicas must
	// share it. Empty: a random one per process (sessions end on restart).
	SessionSecret string        `env:"SESSION_SECRET" secret:"true" help:"key signing review desk sessions (at least 32 characters; shared by replicas)"`
	SessionTTL    time.Duration `env:"SESSION_TTL" default:"12h" help:"how long a review desk sign-in lasts"`
	// CookieSecure marks session cookies Secure even on plain HTTP (behind a
	// TLS-terminating proxy that does not say X-Forwarded-Proto).
	CookieSecure bool `env:"COOKIE_SECURE" default:"false" help:"always mark review desk cookies Secure"`
}

func (c *Config) validate() error {
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("%sSHUTDOWN_TIMEOUT: %s must be positive", envPrefix, c.ShutdownTimeout)
	}
	if u, err := url.Parse(c.SiteURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%sSITE_URL: %q is not an http(s) URL", envPrefix, c.SiteURL)
	}
	c.SiteURL = strings.TrimSuffix(c.SiteURL, "/")
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		return fmt.Errorf("%sSESSION_SECRET: must be at least 32 characters", envPrefix)
	}
	if c.SessionTTL < time.Minute {
		return fmt.Errorf("%sSESSION_TTL: %s is too short", envPrefix, c.SessionTTL)
	}
	return nil
}
