package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

// run starts ingest and blocks until ctx ends or the HTTP server fails.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	return serve(ctx, getenv, stdout, nil)
}

// serve is run with a hook for tests: started, when not nil, is called with
// the address the HTTP server listens on once every part is running.
func serve(ctx context.Context, getenv func(string) string, stdout io.Writer, started func(addr string)) (err error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("loading config: %w", err)
	}
	log := config.NewLogger(stdout, "ingest", cfg.LogLevel)
	log.Info("effective configuration", config.LogAttrs(envPrefix, &cfg)...)

	// Whatever was started is stopped in reverse order — HTTP, the status
	// consumer, NATS — bounded by one ShutdownTimeout, whether run ends
	// normally or part-way through start-up.
	var (
		b   *bus.Bus
		srv *httpx.Server
		sub *bus.Subscription
	)
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		stop := func(name string, f func(context.Context) error) {
			if serr := f(sctx); serr != nil {
				log.Error("shutdown", "step", name, "err", serr)
				err = errors.Join(err, fmt.Errorf("stopping %s: %w", name, serr))
			}
		}
		if srv != nil {
			stop("http", srv.Shutdown)
		}
		if sub != nil {
			stop("status consumer", sub.Stop)
		}
		if b != nil {
			stop("nats", b.Close)
		}
		log.Info("stopped")
	}()

	bc := cfg.NATS.Bus("ingest")
	bc.Logger = log
	if b, err = bus.Connect(bc); err != nil {
		return err
	}
	if err := b.Declare(ctx); err != nil {
		return err
	}

	store, err := blob.New(cfg.S3.Blob())
	if err != nil {
		return err
	}
	if err := store.EnsureBucket(ctx); err != nil {
		return err
	}

	buckets := map[string]jetstream.KeyValue{}
	for _, name := range []string{bus.BucketTenants, bus.BucketAPIKeys, bus.BucketArticles, bus.BucketIdempotency, bus.BucketMedia} {
		kv, err := b.KV(ctx, name)
		if err != nil {
			return err
		}
		buckets[name] = kv
	}

	svc := &service{
		cfg:         cfg,
		log:         log,
		bus:         b,
		blob:        store,
		tenants:     tenant.NewStore(buckets[bus.BucketTenants]),
		keys:        buckets[bus.BucketAPIKeys],
		articles:    buckets[bus.BucketArticles],
		idempotency: buckets[bus.BucketIdempotency],
		media:       buckets[bus.BucketMedia],
	}

	srv, err = httpx.Start(httpx.Options{
		Addr:    cfg.HTTPAddr,
		Handler: svc.routes(),
		Ready:   map[string]func(context.Context) error{"nats": b.Ready, "s3": store.Ready},
		Logger:  log,
	})
	if err != nil {
		return err
	}
	if sub, err = b.Consume(ctx, bus.ConsumerIngestStatus, svc.handleStatusEvent); err != nil {
		return err
	}

	log.Info("ingest ready", "addr", srv.Addr(), "public_url", cfg.PublicURL)
	if started != nil {
		started(srv.Addr())
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", context.Cause(ctx))
		return nil
	case serr, ok := <-srv.Err():
		if !ok {
			return errors.New("http server stopped")
		}
		return fmt.Errorf("http server: %w", serr)
	}
}
