package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/blocpress/blocpress/libs/config"
)

// envPrefix prefixes every render-specific variable.
const envPrefix = "RENDER_"

// Config is render's configuration, read from RENDER_* and the shared
// NATS_* / S3_* variables.
type Config struct {
	config.Common

	HTTPAddr string `env:"HTTP_ADDR" default:":8086" help:"listen address of /healthz, /readyz and /metrics"`
	// SiteURL is where readers reach the site service; it starts canonical
	// links and the url of article.published.
	SiteURL string `env:"SITE_URL" default:"http://localhost:8080" help:"public base URL of the site"`
	// ViewsURL is where readers' browsers reach view-counter; the page's
	// script posts a view there and reads the count back.
	ViewsURL string `env:"VIEWS_URL" default:"http://localhost:8083" help:"public base URL of view-counter"`
}

// loadConfig reads and checks the configuration.
func loadConfig(getenv func(string) string) (Config, error) {
	var cfg Config
	if err := config.Load(envPrefix, getenv, &cfg); err != nil {
		return cfg, err
	}
	var errs []error
	for name, p := range map[string]*string{"SITE_URL": &cfg.SiteURL, "VIEWS_URL": &cfg.ViewsURL} {
		u, err := url.Parse(*p)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s%s=%q must be an absolute http(s) URL", envPrefix, name, *p))
		}
		*p = strings.TrimRight(*p, "/")
	}
	if cfg.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%sSHUTDOWN_TIMEOUT must be positive", envPrefix))
	}
	return cfg, errors.Join(errs...)
}
