package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/websession"
)

// envPrefix prefixes every ingest-specific variable.
const envPrefix = "INGEST_"

// Config is ingest's configuration, read from INGEST_* and the shared
// NATS_* / S3_* variables.
type Config struct {
	config.Common

	HTTPAddr string `env:"HTTP_ADDR" default:":8081" help:"listen address of the editor and admin API"`
	// AdminToken authorises the operator's admin API (tenants, API keys).
	AdminToken string `env:"ADMIN_TOKEN" required:"true" secret:"true" help:"bearer token of the admin API"`
	// PublicURL is where editors reach this service; status_url links start with it.
	PublicURL string `env:"PUBLIC_URL" default:"http://localhost:8081" help:"base of status_url links"`

	MaxBodyBytes  int64 `env:"MAX_BODY_BYTES" default:"1048576" help:"largest JSON request body"`
	MaxMediaBytes int64 `env:"MAX_MEDIA_BYTES" default:"26214400" help:"largest uploaded photo"`
	MaxImages     int   `env:"MAX_IMAGES" default:"30" help:"images per article"`
	MaxTitle      int   `env:"MAX_TITLE" default:"300" help:"title length in characters"`
	MaxLead       int   `env:"MAX_LEAD" default:"1000" help:"lead length in characters"`
	MaxParagraph  int   `env:"MAX_PARAGRAPH" default:"10000" help:"paragraph length in characters"`
	MaxBlocks     int   `env:"MAX_BLOCKS" default:"500" help:"body blocks per article"`

	// Article revisions (articles.go, revisions.go).
	MaxTags     int `env:"MAX_TAGS" default:"20" help:"tags per article"`
	MaxTagChars int `env:"MAX_TAG_CHARS" default:"60" help:"characters per tag"`

	// The editor web app (/editor/). SessionSecret seals the session cookie,
	// which carries the editor's API key; replicas must share it. Empty: a
	// random one per process (sign-ins end on restart). RenderURL is render's
	// internal address (previews); SiteURL the public site (photos).
	SessionSecret string        `env:"SESSION_SECRET" secret:"true" help:"key sealing editor sessions (at least 32 characters; shared by replicas)"`
	SessionTTL    time.Duration `env:"SESSION_TTL" default:"12h" help:"how long an editor sign-in lasts"`
	CookieSecure  bool          `env:"COOKIE_SECURE" help:"mark editor cookies Secure even on plain HTTP (behind a TLS proxy)"`
	RenderURL     string        `env:"RENDER_URL" default:"http://localhost:8086" help:"render's internal URL, for previews"`
	SiteURL       string        `env:"SITE_URL" default:"http://localhost:8080" help:"the public site's URL, for photos in the editor"`

	// Callers and direct uploads (ratelimit.go, media_uploads.go). The rate
	// is per key and per replica: with n replicas a key may reach n × rate.
	// S3PublicURL is where editors' browsers reach S3 (presigned uploads);
	// empty means the S3 endpoint itself.
	RatePerMinute float64       `env:"RATE_PER_MINUTE" default:"600" help:"requests per minute per API key, per replica"`
	RateBurst     int           `env:"RATE_BURST" default:"60" help:"requests an API key may make at once before the rate applies"`
	UploadExpiry  time.Duration `env:"UPLOAD_EXPIRY" default:"15m" help:"how long a presigned upload URL is valid"`
	S3PublicURL   string        `env:"S3_PUBLIC_URL" help:"S3 endpoint as editors' browsers reach it, scheme://host[:port] (default: S3_ENDPOINT)"`
}

// loadConfig reads and checks the configuration.
func loadConfig(getenv func(string) string) (Config, error) {
	var cfg Config
	if err := config.Load(envPrefix, getenv, &cfg); err != nil {
		return cfg, err
	}
	var errs []error
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("%sPUBLIC_URL=%q must be an absolute http(s) URL", envPrefix, cfg.PublicURL))
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	for _, limit := range []struct {
		name  string
		value int64
	}{
		{"MAX_BODY_BYTES", cfg.MaxBodyBytes}, {"MAX_MEDIA_BYTES", cfg.MaxMediaBytes},
		{"MAX_IMAGES", int64(cfg.MaxImages)}, {"MAX_TITLE", int64(cfg.MaxTitle)}, {"MAX_LEAD", int64(cfg.MaxLead)},
		{"MAX_PARAGRAPH", int64(cfg.MaxParagraph)}, {"MAX_BLOCKS", int64(cfg.MaxBlocks)},
	} {
		if limit.value <= 0 {
			errs = append(errs, fmt.Errorf("%s%s must be positive, got %d", envPrefix, limit.name, limit.value))
		}
	}
	errs = append(errs, cfg.checkCallerLimits()...)
	// A short secret would make sealed sessions guessable: refuse to start
	// rather than serve an editor app that answers 503.
	if cfg.SessionSecret != "" && len(cfg.SessionSecret) < websession.MinSecret {
		errs = append(errs, fmt.Errorf("%sSESSION_SECRET must be at least %d characters, got %d", envPrefix, websession.MinSecret, len(cfg.SessionSecret)))
	}
	if cfg.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%sSHUTDOWN_TIMEOUT must be positive", envPrefix))
	}
	return cfg, errors.Join(errs...)
}
