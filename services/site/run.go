package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

// run wires configuration, clients and the HTTP server, serves until ctx
// ends or the server fails, then shuts down in reverse order.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) (err error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := config.NewLogger(stdout, "site", cfg.LogLevel)

	busCfg := cfg.NATS.Bus("site")
	busCfg.Logger = log
	b, err := bus.Connect(busCfg)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		err = errors.Join(err, b.Close(sctx))
	}()
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
	tenantsKV, err := b.KV(ctx, bus.BucketTenants)
	if err != nil {
		return err
	}
	tenants := tenant.NewStore(tenantsKV)
	if err := tenants.Watch(ctx); err != nil {
		return err
	}
	defer tenants.Stop()

	pages, err := parseTemplates()
	if err != nil {
		return err
	}
	site := &Site{store: store, tenants: tenants, pages: pages, s3Timeout: cfg.S3Timeout, log: log}

	srv, err := httpx.Start(httpx.Options{
		Addr:    cfg.HTTPAddr,
		Handler: site,
		Ready:   map[string]func(context.Context) error{"nats": b.Ready, "s3": store.Ready},
		Logger:  log,
	})
	if err != nil {
		return err
	}
	log.Info("effective configuration", config.LogAttrs(envPrefix, cfg)...)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-srv.Err():
		err = fmt.Errorf("http server: %w", err)
		log.Error("shutting down", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(err, srv.Shutdown(sctx))
}
