package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

const serviceName = "moderation"

// run wires the service, serves until ctx ends or the HTTP server fails, then
// shuts down within the configured timeout.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) (err error) {
	var cfg Config
	if err := config.Load(envPrefix, getenv, &cfg); err != nil {
		return fmt.Errorf("loading configuration: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("checking configuration: %w", err)
	}
	log := config.NewLogger(stdout, serviceName, cfg.LogLevel)
	log.Info("effective configuration", config.LogAttrs(envPrefix, &cfg)...)
	secret := []byte(cfg.SessionSecret)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails
		log.Warn(envPrefix + "SESSION_SECRET is not set: review desk sessions end when this process stops and are not shared with other replicas")
	}
	pg, err := parsePages()
	if err != nil {
		return err
	}
	sess, err := newSessions(secret, cfg.SessionTTL, cfg.CookieSecure)
	if err != nil {
		return fmt.Errorf("review desk sessions: %w", err)
	}

	busCfg := cfg.NATS.Bus(serviceName)
	busCfg.Logger = log
	b, err := bus.Connect(busCfg)
	if err != nil {
		return err
	}
	// Until the normal shutdown below takes over, an early return still
	// stops the watches and drains NATS.
	var tenants *tenant.Store
	var idx *index
	early := true
	defer func() {
		if !early {
			return
		}
		if idx != nil {
			idx.stop()
		}
		if tenants != nil {
			tenants.Stop()
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		err = errors.Join(err, b.Close(sctx))
	}()
	if err := b.Declare(ctx); err != nil {
		return startAborted(ctx, err)
	}
	kv, err := b.KV(ctx, bus.BucketTenants)
	if err != nil {
		return startAborted(ctx, err)
	}
	store := tenant.NewStore(kv)
	if err := store.Watch(ctx); err != nil {
		return startAborted(ctx, err)
	}
	tenants = store
	keys, err := b.KV(ctx, bus.BucketAPIKeys)
	if err != nil {
		return startAborted(ctx, err)
	}
	records, err := b.KV(ctx, bus.BucketModeration)
	if err != nil {
		return startAborted(ctx, err)
	}
	ikv, err := b.KV(ctx, bus.BucketModerationIndex)
	if err != nil {
		return startAborted(ctx, err)
	}
	ix := newIndex(ikv)
	if err := ix.watch(ctx); err != nil {
		return startAborted(ctx, err)
	}
	idx = ix
	articles, err := b.JetStream().Stream(ctx, bus.StreamArticles)
	if err != nil {
		return startAborted(ctx, fmt.Errorf("opening stream %s: %w", bus.StreamArticles, err))
	}
	audit, err := b.JetStream().Stream(ctx, bus.StreamAudit)
	if err != nil {
		return startAborted(ctx, fmt.Errorf("opening stream %s: %w", bus.StreamAudit, err))
	}

	reg := httpx.NewRegistry()
	verdicts, err := newVerdictCounter(reg)
	if err != nil {
		return err
	}
	s := &service{
		cfg: cfg, log: log, bus: b, tenants: tenants, keys: apikey.NewStore(keys), records: records, index: idx,
		articles: articles, audit: audit, pages: pg, verdicts: verdicts, now: time.Now,
		sessions: sess,
		timeout:  bus.Consumers[bus.ConsumerModeration].AckWait * 2 / 3,
	}

	srv, err := httpx.Start(httpx.Options{
		Addr:     cfg.HTTPAddr,
		Handler:  s.routes(),
		Ready:    map[string]func(context.Context) error{"nats": b.Ready},
		Registry: reg,
		Logger:   log,
	})
	if err != nil {
		return err
	}
	sub, err := b.Consume(ctx, bus.ConsumerModeration, s.handle)
	if err != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, srv.Shutdown(sctx))
	}
	log.Info("consuming", "consumer", bus.ConsumerModeration)
	rctx, stopReconcile := context.WithCancel(context.WithoutCancel(ctx))
	var reconciling sync.WaitGroup
	reconciling.Go(func() { s.reconcile(rctx) })

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case serr := <-srv.Err():
		err = fmt.Errorf("http server: %w", serr)
		log.Error("http server failed, shutting down", "err", serr)
	}

	early = false
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	err = errors.Join(err, srv.Shutdown(sctx), sub.Stop(sctx))
	stopReconcile()
	reconciling.Wait()
	idx.stop()
	tenants.Stop()
	return errors.Join(err, b.Close(sctx))
}

// startAborted reports a start-up step that gave up: a signal while waiting
// for NATS is a clean exit, anything else an error.
func startAborted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
