package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
)

func TestBeaconsAreCounted(t *testing.T) {
	h := newHarness(t)

	for range 2 {
		resp := h.beacon("hungyen", "a1b2c3d4e5f6g7h8")
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("beacon: status %d, want 204", resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("beacon Access-Control-Allow-Origin = %q, want *", got)
		}
	}
	h.waitCount("hungyen", "a1b2c3d4e5f6g7h8", 2)

	counts, resp := h.counts("hungyen", "a1b2c3d4e5f6g7h8", "neverviewed")
	if counts["a1b2c3d4e5f6g7h8"] != 2 || counts["neverviewed"] != 0 || len(counts) != 2 {
		t.Errorf("counts = %v, want a1b2c3d4e5f6g7h8:2 neverviewed:0", counts)
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=5" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("counts Access-Control-Allow-Origin = %q, want *", got)
	}
	// Another tenant's counter of the same article id is its own.
	if c, _ := h.counts("namdinh", "a1b2c3d4e5f6g7h8"); c["a1b2c3d4e5f6g7h8"] != 0 {
		t.Errorf("namdinh sees hungyen's views: %v", c)
	}

	// What was stored is a proper event, with an opaque reader.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := h.js().Stream(ctx, bus.StreamViews)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stream.GetLastMsgForSubject(ctx, "views.hungyen")
	if err != nil {
		t.Fatal(err)
	}
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(raw.Data, env); err != nil {
		t.Fatal(err)
	}
	if env.GetType() != bus.TypeView || env.GetTenant() != "hungyen" || env.GetCorrelationId() != "a1b2c3d4e5f6g7h8" ||
		env.GetView().GetArticleId() != "a1b2c3d4e5f6g7h8" || env.GetId() == "" || env.GetOccurredAt() == nil {
		t.Errorf("stored envelope = %v", env)
	}
	if reader := env.GetView().GetReader(); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(reader) {
		t.Errorf("reader = %q, want 32 hex characters", reader)
	}
	if strings.Contains(string(raw.Data), "127.0.0.1") {
		t.Error("the stored event contains the client IP")
	}
}

func TestUnsafeTenantsAndArticlesAreRefused(t *testing.T) {
	h := newHarness(t)

	for _, bad := range []string{"a.b", "A", "x>y", "x*", strings.Repeat("a", 33), "a"} {
		if resp := h.beacon(bad, "a1b2c3"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("beacon for tenant %q: status %d, want 400", bad, resp.StatusCode)
		}
		if _, resp := h.counts(bad, "a1b2c3"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("counts for tenant %q: status %d, want 400", bad, resp.StatusCode)
		}
	}
	for _, bad := range []string{"ABC", "a.b", "a-b", strings.Repeat("a", 41), "a>"} {
		if resp := h.beacon("hungyen", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("beacon for article %q: status %d, want 400", bad, resp.StatusCode)
		}
		if _, resp := h.counts("hungyen", "ok", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("counts with id %q: status %d, want 400", bad, resp.StatusCode)
		}
	}
	if _, resp := h.counts("hungyen"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("counts without ids: status %d, want 400", resp.StatusCode)
	}
	tooMany := make([]string, maxIDsPerQuery+1)
	for i := range tooMany {
		tooMany[i] = "a"
	}
	if _, resp := h.counts("hungyen", tooMany...); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("counts with %d ids: status %d, want 400", len(tooMany), resp.StatusCode)
	}
	if c, resp := h.counts("hungyen", tooMany[1:]...); resp.StatusCode != http.StatusOK || c["a"] != 0 {
		t.Errorf("counts with %d ids: status %d, %v", maxIDsPerQuery, resp.StatusCode, c)
	}

	if n := h.viewsStored(); n != 0 {
		t.Errorf("VIEWS stream holds %d messages after refused beacons, want 0", n)
	}
}

// fakePublisher records envelopes, or fails.
type fakePublisher struct {
	mu   sync.Mutex
	envs []*eventsv1.Envelope
	err  error
}

func (f *fakePublisher) Publish(_ context.Context, env *eventsv1.Envelope) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.envs = append(f.envs, env)
	return nil
}

