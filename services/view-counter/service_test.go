package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/libs/localstack"
	"github.com/blocpress/blocpress/libs/testkit"
)

// harness is the service started in-process against a real NATS and a real
// Redis, driven through its real inputs: HTTP beacons and JetStream events.
type harness struct {
	t     *testing.T
	nats  *localstack.NATS
	redis *localstack.Process
	svc   *service
	url   string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	n := testkit.NATS(t)
	r := testkit.Redis(t)
	cfg, err := loadConfig(envMap(map[string]string{
		"NATS_URL":                      n.URL(),
		"VIEW_COUNTER_REDIS_ADDR":       r.Addr,
		"VIEW_COUNTER_HTTP_ADDR":        "127.0.0.1:0",
		"VIEW_COUNTER_READER_SALT":      "test-salt",
		"VIEW_COUNTER_BATCH_SIZE":       "50",
		"VIEW_COUNTER_LOG_LEVEL":        "warn",
		"VIEW_COUNTER_SHUTDOWN_TIMEOUT": "20s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := start(ctx, cfg, testLogger(t))
	if err != nil {
		t.Fatalf("starting view-counter: %v", err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := svc.shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &harness{t: t, nats: n, redis: r, svc: svc, url: "http://" + svc.http.Addr()}
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func viewURL(base, tenantID, article string) string {
	return base + "/v1/tenants/" + url.PathEscape(tenantID) + "/views/" + url.PathEscape(article)
}

func countsURL(base, tenantID string, ids ...string) string {
	return base + "/v1/tenants/" + url.PathEscape(tenantID) + "/views?ids=" + url.QueryEscape(strings.Join(ids, ","))
}

// beacon posts what navigator.sendBeacon posts and returns the status.
func (h *harness) beacon(tenantID, article string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, viewURL(h.url, tenantID, article), strings.NewReader(`{"ref":"home"}`))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("User-Agent", "Mozilla/5.0 (test)")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("posting beacon: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// beacons posts n beacons and fails unless every one was accepted.
func (h *harness) beacons(tenantID, article string, n int) {
	h.t.Helper()
	for i := range n {
		if resp := h.beacon(tenantID, article); resp.StatusCode != http.StatusNoContent {
			h.t.Fatalf("beacon %d of %d: status %d, want 204", i+1, n, resp.StatusCode)
		}
	}
}

// counts reads the counts endpoint; the map is nil unless the status is 200.
func (h *harness) counts(tenantID string, ids ...string) (map[string]int64, *http.Response) {
	h.t.Helper()
	resp, err := http.Get(countsURL(h.url, tenantID, ids...))
	if err != nil {
		h.t.Fatalf("getting counts: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, resp
	}
	var body struct {
		Counts map[string]int64 `json:"counts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		h.t.Fatalf("decoding counts: %v", err)
	}
	return body.Counts, resp
}

// waitCount polls until the article's count is want, failing at a deadline.
func (h *harness) waitCount(tenantID, article string, want int64) {
	h.t.Helper()
	waitFor(h.t, 30*time.Second, func() (bool, string) {
		c, resp := h.counts(tenantID, article)
		if c == nil {
			return false, fmt.Sprintf("status %d", resp.StatusCode)
		}
		return c[article] == want, fmt.Sprintf("count %d, want %d", c[article], want)
	})
}

// waitDrained polls until the durable consumer has nothing pending or
// unacknowledged, so that a count read afterwards is final.
func (h *harness) waitDrained(consumer string) {
	h.t.Helper()
	stream := "VIEWS"
	if consumer == "view-counter-base" {
		stream = "ARTICLES"
	}
	waitFor(h.t, 30*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, err := h.svc.bus.JetStream().Consumer(ctx, stream, consumer)
		if err != nil {
			return false, err.Error()
		}
		info, err := c.Info(ctx)
		if err != nil {
			return false, err.Error()
		}
		return info.NumPending == 0 && info.NumAckPending == 0,
			fmt.Sprintf("pending %d, ack pending %d", info.NumPending, info.NumAckPending)
	})
}

// viewsStored is how many messages the VIEWS stream holds.
func (h *harness) viewsStored() uint64 {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := h.svc.bus.JetStream().Stream(ctx, "VIEWS")
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return info.State.Msgs
}

func (h *harness) js() jetstream.JetStream { return h.svc.bus.JetStream() }

// waitFor polls cond every 50ms until it holds, failing with cond's last
// explanation after timeout. The timeout is a deadline, not an assertion.
func waitFor(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
