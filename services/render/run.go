package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

// run wires configuration, clients, the renderer and its servers, serves
// until ctx ends or a server fails, then shuts down in reverse order.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) (err error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := config.NewLogger(stdout, "render", cfg.LogLevel)

	busCfg := cfg.NATS.Bus("render")
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
	mediaKV, err := b.KV(ctx, bus.BucketMedia)
	if err != nil {
		return err
	}
	indexKV, err := b.KV(ctx, bus.BucketRenderIndex)
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
	r := &Renderer{
		store: store, media: mediaKV, index: indexKV, tenants: tenants, bus: b, pages: pages,
		siteURL: cfg.SiteURL, viewsURL: cfg.ViewsURL, log: log, seen: map[string]string{},
	}

	srv, err := httpx.Start(httpx.Options{
		Addr:   cfg.HTTPAddr,
		Ready:  map[string]func(context.Context) error{"nats": b.Ready, "s3": store.Ready},
		Logger: log,
	})
	if err != nil {
		return err
	}
	sub, err := b.Consume(ctx, bus.ConsumerRender, r.Handle)
	if err != nil {
		_ = srv.Shutdown(context.WithoutCancel(ctx))
		return err
	}
	refreshCtx, stopRefresh := context.WithCancel(ctx)
	var refreshing sync.WaitGroup
	refreshing.Go(func() { r.keepSitesCurrent(refreshCtx) })
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
	err = errors.Join(err, srv.Shutdown(sctx))
	stopRefresh()
	refreshing.Wait()
	err = errors.Join(err, sub.Stop(sctx))
	return err
}
