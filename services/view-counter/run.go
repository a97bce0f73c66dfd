package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/httpx"
)

// run starts the service and blocks until ctx ends or the HTTP server fails,
// then shuts down within the configured timeout.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("loading configuration: %w", err)
	}
	log := config.NewLogger(stdout, serviceName, cfg.LogLevel)
	log.Info("effective configuration", config.LogAttrs(envPrefix, &cfg)...)
	// go-redis logs every failed dial to stderr on its own; while Redis is
	// down that is a line per request. Our own warnings say it once per
	// batch, so its lines go to debug.
	redis.SetLogger(redisLogger{log})

	svc, err := start(ctx, cfg, log)
	if err != nil {
		return err
	}
	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case serveErr = <-svc.http.Err():
		log.Error("http server failed", "err", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, svc.shutdown(sctx))
}

// service is the running parts, kept together so that they stop in reverse
// order of start.
type service struct {
	bus  *bus.Bus
	rdb  redis.UniversalClient
	http *httpx.Server
	agg  *aggregator
	base *bus.Subscription
	log  *slog.Logger
}

// start wires config → clients → logic → servers. On error, whatever was
// started is stopped again.
func start(ctx context.Context, cfg Config, log *slog.Logger) (_ *service, err error) {
	s := &service{log: log}
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			_ = s.shutdown(sctx)
		}
	}()

	busCfg := cfg.NATS.Bus(serviceName)
	busCfg.Logger = log
	if s.bus, err = bus.Connect(busCfg); err != nil {
		return nil, err
	}
	if err = s.bus.Declare(ctx); err != nil {
		return nil, err
	}

	// One address: a plain client; several: a Redis Cluster client.
	s.rdb = redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 cfg.RedisAddrs,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
		ContextTimeoutEnabled: true,
		// Fail fast while Redis is down (views wait in JetStream anyway);
		// MaxRetries still covers stale connections after a Redis restart.
		DialerRetries: 2,
	})
	// Redis being down is not fatal: beacons only need JetStream, views wait
	// in the stream, and /readyz says what is missing.
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	if perr := s.rdb.Ping(pctx).Err(); perr != nil {
		log.Warn("redis not reachable yet; beacons are accepted and counted once it is", "addr", strings.Join(cfg.RedisAddrs, ","), "err", perr)
	}
	cancel()

	salt := cfg.ReaderSalt
	if salt == "" {
		salt = randomSalt()
		log.Warn(envPrefix + "READER_SALT is not set: using a random salt, so reader hashes change on restart and differ between replicas")
	}

	reg := httpx.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	api := &beaconAPI{pub: s.bus, counts: s.rdb, salt: salt, log: log, m: m}

	s.http, err = httpx.Start(httpx.Options{
		Addr:    cfg.HTTPAddr,
		Handler: api.routes(),
		Ready: map[string]func(context.Context) error{
			"nats":  s.bus.Ready,
			"redis": func(ctx context.Context) error { return s.rdb.Ping(ctx).Err() },
		},
		Registry: reg,
		Logger:   log,
	})
	if err != nil {
		return nil, err
	}
	if s.agg, err = startAggregator(ctx, s.bus, s.rdb, cfg.BatchSize, log, m); err != nil {
		return nil, err
	}
	if s.base, err = s.bus.Consume(ctx, bus.ConsumerViewBaseCounts, handlePublished(s.rdb, m)); err != nil {
		return nil, err
	}
	return s, nil
}

// shutdown stops in reverse: HTTP (no new beacons), consumers (the batch in
// hand is applied and acked), NATS (drained), Redis — all within ctx.
func (s *service) shutdown(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		errs = append(errs, s.http.Shutdown(ctx))
	}
	if s.agg != nil {
		errs = append(errs, s.agg.Stop(ctx))
	}
	if s.base != nil {
		errs = append(errs, s.base.Stop(ctx))
	}
	if s.bus != nil {
		errs = append(errs, s.bus.Close(ctx))
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	err := errors.Join(errs...)
	if err != nil {
		s.log.Error("shutdown incomplete", "err", err)
	} else {
		s.log.Info("stopped")
	}
	return err
}

func randomSalt() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// redisLogger is go-redis's process-wide logger, at debug level.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
