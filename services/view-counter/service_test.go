package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/localstack"
	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/libs/testkit"
)

// harness is the service started in-process against a real NATS and a real
// Redis, driven through its real inputs: HTTP beacons and JetStream events.
type harness struct {
	t     *testing.T
	nats  *localstack.NATS
	redis *localstack.Process
	svc   *service
	cfg   Config
	url   string
}

// testTenants are the demo tenants, with their own hosts.
var testTenants = []*tenant.Tenant{
	{ID: "hungyen", Name: "Hưng Yên", Hosts: []string{"hungyen.localhost", "dangbokhoi.hungyen.example"},
		Categories: []tenant.Category{{Slug: "tin-tuc-su-kien", Name: "Tin tức - Sự kiện"}, {Slug: "xay-dung-dang", Name: "Xây dựng Đảng"}}},
	{ID: "namdinh", Name: "Nam Định", Hosts: []string{"namdinh.localhost"},
		Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}}},
	{ID: "trunguong", Name: "Trung ương", Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}}},
}

// testEnv is the harness's configuration; overrides replace entries.
func testEnv(n *localstack.NATS, r *localstack.Process, overrides map[string]string) map[string]string {
	env := map[string]string{
		"NATS_URL":                      n.URL(),
		"VIEW_COUNTER_REDIS_ADDR":       r.Addr,
		"VIEW_COUNTER_HTTP_ADDR":        "127.0.0.1:0",
		"VIEW_COUNTER_READER_SALT":      "test-salt",
		"VIEW_COUNTER_BATCH_SIZE":       "50",
		"VIEW_COUNTER_IP_RATE":          "0", // every test beacon comes from 127.0.0.1
		"VIEW_COUNTER_LOG_LEVEL":        "warn",
		"VIEW_COUNTER_SHUTDOWN_TIMEOUT": "20s",
	}
	maps.Copy(env, overrides)
	return env
}

func newHarness(t *testing.T, overrides ...map[string]string) *harness {
	t.Helper()
	n := testkit.NATS(t)
	r := testkit.Redis(t)
	var o map[string]string
	if len(overrides) > 0 {
		o = overrides[0]
	}
	h := &harness{t: t, nats: n, redis: r}
	h.start(testEnv(n, r, o))
	return h
}

// start starts the service with env (tenants are created first).
func (h *harness) start(env map[string]string) {
	h.t.Helper()
	cfg, err := loadConfig(envMap(env))
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	putTenants(h.t, h.nats.URL())
	svc, err := start(ctx, cfg, testLogger(h.t))
	if err != nil {
		h.t.Fatalf("starting view-counter: %v", err)
	}
	h.t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := svc.shutdown(sctx); err != nil {
			h.t.Errorf("shutdown: %v", err)
		}
	})
	h.svc, h.cfg, h.url = svc, cfg, "http://"+svc.http.Addr()
}

// putTenants stores the test tenants in the tenants bucket, as ingest would.
func putTenants(t *testing.T, natsURL string) {
	t.Helper()
	b, err := bus.Connect(bus.Config{URL: natsURL, Name: "test-ingest"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background()) //nolint:errcheck
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	kv, err := b.KV(ctx, bus.BucketTenants)
	if err != nil {
		t.Fatal(err)
	}
	store := tenant.NewStore(kv)
	for _, tn := range testTenants {
		if err := store.Put(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
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

// readerSeq makes every beacon of beacon() a new reader.
var readerSeq atomic.Int64

// browserUA is a real browser's user agent, made distinct by n.
func browserUA(n int64) string {
	return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.%d.0 Safari/537.36", n)
}

// beacon posts what navigator.sendBeacon posts, as a new reader, and returns
// the response.
func (h *harness) beacon(tenantID, article string) *http.Response {
	h.t.Helper()
	return h.beaconWith(tenantID, article, map[string]string{"User-Agent": browserUA(readerSeq.Add(1))})
}

// beaconWith posts a beacon with these headers.
func (h *harness) beaconWith(tenantID, article string, header map[string]string) *http.Response {
	h.t.Helper()
	resp, err := postBeacon(h.url, tenantID, article, header)
	if err != nil {
		h.t.Fatalf("posting beacon: %v", err)
	}
	return resp
}

func postBeacon(base, tenantID, article string, header map[string]string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, viewURL(base, tenantID, article), strings.NewReader(`{"ref":"home"}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// beacons posts n beacons, each a new reader, and fails unless every one was
// accepted.
func (h *harness) beacons(tenantID, article string, n int) {
	h.t.Helper()
	for i := range n {
		if resp := h.beacon(tenantID, article); resp.StatusCode != http.StatusNoContent {
			h.t.Fatalf("beacon %d of %d: status %d, want 204", i+1, n, resp.StatusCode)
		}
	}
}

// getJSON decodes a GET's answer into out when the status is 200.
func (h *harness) getJSON(path string, out any) *http.Response {
	h.t.Helper()
	resp, err := http.Get(h.url + path)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		h.t.Fatalf("decoding %s: %v", path, err)
	}
	return resp
}

// counts reads the counts endpoint; the map is nil unless the status is 200.
func (h *harness) counts(tenantID string, ids ...string) (map[string]int64, *http.Response) {
	h.t.Helper()
	var body struct {
		Counts map[string]int64 `json:"counts"`
	}
	resp := h.getJSON(countsURL("", tenantID, ids...), &body)
	return body.Counts, resp
}

// waitCount polls until the article's count is want, failing at a deadline.
func (h *harness) waitCount(tenantID, article string, want int64) {
	h.t.Helper()
	h.waitCountWithin(tenantID, article, want, 30*time.Second)
}

func (h *harness) waitCountWithin(tenantID, article string, want int64, d time.Duration) {
	h.t.Helper()
	waitFor(h.t, d, func() (bool, string) {
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
	waitDrained(h.t, h.svc.bus.JetStream(), consumer, 60*time.Second)
}

func waitDrained(t *testing.T, js jetstream.JetStream, consumer string, d time.Duration) {
	t.Helper()
	stream := bus.StreamViews
	if consumer == bus.ConsumerViewBaseCounts {
		stream = bus.StreamArticles
	}
	waitFor(t, d, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, err := js.Consumer(ctx, stream, consumer)
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
	s, err := h.svc.bus.JetStream().Stream(ctx, bus.StreamViews)
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
