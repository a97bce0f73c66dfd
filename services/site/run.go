package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

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
	if cfg.CacheBytes > 0 {
		site.cache = newPageCache(cfg.CacheBytes, cfg.CacheTTL)
	}
	subs, err := subscribeInvalidations(b, site.cache, log)
	if err != nil {
		return err
	}
	defer func() {
		for _, sub := range subs {
			_ = sub.Unsubscribe()
		}
	}()

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

// subscribeInvalidations listens, on plain NATS subscriptions (each replica
// sees every message, unlike a shared durable consumer), to
// article.published (its changed paths) and site.invalidate (render's
// unpublish and rebuild), marking those pages stale. After a reconnect,
// when messages may have been missed, the whole cache is marked stale.
func subscribeInvalidations(b *bus.Bus, c *pageCache, log *slog.Logger) ([]*nats.Subscription, error) {
	if c == nil {
		return nil, nil
	}
	nc := b.Conn()
	published, err := nc.Subscribe(bus.TypeArticlePublished+".*", func(m *nats.Msg) {
		env := &eventsv1.Envelope{}
		if proto.Unmarshal(m.Data, env) != nil || tenant.ValidateID(env.GetTenant()) != nil {
			return
		}
		p := env.GetArticlePublished()
		n := c.invalidate(env.GetTenant(), append(p.GetChangedPaths(), p.GetPath()))
		log.Debug("pages changed", "tenant", env.GetTenant(), "article", p.GetArticleId(), "stale", n)
	})
	if err != nil {
		return nil, fmt.Errorf("subscribing to article.published: %w", err)
	}
	invalidate, err := nc.Subscribe(bus.SubjectSiteInvalidate+".*", func(m *nats.Msg) {
		tid := strings.TrimPrefix(m.Subject, bus.SubjectSiteInvalidate+".")
		if tenant.ValidateID(tid) != nil {
			return
		}
		n := c.invalidate(tid, strings.Split(string(m.Data), "\n"))
		log.Debug("pages changed", "tenant", tid, "stale", n)
	})
	if err != nil {
		_ = published.Unsubscribe()
		return nil, fmt.Errorf("subscribing to %s: %w", bus.SubjectSiteInvalidate, err)
	}
	nc.SetReconnectHandler(func(conn *nats.Conn) {
		log.Info("nats reconnected; cached pages will be fetched again", "url", conn.ConnectedUrl())
		c.invalidate("", []string{"*"})
	})
	return []*nats.Subscription{published, invalidate}, nil
}
