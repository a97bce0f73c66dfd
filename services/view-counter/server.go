package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/blocpress/blocpress/libs/httpx"
)

// The public listener is fasthttp rather than libs/httpx (net/http): on the
// 2-core machine of `make bench-views`, net/http answers an empty handler at
// about 65 000 requests/s and fasthttp at about 95 000 — and a beacon has to
// beat Redis's plain INCR (about 85 000/s there). The listener keeps httpx's
// contract: /healthz, /readyz and /metrics (with the same request metrics),
// RFC 9457 problems, graceful shutdown, the listener opened up front.

// server is the running public listener.
type server struct {
	srv  *fasthttp.Server
	ln   net.Listener
	errc chan error
}

// serverOptions are what startServer needs besides the API.
type serverOptions struct {
	Addr     string
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Ready checks gate /readyz; Info checks are shown there but do not fail it.
	Ready map[string]func(context.Context) error
	Info  map[string]func(context.Context) error
}

func startServer(a *api, o serverOptions) (*server, error) {
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", o.Addr, err)
	}
	stats, err := newRequestStats(o.Registry)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	a.stats = stats
	a.metricsHandler = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{}))
	a.ready, a.info = o.Ready, o.Info
	s := &server{
		ln: ln,
		srv: &fasthttp.Server{
			Handler:               a.handle,
			ErrorHandler:          a.handleError,
			NoDefaultServerHeader: true,
			NoDefaultContentType:  true,
			ReadTimeout:           10 * time.Second,
			WriteTimeout:          10 * time.Second,
			IdleTimeout:           2 * time.Minute,
			ReadBufferSize:        8 << 10,
			MaxRequestBodySize:    maxBeaconBody,
			CloseOnShutdown:       true,
			Logger:                fasthttpLogger{o.Logger},
		},
		errc: make(chan error, 1),
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil {
			s.errc <- err
		}
		close(s.errc)
	}()
	o.Logger.Info("http listening", "addr", ln.Addr().String())
	return s, nil
}

// Addr is the address actually listened on.
func (s *server) Addr() string { return s.ln.Addr().String() }

// Err delivers an error if serving stops on its own.
func (s *server) Err() <-chan error { return s.errc }

// Shutdown stops accepting connections and waits for the requests in flight
// (a beacon waits for its JetStream ack), bounded by ctx.
func (s *server) Shutdown(ctx context.Context) error {
	if err := s.srv.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("shutting down http: %w", err)
	}
	return nil
}

type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "fasthttp")
}

// Routes, named as libs/httpx names them in its metrics.
const (
	routeBeacon     = "POST /v1/tenants/{tenant}/views/{article}"
	routeCounts     = "GET /v1/tenants/{tenant}/views"
	routeMostRead   = "GET /v1/tenants/{tenant}/views/most-read"
	routeReaders    = "GET /v1/tenants/{tenant}/views/readers"
	routeCategories = "GET /v1/tenants/{tenant}/views/categories"
	routePreflight  = "OPTIONS /v1/tenants/{tenant}/views/*"
	routeHealth     = "GET /healthz"
	routeReady      = "GET /readyz"
	routeMetrics    = "GET /metrics"
	routeUnmatched  = "unmatched"
)

var allRoutes = []string{routeBeacon, routeCounts, routeMostRead, routeReaders, routeCategories,
	routePreflight, routeHealth, routeReady, routeMetrics, routeUnmatched}

// requestStats are httpx's request metrics, with the label lookups done
// once per route and status code instead of once per request.
type requestStats struct {
	byRoute map[string]*routeStats
}

type routeStats struct {
	requests *prometheus.CounterVec
	name     string
	duration prometheus.Observer
	mu       sync.Mutex
	codes    atomic.Pointer[map[int]prometheus.Counter]
}

func newRequestStats(reg prometheus.Registerer) (*requestStats, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route"})
	for _, c := range []prometheus.Collector{requests, duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	s := &requestStats{byRoute: map[string]*routeStats{}}
	for _, r := range allRoutes {
		rs := &routeStats{requests: requests, name: r, duration: duration.WithLabelValues(r)}
		rs.codes.Store(&map[int]prometheus.Counter{})
		s.byRoute[r] = rs
	}
	return s, nil
}

func (r *routeStats) observe(code int, d time.Duration) {
	r.duration.Observe(d.Seconds())
	c, ok := (*r.codes.Load())[code]
	if !ok {
		r.mu.Lock()
		old := *r.codes.Load()
		if c, ok = old[code]; !ok {
			c = r.requests.WithLabelValues(r.name, strconv.Itoa(code))
			next := make(map[int]prometheus.Counter, len(old)+1)
			for k, v := range old {
				next[k] = v
			}
			next[code] = c
			r.codes.Store(&next)
		}
		r.mu.Unlock()
	}
	c.Inc()
}

// handleError answers what fasthttp refused before a handler ran.
func (a *api) handleError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		a.m.outcome(outcomeInvalid)
		problem(ctx, fasthttp.StatusRequestEntityTooLarge, "a beacon body is at most 1 KiB",
			httpx.FieldError{Field: "body", Message: "too large", Limit: maxBeaconBody})
		return
	}
	problem(ctx, fasthttp.StatusBadRequest, "malformed request")
}

// problem writes an RFC 9457 problem, as httpx.Error does.
func problem(ctx *fasthttp.RequestCtx, code int, detail string, fields ...httpx.FieldError) {
	body, _ := json.Marshal(httpx.Problem{Type: "about:blank", Title: fasthttp.StatusMessage(code), Status: code, Detail: detail, Errors: fields})
	ctx.Response.Header.SetContentType("application/problem+json; charset=utf-8")
	ctx.SetStatusCode(code)
	ctx.SetBody(append(body, '\n'))
}

// writeJSON writes a JSON body built by the caller.
func writeJSON(ctx *fasthttp.RequestCtx, code int, body []byte) {
	ctx.Response.Header.SetContentType("application/json; charset=utf-8")
	ctx.SetStatusCode(code)
	ctx.SetBody(body)
}

func (a *api) healthz(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString("ok\n")
}

// readyz is 200 when beacons can be accepted (NATS, tenants). Redis is
// reported but does not fail it: while Redis is down beacons are still
// accepted and wait in JetStream, so a load balancer must keep sending them.
func (a *api) readyz(ctx *fasthttp.RequestCtx) {
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	status := map[string]string{}
	code := fasthttp.StatusOK
	for name, check := range a.ready {
		if err := check(cctx); err != nil {
			status[name] = err.Error()
			code = fasthttp.StatusServiceUnavailable
		} else {
			status[name] = "ok"
		}
	}
	for name, check := range a.info {
		if err := check(cctx); err != nil {
			status[name] = "unavailable, views wait in JetStream: " + err.Error()
		} else {
			status[name] = "ok"
		}
	}
	body, _ := json.Marshal(status)
	writeJSON(ctx, code, append(body, '\n'))
}
