package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"

	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

const (
	// maxBeaconBody: a beacon carries nothing we read, but sendBeacon always
	// sends a body (text/plain); anything larger is not a beacon.
	maxBeaconBody = 1 << 10
	// readTimeout bounds a read of counts from Redis.
	readTimeout = 2 * time.Second
)

// tenantLookup is what the API needs of libs/tenant.Store (watched).
type tenantLookup interface {
	Get(ctx context.Context, id string) (*tenant.Tenant, error)
}

// countReader is what the read endpoints need of Redis.
type countReader interface {
	redis.Cmdable
}

// api serves the public, unauthenticated endpoints that readers' pages call,
// and the operational ones.
type api struct {
	tenants tenantLookup
	origins *originPolicy
	clients *clientIPs
	bots    *botFilter
	limiter *ipLimiter
	readers *readerHasher
	batcher *batcher
	rdb     countReader
	cal     calendar
	log     *slog.Logger
	m       *metrics
	now     func() time.Time

	// set by startServer
	stats          *requestStats
	metricsHandler fasthttp.RequestHandler
	ready, info    map[string]func(context.Context) error
}

// handle routes a request and records its metrics.
func (a *api) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	route := a.dispatch(ctx)
	if a.stats != nil {
		a.stats.byRoute[route].observe(ctx.Response.StatusCode(), time.Since(start))
	}
}

var (
	pathTenants = []byte("/v1/tenants/")
	segViews    = []byte("views")
)

// dispatch serves the request and names its route.
func (a *api) dispatch(ctx *fasthttp.RequestCtx) string {
	path := ctx.Path()
	method := ctx.Method()
	rest, ok := bytes.CutPrefix(path, pathTenants)
	if !ok {
		switch string(path) {
		case "/healthz":
			if onlyGet(ctx) {
				a.healthz(ctx)
			}
			return routeHealth
		case "/readyz":
			if onlyGet(ctx) {
				a.readyz(ctx)
			}
			return routeReady
		case "/metrics":
			if onlyGet(ctx) {
				a.metricsHandler(ctx)
			}
			return routeMetrics
		}
		problem(ctx, fasthttp.StatusNotFound, "no such endpoint")
		return routeUnmatched
	}
	tenantID, rest, _ := bytes.Cut(rest, []byte{'/'})
	sub, ok := bytes.CutPrefix(rest, segViews)
	if !ok || (len(sub) > 0 && sub[0] != '/') {
		problem(ctx, fasthttp.StatusNotFound, "no such endpoint")
		return routeUnmatched
	}
	sub = bytes.TrimPrefix(sub, []byte{'/'})
	if string(method) == fasthttp.MethodOptions {
		a.preflight(ctx, tenantID)
		return routePreflight
	}
	var route string
	var serve func(*fasthttp.RequestCtx, *tenant.Tenant)
	post := false
	switch string(sub) {
	case "":
		route, serve = routeCounts, a.getCounts
	case "most-read":
		route, serve = routeMostRead, a.getMostRead
	case "readers":
		route, serve = routeReaders, a.getReaders
	case "categories":
		route, serve = routeCategories, a.getCategories
	default:
		route, post = routeBeacon, true
	}
	if post {
		if string(method) != fasthttp.MethodPost {
			ctx.Response.Header.Set("Allow", "POST, OPTIONS")
			problem(ctx, fasthttp.StatusMethodNotAllowed, "beacons are POSTed")
			return route
		}
		a.postView(ctx, tenantID, sub)
		return route
	}
	if !onlyGet(ctx) {
		return route
	}
	t := a.tenant(ctx, tenantID)
	if t == nil {
		return route
	}
	a.cors(ctx, t)
	serve(ctx, t)
	return route
}

func onlyGet(ctx *fasthttp.RequestCtx) bool {
	if ctx.IsGet() || ctx.IsHead() {
		return true
	}
	ctx.Response.Header.Set("Allow", "GET, HEAD")
	problem(ctx, fasthttp.StatusMethodNotAllowed, "only GET")
	return false
}

// tenant answers 400 or 404 itself and returns nil when the path's tenant
// is not one.
func (a *api) tenant(ctx *fasthttp.RequestCtx, id []byte) *tenant.Tenant {
	if !validTenantID(id) {
		problem(ctx, fasthttp.StatusBadRequest, "invalid tenant id",
			httpx.FieldError{Field: "tenant", Message: "must match [a-z0-9-]{2,32}", Limit: 32})
		return nil
	}
	t, err := a.tenants.Get(context.Background(), bytesString(id))
	if errors.Is(err, tenant.ErrNotFound) {
		problem(ctx, fasthttp.StatusNotFound, "unknown tenant")
		return nil
	}
	if err != nil {
		a.log.Warn("reading tenant", "tenant", string(id), "err", err)
		problem(ctx, fasthttp.StatusServiceUnavailable, "tenants are unavailable, try again later")
		return nil
	}
	return t
}

