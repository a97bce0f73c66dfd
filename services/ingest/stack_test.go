package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/testkit"
)

const testAdminToken = "test-admin-token-0123456789"

// stack is ingest running in-process against real NATS and MinIO, with
// clients of its own to look at what ingest wrote.
type stack struct {
	url  string
	blob *blob.Store
	bus  *bus.Bus
	js   jetstream.JetStream
}

// startStack starts NATS, MinIO and ingest; env overrides ingest's settings.
func startStack(t testing.TB, env map[string]string) *stack {
	t.Helper()
	nats := testkit.NATS(t)
	s3 := testkit.MinIO(t)
	vars := map[string]string{
		"NATS_URL":                nats.URL(),
		"S3_ENDPOINT":             s3.Endpoint,
		"S3_ACCESS_KEY":           s3.AccessKey,
		"S3_SECRET_KEY":           s3.SecretKey,
		"S3_BUCKET":               s3.Bucket,
		"INGEST_HTTP_ADDR":        "127.0.0.1:0",
		"INGEST_ADMIN_TOKEN":      testAdminToken,
		"INGEST_PUBLIC_URL":       "http://ingest.test/",
		"INGEST_SHUTDOWN_TIMEOUT": "10s",
		"INGEST_LOG_LEVEL":        "warn",
	}
	for k, v := range env {
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }

	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, getenv, t.Output(), func(a string) { addr <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ingest stopped with an error: %v", err)
		}
	})
	var s stack
	select {
	case a := <-addr:
		s.url = "http://" + a
	case err := <-done:
		t.Fatalf("ingest did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("ingest did not start within 60s")
	}

	store, err := blob.New(s3)
	if err != nil {
		t.Fatal(err)
	}
	s.blob = store
	b, err := bus.Connect(bus.Config{URL: nats.URL(), Name: "ingest-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	s.bus, s.js = b, b.JetStream()
	return &s
}

// response is a finished HTTP exchange.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// do sends body (bytes as they are, anything else as JSON) with a bearer token.
func (s *stack) do(t testing.TB, method, path, token string, body any, header ...string) response {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case io.Reader:
		r = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

// expect fails the test unless the status code is code, and decodes the body into v.
func (r response) expect(t testing.TB, code int, v any) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d; body: %s", r.code, code, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decoding %s: %v", r.body, err)
		}
	}
}

// problem expects an RFC 9457 answer with code.
func (r response) problem(t *testing.T, code int) httpx.Problem {
	t.Helper()
	var p httpx.Problem
	r.expect(t, code, &p)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json; charset=utf-8" {
		t.Errorf("Content-Type %q, want problem+json", ct)
	}
	return p
}

// field returns the problem's error about field.
func field(p httpx.Problem, name string) (httpx.FieldError, bool) {
	for _, f := range p.Errors {
		if f.Field == name {
			return f, true
		}
	}
	return httpx.FieldError{}, false
}

func hasField(p httpx.Problem, name string) bool {
	_, ok := field(p, name)
	return ok
}

// newTenant creates a tenant with two categories and returns an editor and
// an admin key for it.
func (s *stack) newTenant(t testing.TB, id string) (editor, admin string) {
	t.Helper()
	s.do(t, http.MethodPut, "/v1/admin/tenants/"+id, testAdminToken, map[string]any{
		"name":       "Đảng bộ Khối " + id,
		"categories": []map[string]string{{"slug": "tin-tuc", "name": "Tin tức"}, {"slug": "xay-dung-dang", "name": "Xây dựng Đảng"}},
	}).expect(t, http.StatusOK, nil)
	var k createKeyResponse
	s.do(t, http.MethodPost, "/v1/admin/tenants/"+id+"/keys", testAdminToken, map[string]string{"role": "editor"}).expect(t, http.StatusCreated, &k)
	editor = k.Key
	s.do(t, http.MethodPost, "/v1/admin/tenants/"+id+"/keys", testAdminToken, map[string]string{"role": "admin"}).expect(t, http.StatusCreated, &k)
	return editor, k.Key
}

// messages counts the stream's messages on subject (exact, or with wildcards).
func (s *stack) messages(t *testing.T, stream, subject string) int {
	t.Helper()
	st, err := s.js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	return n
}

// lastMessage decodes the newest message on subject.
func (s *stack) lastMessage(t *testing.T, stream, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	st, err := s.js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(context.Background(), subject)
	if err != nil {
		t.Fatalf("last message on %s: %v", subject, err)
	}
	return m
}

// kv opens a bucket.
func (s *stack) kv(t testing.TB, bucket string) jetstream.KeyValue {
	t.Helper()
	kv, err := s.bus.KV(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// eventually polls cond until it holds, failing after a generous bound; it
// waits on asynchronous consumers, it does not time anything.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
