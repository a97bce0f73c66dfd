package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable time for the limiter's unit tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestRateLimiterBucket(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	l := newRateLimiter(60, 3, clock.now) // one a second, three at once

	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("over the burst: allowed %v, wait %s; want refused, wait in (0, 1s]", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Error("another key was limited by the first")
	}
	clock.advance(time.Second)
	if ok, _ := l.allow("a"); !ok {
		t.Error("a token did not come back after a second")
	}
	if ok, _ := l.allow("a"); ok {
		t.Error("more than one token came back after a second")
	}
}

func TestRateLimiterForgetsIdleKeys(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	l := newRateLimiter(600, 60, clock.now) // full again after 6 s idle
	for i := range 5000 {
		l.allow("key-" + strconv.Itoa(i))
	}
	if n := l.size(); n != 5000 {
		t.Fatalf("%d buckets for 5000 keys active within a second; none is full again yet", n)
	}
	// Drain one key; the rest go idle.
	for range 60 {
		l.allow("busy")
	}
	clock.advance(2 * time.Minute)
	l.allow("busy")
	if n := l.size(); n != 1 {
		t.Errorf("%d buckets after every other key was idle for 2 minutes, want 1", n)
	}
	// An evicted key starts with a full bucket, as it would have anyway.
	for i := range 60 {
		if ok, _ := l.allow("key-1"); !ok {
			t.Fatalf("request %d of an evicted key refused", i+1)
		}
	}
	// A bucket that is not full again is kept by a sweep, so eviction
	// never hands a key over its rate a fresh burst.
	for range 61 {
		l.allow("hot")
	}
	clock.advance(time.Second) // 10 tokens back of 60: not full
	l.nextSweep = clock.t
	l.allow("other")
	allowed := 0
	for range 60 {
		if ok, _ := l.allow("hot"); ok {
			allowed++
		}
	}
	if allowed > 11 {
		t.Errorf("%d requests allowed after a sweep, want the ~10 tokens refilled in a second", allowed)
	}
}

// TestRateLimitAPI makes burst+1 rapid requests with one key against the
// real service: the last is refused with 429 and Retry-After, another key
// is not affected.
func TestRateLimitAPI(t *testing.T) {
	const burst = 5
	s := startStack(t, map[string]string{"INGEST_RATE_PER_MINUTE": "6", "INGEST_RATE_BURST": strconv.Itoa(burst)})
	editor, admin := s.newTenant(t, "hung-yen")

	for range burst {
		s.do(t, http.MethodGet, "/v1/tenants/hung-yen", editor, nil).expect(t, http.StatusOK, nil)
	}
	r := s.do(t, http.MethodGet, "/v1/tenants/hung-yen", editor, nil)
	p := r.problem(t, http.StatusTooManyRequests)
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 10 {
		t.Errorf("Retry-After %q, want 1…10 seconds at 6 a minute", r.header.Get("Retry-After"))
	}
	if f, ok := field(p, "Authorization"); !ok || f.Limit != float64(6) {
		t.Errorf("problem %+v does not name the key and the limit", p)
	}
	// Every route with that key is limited; other keys are not.
	s.do(t, http.MethodGet, "/v1/tenants/hung-yen/keys", admin, nil).expect(t, http.StatusOK, nil)
	s.do(t, http.MethodGet, "/v1/tenants/hung-yen/media/"+mediaHexOf("x"), editor, nil).problem(t, http.StatusTooManyRequests)
	s.do(t, http.MethodGet, "/v1/tenants/hung-yen", admin, nil).expect(t, http.StatusOK, nil)
	// The operator's token is not an API key and is not limited.
	for range burst + 1 {
		s.do(t, http.MethodGet, "/v1/admin/tenants/hung-yen", testAdminToken, nil).expect(t, http.StatusOK, nil)
	}
}

// mediaHexOf is a well-formed media id.
func mediaHexOf(s string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 64)
	for i := range b {
		b[i] = hex[(int(s[i%len(s)])+i)%16]
	}
	return string(b)
}

func TestCallerLimitsConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{"INGEST_ADMIN_TOKEN": "secret-token", "S3_ENDPOINT": "minio.internal:9000"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	cfg, err := loadConfig(env())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RatePerMinute != 600 || cfg.RateBurst != 60 || cfg.UploadExpiry != 15*time.Minute || cfg.s3PublicURL() != "http://minio.internal:9000" {
		t.Errorf("defaults: rate %g, burst %d, expiry %s, S3 public URL %q", cfg.RatePerMinute, cfg.RateBurst, cfg.UploadExpiry, cfg.s3PublicURL())
	}
	cfg, err = loadConfig(env("S3_TLS", "true"))
	if err != nil || cfg.s3PublicURL() != "https://minio.internal:9000" {
		t.Errorf("with S3_TLS: %q, %v", cfg.s3PublicURL(), err)
	}
	cfg, err = loadConfig(env("INGEST_S3_PUBLIC_URL", "https://media.dangbokhoi.vn/"))
	if err != nil || cfg.s3PublicURL() != "https://media.dangbokhoi.vn" {
		t.Errorf("with a public URL: %q, %v", cfg.s3PublicURL(), err)
	}
	_, err = loadConfig(env("INGEST_RATE_PER_MINUTE", "0", "INGEST_RATE_BURST", "-1", "INGEST_UPLOAD_EXPIRY", "200h",
		"INGEST_S3_PUBLIC_URL", "https://cdn.example/s3"))
	for _, name := range []string{"RATE_PER_MINUTE", "RATE_BURST", "UPLOAD_EXPIRY", "S3_PUBLIC_URL"} {
		if err == nil || !strings.Contains(err.Error(), "INGEST_"+name) {
			t.Errorf("a bad %s is not reported: %v", name, err)
		}
	}
}