// requestOrigin is the Origin header, else the origin of the Referer.
func requestOrigin(ctx *fasthttp.RequestCtx) []byte {
	if o := ctx.Request.Header.Peek("Origin"); len(o) > 0 {
		return o
	}
	return refererOrigin(ctx.Request.Header.Peek("Referer"))
}

// cors lets the page read the answer when its origin is allowed for t. The
// answer is the same for everyone; only the header varies.
func (a *api) cors(ctx *fasthttp.RequestCtx, t *tenant.Tenant) bool {
	h := &ctx.Response.Header
	h.Set("Vary", "Origin")
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 || !a.origins.allowed(t, origin) {
		return false
	}
	h.SetBytesV("Access-Control-Allow-Origin", origin)
	return true
}

// preflight answers a CORS preflight: allowed origins only.
func (a *api) preflight(ctx *fasthttp.RequestCtx, tenantID []byte) {
	t := a.tenant(ctx, tenantID)
	if t == nil {
		return
	}
	if !a.cors(ctx, t) {
		problem(ctx, fasthttp.StatusForbidden, "this origin may not call the view counter of this tenant")
		return
	}
	h := &ctx.Response.Header
	h.Set("Access-Control-Allow-Methods", "POST, GET")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// isPrefetch: a page fetched (or prerendered) ahead of a click has not been
// read; neither has its beacon.
func isPrefetch(h *fasthttp.RequestHeader) bool {
	return bytes.Contains(h.Peek("Sec-Purpose"), []byte("prefetch")) ||
		bytes.Contains(h.Peek("Purpose"), []byte("prefetch")) ||
		bytes.Contains(h.Peek("X-Moz"), []byte("prefetch")) ||
		bytes.Equal(h.Peek("X-Purpose"), []byte("preview"))
}

// postView records one view: 204 once JetStream has stored it (or when it
// is not to be counted: bots, prefetches), 429 over the per-IP limit, 503 if
// it could not be stored in time. The raw IP is used for the limit and the
// reader hash, and goes nowhere else.
func (a *api) postView(ctx *fasthttp.RequestCtx, tenantID, article []byte) {
	t := a.tenant(ctx, tenantID)
	if t == nil {
		a.m.outcome(outcomeInvalid)
		return
	}
	if !validArticleID(article) {
		a.m.outcome(outcomeInvalid)
		problem(ctx, fasthttp.StatusBadRequest, "invalid article id",
			httpx.FieldError{Field: "article", Message: "article ids match [a-z0-9]{1,40}", Limit: 40})
		return
	}
	if origin := requestOrigin(ctx); len(origin) > 0 {
		if !a.origins.allowed(t, origin) {
			a.m.outcome(outcomeForeignOrigin)
			problem(ctx, fasthttp.StatusForbidden, "beacons for this tenant come from its own site only")
			return
		}
		a.cors(ctx, t)
	}
	h := &ctx.Request.Header
	if isPrefetch(h) {
		a.m.outcome(outcomePrefetch)
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	ua := h.UserAgent()
	if a.bots.isBot(ua) {
		if len(ua) == 0 {
			a.m.outcome(outcomeNoUserAgent)
		} else {
			a.m.outcome(outcomeBot)
		}
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	ip := a.clients.resolve(ctx.RemoteIP(), h.Peek("X-Forwarded-For"))
	now := a.now()
	if !a.limiter.allow(ip, now.UnixNano()) {
		a.m.outcome(outcomeRateLimited)
		ctx.Response.Header.Set("Retry-After", "1")
		problem(ctx, fasthttp.StatusTooManyRequests, "too many beacons from this address")
		return
	}
	salt := a.readers.saltFor(now)
	var reader [readerHexLen]byte
	salt.reader(&reader, ip, ua)
	pb, err := a.batcher.add(tenantID, article, &reader, salt.day)
	if err == nil {
		<-pb.done
		err = pb.err
	}
	if err != nil {
		a.m.outcome(outcomeUnavailable)
		ctx.Response.Header.Set("Retry-After", "5")
		problem(ctx, fasthttp.StatusServiceUnavailable, "the view could not be recorded, try again later")
		return
	}
	a.m.outcome(outcomeAccepted)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// validTenantID is libs/tenant.ValidateID without the allocation.
func validTenantID(b []byte) bool {
	if len(b) < 2 || len(b) > 32 {
		return false
	}
	for _, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// validArticleID accepts ingest's ids ([a-z0-9]{16}) and legacy ones.
func validArticleID(b []byte) bool {
	if len(b) < 1 || len(b) > 40 {
		return false
	}
	for _, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
