package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sync/semaphore"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/httpx"
)

const serviceName = "image-resize"

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
	// drains NATS.
	closeBus := true
	defer func() {
		if closeBus {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
			defer cancel()
			err = errors.Join(err, b.Close(sctx))
		}
	}()
	if err := b.Declare(ctx); err != nil {
		return startAborted(ctx, err)
	}
	blobs, err := blob.New(cfg.S3.Blob())
	if err != nil {
		return err
	}
	if err := blobs.EnsureBucket(ctx); err != nil {
		return startAborted(ctx, err)
	}
	manifests, err := b.KV(ctx, bus.BucketMedia)
	if err != nil {
		return startAborted(ctx, err)
	}

	reg := httpx.NewRegistry()
	outcomes, seconds, err := newMetrics(reg)
	if err != nil {
		return err
	}
	r := &resizer{
		blobs:      blobs,
		manifests:  manifests,
		bus:        b,
		options:    cfg.photoOptions(),
		maxBytes:   cfg.MaxBytes,
		budget:     semaphore.NewWeighted(cfg.PixelBudget),
		budgetSize: cfg.PixelBudget,
		timeout:    bus.Consumers[bus.ConsumerImageResize].AckWait * 3 / 4,
		log:        log,
		outcomes:   outcomes,
		seconds:    seconds,
	}

	srv, err := httpx.Start(httpx.Options{
		Addr:     cfg.HTTPAddr,
		Ready:    map[string]func(context.Context) error{"nats": b.Ready, "s3": blobs.Ready},
		Registry: reg,
		Logger:   log,
	})
	if err != nil {
		return err
	}
	sub, err := b.Consume(ctx, bus.ConsumerImageResize, r.handle)
	if err != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, srv.Shutdown(sctx))
	}
	log.Info("consuming", "consumer", bus.ConsumerImageResize)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case serr := <-srv.Err():
		err = fmt.Errorf("http server: %w", serr)
		log.Error("http server failed, shutting down", "err", serr)
	}

	closeBus = false
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(err, srv.Shutdown(sctx), sub.Stop(sctx), b.Close(sctx))
}

// startAborted reports a start-up step that gave up: a signal while waiting
// for NATS or S3 is a clean exit, anything else an error.
func startAborted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
