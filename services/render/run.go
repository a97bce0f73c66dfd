package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

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
	r, err := newRenderer(ctx, b, s3Output{store}, cfg, log)
	if err != nil {
		return err
	}
	defer r.tenants.Stop()

	srv, err := httpx.Start(httpx.Options{
		Addr:    cfg.HTTPAddr,
		Handler: rebuildAPI(r, b.JetStream(), ctx),
		Ready:   map[string]func(context.Context) error{"nats": b.Ready, "s3": store.Ready},
		Logger:  log,
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
	refreshing.Go(func() { r.keepSchedule(refreshCtx) })
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

// invalidator publishes "site.invalidate.<tenant>" on core NATS: every site
// replica listening drops those paths from its cache. A replica that misses
// it (disconnected) drops its whole cache when it reconnects.
func invalidator(b *bus.Bus, log interface {
	Warn(msg string, args ...any)
}) func(tid string, paths []string) {
	return func(tid string, paths []string) {
		if err := b.Conn().Publish(bus.SubjectSiteInvalidate+"."+tid, []byte(strings.Join(paths, "\n"))); err != nil {
			log.Warn("announcing changed pages to site", "tenant", tid, "err", err)
		}
	}
}

// rebuildAPI serves render's internal port (not exposed to readers):
// POST /v1/tenants/{tenant}/rebuild, a full rebuild of the tenant answered
// with its figures when done, and POST /v1/tenants/{tenant}/preview (see
// preview.go).
func rebuildAPI(r *Renderer, js jetstream.JetStream, base context.Context) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tenants/{tenant}/preview", r.handlePreview)
	mux.HandleFunc("POST /v1/tenants/{tenant}/rebuild", func(w http.ResponseWriter, req *http.Request) {
		tid := req.PathValue("tenant")
		if err := tenant.ValidateID(tid); err != nil {
			httpx.Error(w, http.StatusBadRequest, err.Error())
			return
		}
		// The rebuild outlives a client that hangs up, not the service.
		ctx := context.WithoutCancel(req.Context())
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(base, cancel)
		defer stop()
		st, err := r.rebuildTenant(ctx, js, tid, nil)
		switch {
		case errors.Is(err, tenant.ErrNotFound):
			httpx.Error(w, http.StatusNotFound, err.Error())
		case err != nil:
			httpx.Error(w, http.StatusServiceUnavailable, err.Error())
		default:
			httpx.JSON(w, http.StatusOK, map[string]any{"tenant": tid, "articles": st.Articles, "taken_down": st.Removed,
				"files": st.Files, "index_writes": st.IndexWrites, "index_deletes": st.IndexDeletes, "seconds": st.Elapsed.Seconds()})
		}
	})
	return mux
}
