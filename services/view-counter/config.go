package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	_ "time/tzdata" // the reader's day is Vietnamese even where the host has no zoneinfo

	"github.com/blocpress/blocpress/libs/config"
)

const (
	serviceName = "view-counter"
	envPrefix   = "VIEW_COUNTER_"
	// maxBatchSize keeps what one aggregator holds unacknowledged within the
	// consumer's MaxAckPending (1000, libs/bus), so one replica never starves
	// another.
	maxBatchSize = 1000
)

// Config is read from VIEW_COUNTER_* variables plus the shared NATS_* ones.
type Config struct {
	config.Common
	HTTPAddr string `env:"HTTP_ADDR" default:":8083" help:"listen address for beacons, counts, /healthz, /readyz and /metrics"`
	// RedisAddrs is one address for a single Redis, or several (comma
	// separated) seed nodes of a Redis Cluster; keys are Cluster-safe.
	RedisAddrs []string `env:"REDIS_ADDR" default:"127.0.0.1:6379" help:"Redis holding the counters; several addresses mean a Redis Cluster"`
	// ReaderSalt is the secret from which each day's reader salt is derived
	// (HMAC-SHA256 of the date), so that every replica hashes a reader alike
	// on a given day and no hash can be linked to the next day's.
	ReaderSalt string `env:"READER_SALT" secret:"true" help:"secret the daily reader salt is derived from; the same on every replica; random per process when unset"`
	// TimeZone decides when a day (reader salt, today's most-read list,
	// unique readers per day) starts.
	TimeZone string `env:"TIMEZONE" default:"Asia/Ho_Chi_Minh" help:"time zone of the readers' day"`
	// SiteOrigins are origins allowed to send beacons for every tenant: the
	// public site when it serves tenants under a path prefix
	// (http://localhost:8080/hungyen/). A tenant's own hosts (its
	// configuration's hosts) are allowed for that tenant on any scheme and port.
	SiteOrigins []string `env:"SITE_ORIGINS" default:"http://localhost:8080" help:"origins (scheme://host[:port]) allowed for every tenant, besides each tenant's own hosts"`
	// TrustedProxies are the load balancers whose X-Forwarded-For is
	// believed; the client is the right-most address not in these ranges.
	TrustedProxies []string `env:"TRUSTED_PROXIES" help:"CIDRs of proxies whose X-Forwarded-For is trusted, e.g. 10.0.0.0/8"`
	IPRate         float64  `env:"IP_RATE" default:"2" help:"beacons per second one IP (an IPv6 /64) may send on average; 0 disables the limit"`
	IPBurst        int      `env:"IP_BURST" default:"60" help:"beacons one IP may send at once before IP_RATE applies"`
	BotsFile       string   `env:"BOTS_FILE" help:"file of user-agent patterns that are not counted; replaces the built-in list (bots.txt)"`
	// PublishTimeout bounds how long a beacon waits for JetStream, retries
	// included, before it is answered 503.
	PublishTimeout time.Duration `env:"PUBLISH_TIMEOUT" default:"3s" help:"how long a beacon waits for JetStream before 503"`
	// MaxBatchViews is how many views one JetStream message carries at most.
	MaxBatchViews int `env:"MAX_BATCH_VIEWS" default:"512" help:"views coalesced into one JetStream message at most"`
	// Publishers is how many coalesced messages are on their way to
	// JetStream at once; while they are, new views gather in the next one.
	// One is the default: on loopback one message in flight carries about
	// 17 views at the benchmark's load instead of 11 with two, so NATS, the
	// acks and the aggregator handle a third fewer messages, for as many
	// beacons a second (bench/README.md).
	Publishers int `env:"PUBLISHERS" default:"1" help:"coalesced view messages published concurrently"`
	// Aggregators is how many folding loops this process runs; 0 makes it a
	// front that only accepts beacons and answers reads.
	Aggregators int `env:"AGGREGATORS" default:"1" help:"aggregator loops folding views into Redis; 0 = beacons and reads only"`
	BatchSize   int `env:"BATCH_SIZE" default:"500" help:"JetStream messages one aggregator folds at once at most"`
	// PprofAddr serves net/http/pprof on its own listener, apart from the
	// public one, so that a loaded instance can be profiled (bench/run.sh
	// -profile); off unless set, and meant for loopback.
	PprofAddr string `env:"PPROF_ADDR" help:"address serving /debug/pprof (e.g. 127.0.0.1:6060); empty = off"`
}

func loadConfig(getenv func(string) string) (Config, error) {
	var cfg Config
	if err := config.Load(envPrefix, getenv, &cfg); err != nil {
		return Config{}, err
	}
	var errs []error
	if cfg.BatchSize < 1 || cfg.BatchSize > maxBatchSize {
		errs = append(errs, fmt.Errorf("%sBATCH_SIZE must be between 1 and %d, got %d", envPrefix, maxBatchSize, cfg.BatchSize))
	}
	if len(cfg.RedisAddrs) == 0 {
		errs = append(errs, errors.New(envPrefix+"REDIS_ADDR is empty"))
	}
	if cfg.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New(envPrefix+"SHUTDOWN_TIMEOUT must be positive"))
	}
	if _, err := time.LoadLocation(cfg.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("%sTIMEZONE: %w", envPrefix, err))
	}
	if _, err := parseOrigins(cfg.SiteOrigins); err != nil {
		errs = append(errs, fmt.Errorf("%sSITE_ORIGINS: %w", envPrefix, err))
	}
	if _, err := parsePrefixes(cfg.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("%sTRUSTED_PROXIES: %w", envPrefix, err))
	}
	if cfg.IPRate < 0 || cfg.IPBurst < 1 {
		errs = append(errs, fmt.Errorf("%sIP_RATE must be ≥ 0 and %sIP_BURST ≥ 1", envPrefix, envPrefix))
	}
	if cfg.PublishTimeout <= 0 {
		errs = append(errs, errors.New(envPrefix+"PUBLISH_TIMEOUT must be positive"))
	}
	if cfg.MaxBatchViews < 1 || cfg.MaxBatchViews > maxChunkViews {
		errs = append(errs, fmt.Errorf("%sMAX_BATCH_VIEWS must be between 1 and %d", envPrefix, maxChunkViews))
	}
	if cfg.Publishers < 1 || cfg.Publishers > 64 {
		errs = append(errs, errors.New(envPrefix+"PUBLISHERS must be between 1 and 64"))
	}
	if cfg.Aggregators < 0 || cfg.Aggregators > 16 {
		errs = append(errs, errors.New(envPrefix+"AGGREGATORS must be between 0 and 16"))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// parseOrigins normalises "scheme://host[:port]" origins to lower case.
func parseOrigins(raw []string) ([]string, error) {
	out := make([]string, 0, len(raw))
	for _, o := range raw {
		o = strings.ToLower(strings.TrimSuffix(o, "/"))
		rest, ok := strings.CutPrefix(o, "http://")
		if !ok {
			rest, ok = strings.CutPrefix(o, "https://")
		}
		if !ok || rest == "" || strings.ContainsAny(rest, "/?#@ ") {
			return nil, fmt.Errorf("%q is not an origin like https://example.org or http://localhost:8080", o)
		}
		out = append(out, o)
	}
	return out, nil
}

// parsePrefixes reads CIDRs; a bare address is a /32 or /128.
func parsePrefixes(raw []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range raw {
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
