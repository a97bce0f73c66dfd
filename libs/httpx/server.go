// Package httpx is the HTTP server every service runs: it opens its listener
// up front (so ":0" works in tests), adds /healthz, /readyz and /metrics,
// records request metrics, and shuts down gracefully. It also writes JSON
// responses and RFC 9457 problem details.
package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure a server.
type Options struct {
	// Addr is the listen address, e.g. ":8081" or "127.0.0.1:0".
	Addr    string
	Handler http.Handler
	// Ready checks run by /readyz; each returns nil when its dependency is usable.
	Ready map[string]func(context.Context) error
	// Registry receives the request metrics; /metrics serves it. A new one
	// with Go and process collectors is made when nil.
	Registry *prometheus.Registry
	Logger   *slog.Logger
}

// Server is a running HTTP server.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	errc chan error
}

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Start listens on opts.Addr and serves in the background.
func Start(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", opts.Addr, err)
	}
	reg := opts.Registry
	if reg == nil {
		reg = NewRegistry()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route"})
	if err := reg.Register(requests); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	if err := reg.Register(duration); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("registering metrics: %w", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status := map[string]string{}
		code := http.StatusOK
		for name, check := range opts.Ready {
			if err := check(ctx); err != nil {
				status[name] = err.Error()
				code = http.StatusServiceUnavailable
			} else {
				status[name] = "ok"
			}
		}
		JSON(w, code, status)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if opts.Handler != nil {
		mux.Handle("/", opts.Handler)
	}

	instrumented := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		mux.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
		duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})

	s := &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           instrumented,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		errc: make(chan error, 1),
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.errc <- err
		}
		close(s.errc)
	}()
	log.Info("http listening", "addr", ln.Addr().String())
	return s, nil
}

// Addr is the address actually listened on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Err delivers an error if serving stops on its own.
func (s *Server) Err() <-chan error { return s.errc }

// Shutdown stops accepting connections and waits for requests in flight,
// bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("shutting down http: %w", err)
	}
	return nil
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