func newTestAPI(t *testing.T, pub publisher, salt string) *beaconAPI {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return &beaconAPI{pub: pub, salt: salt, log: slog.New(slog.DiscardHandler), m: m}
}

func serve(h http.Handler, method, target, body string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPreflight(t *testing.T) {
	h := newTestAPI(t, &fakePublisher{}, "s").routes()
	for _, target := range []string{"/v1/tenants/hungyen/views/abc", "/v1/tenants/hungyen/views?ids=abc"} {
		rec := serve(h, http.MethodOptions, target, "", map[string]string{
			"Origin": "https://hungyen.dcs.vn", "Access-Control-Request-Method": "POST",
		})
		if rec.Code != http.StatusNoContent {
			t.Errorf("OPTIONS %s: status %d, want 204", target, rec.Code)
		}
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin":  "*",
			"Access-Control-Allow-Methods": "POST, GET",
			"Access-Control-Allow-Headers": "Content-Type",
		} {
			if got := rec.Header().Get(k); got != want {
				t.Errorf("OPTIONS %s: %s = %q, want %q", target, k, got, want)
			}
		}
	}
}

func TestBeaconBodyIsCapped(t *testing.T) {
	pub := &fakePublisher{}
	h := newTestAPI(t, pub, "s").routes()
	if rec := serve(h, http.MethodPost, "/v1/tenants/hungyen/views/abc", strings.Repeat("x", maxBeaconBody), nil); rec.Code != http.StatusNoContent {
		t.Errorf("1 KiB body: status %d, want 204", rec.Code)
	}
	if rec := serve(h, http.MethodPost, "/v1/tenants/hungyen/views/abc", strings.Repeat("x", maxBeaconBody+1), nil); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 KiB + 1 body: status %d, want 413", rec.Code)
	}
	if len(pub.envs) != 1 {
		t.Errorf("published %d views, want 1", len(pub.envs))
	}
}

func TestBeaconAnswers503WhenTheViewIsNotStored(t *testing.T) {
	h := newTestAPI(t, &fakePublisher{err: errors.New("nats: timeout")}, "s").routes()
	rec := serve(h, http.MethodPost, "/v1/tenants/hungyen/views/abc", "", nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Error("a 503 must carry CORS headers so the page can read it")
	}
}

func TestReaderIsASaltedHashWithoutTheIP(t *testing.T) {
	pub := &fakePublisher{}
	post := func(api *beaconAPI, ip, ua string) string {
		req := httptest.NewRequest(http.MethodPost, "/v1/tenants/hungyen/views/abc", nil)
		req.RemoteAddr = ip + ":51234"
		req.Header.Set("User-Agent", ua)
		rec := httptest.NewRecorder()
		api.routes().ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("status %d", rec.Code)
		}
		env := pub.envs[len(pub.envs)-1]
		if env.GetId() == "" || env.GetCorrelationId() != "abc" {
			t.Fatalf("envelope = %v", env)
		}
		return env.GetView().GetReader()
	}
	a, b := newTestAPI(t, pub, "salt-a"), newTestAPI(t, pub, "salt-b")
	r1 := post(a, "203.0.113.7", "Firefox")
	if r2 := post(a, "203.0.113.7", "Firefox"); r2 != r1 {
		t.Errorf("same reader hashed differently: %s, %s", r1, r2)
	}
	if r3 := post(a, "203.0.113.8", "Firefox"); r3 == r1 {
		t.Error("different IPs hash alike")
	}
	if r4 := post(a, "203.0.113.7", "Chrome"); r4 == r1 {
		t.Error("different user agents hash alike")
	}
	if r5 := post(b, "203.0.113.7", "Firefox"); r5 == r1 {
		t.Error("the salt does not change the hash")
	}
	if len(r1) != readerHashLen || strings.Contains(r1, "203") {
		t.Errorf("reader = %q", r1)
	}
	if pub.envs[0].GetId() == pub.envs[1].GetId() {
		t.Error("two beacons share a message id; JetStream would drop the second as a duplicate")
	}
}
