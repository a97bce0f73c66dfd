package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestServerHealthReadyMetricsAndShutdown(t *testing.T) {
	ready := errors.New("redis down")
	mux := http.NewServeMux()
	release := make(chan struct{})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		<-release
		_, _ = w.Write([]byte("done"))
	})
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("xin chào")) })
	s, err := Start(Options{Addr: "127.0.0.1:0", Handler: mux,
		Ready: map[string]func(context.Context) error{"redis": func(context.Context) error { return ready }}})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "redis down") {
		t.Errorf("readyz %d %s", code, body)
	}
	ready = nil
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("readyz after recovery %d", code)
	}
	get("/hello")
	if _, body := get("/metrics"); !strings.Contains(body, `http_requests_total{code="200",route="GET /hello"} 1`) {
		t.Errorf("metrics missing the route counter:\n%s", body)
	}

	// Shutdown waits for the request in flight.
	result := make(chan string)
	go func() { _, body := get("/slow"); result <- body }()
	time.Sleep(100 * time.Millisecond)
	done := make(chan error)
	go func() { done <- s.Shutdown(context.Background()) }()
	close(release)
	if body := <-result; body != "done" {
		t.Errorf("in-flight request got %q", body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestErrorIsProblemJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	Error(rec, 422, "invalid article", FieldError{Field: "title", Message: "too long", Limit: 300})
	if rec.Header().Get("Content-Type") != "application/problem+json; charset=utf-8" || rec.Code != 422 {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != 422 || p.Errors[0].Field != "title" || p.Errors[0].Limit != float64(300) {
		t.Errorf("%+v", p)
	}
}
