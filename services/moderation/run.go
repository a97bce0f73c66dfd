package main

import (
	"context"
	"errors"
	"fmt"
	"io"

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

	busCfg := cfg.NATS.Bus(serviceName)
	busCfg.Logger = log
	b, err := bus.Connect(busCfg)
	if err != nil {
		return err
	}
	// Until the normal shutdown below takes over, an early return still
	// stops the tenant watch and drains NATS.
	var tenants *tenant.Store
	early := true
	defer func() {
		if !early {
			return
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

	reg := httpx.NewRegistry()
	verdicts, err := newVerdictCounter(reg)
	if err != nil {
		return err
	}
	m := &moderator{
		tenants:  tenants,
		bus:      b,
		timeout:  bus.Consumers[bus.ConsumerModeration].AckWait * 2 / 3,
		log:      log,
		verdicts: verdicts,
	}

	srv, err := httpx.Start(httpx.Options{
		Addr:     cfg.HTTPAddr,
		Ready:    map[string]func(context.Context) error{"nats": b.Ready},
		Registry: reg,
		Logger:   log,
	})
	if err != nil {
		return err
	}
	sub, err := b.Consume(ctx, bus.ConsumerModeration, m.handle)
	if err != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, srv.Shutdown(sctx))
	}
	log.Info("consuming", "consumer", bus.ConsumerModeration)

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
