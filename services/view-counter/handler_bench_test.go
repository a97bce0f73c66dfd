package main

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// BenchmarkBeaconHandler is one beacon through the handler — routing, tenant,
// origin, bot list, rate limit, reader hash, batching — with JetStream
// answering at once, to count what a beacon costs the process itself.
func BenchmarkBeaconHandler(b *testing.B) {
	reg := prometheus.NewRegistry()
	m, _ := newMetrics(reg)
	bots, _ := loadBots("")
	stats, _ := newRequestStats(reg)
	tenants := fakeTenants{}
	for _, tn := range testTenants {
		tenants[tn.ID] = tn
	}
	batch := newBatcher(func(context.Context, string, string, []byte) error { return nil }, nil, time.Second, 512, 2)
	defer batch.Stop(context.Background()) //nolint:errcheck
	cal := calendar{loc: time.UTC}
	a := &api{tenants: tenants, origins: &originPolicy{site: []string{"http://localhost:8080"}}, clients: &clientIPs{trusted: mustPrefixes("127.0.0.1/32")},
		bots: bots, limiter: newIPLimiter(1e9, 1e9), readers: newReaderHasher("s", cal), batcher: batch, cal: cal, log: slog.New(slog.DiscardHandler), m: m, now: time.Now, stats: stats}
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI("/v1/tenants/hungyen/views/a1b2c3d4e5f6g7h8")
	req.Header.SetUserAgent(chromeUA)
	req.Header.Set("Origin", "http://hungyen.localhost:8080")
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.SetBodyString(`{"ref":"home"}`)
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var ctx fasthttp.RequestCtx
		for pb.Next() {
			ctx.Init(&req, remote, nil)
			a.handle(&ctx)
			if ctx.Response.StatusCode() != 204 {
				b.Fatalf("status %d", ctx.Response.StatusCode())
			}
		}
	})
}

func mustPrefixes(s ...string) []netip.Prefix {
	p, err := parsePrefixes(s)
	if err != nil {
		panic(err)
	}
	return p
}
