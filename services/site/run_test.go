package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/localstack"
	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/libs/testkit"
)

// TestRun starts the whole service with run, reading tenants from the real
// tenants KV bucket, and checks that a tenant added while it runs is served,
// on its prefix and on its host.
func TestRun(t *testing.T) {
	nats := testkit.NATS(t)
	s3 := testkit.MinIO(t)
	putObjects(t, s3)
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"NATS_URL": nats.URL(), "S3_ENDPOINT": s3.Endpoint, "S3_ACCESS_KEY": s3.AccessKey,
		"S3_SECRET_KEY": s3.SecretKey, "S3_BUCKET": s3.Bucket, "SITE_HTTP_ADDR": fmt.Sprintf("127.0.0.1:%d", port),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitFor(t, "the site to be ready", func() bool {
		return tryGet(base+"/readyz") == 200
	})
	get(t, "GET", base+"/hungyen/").expect(t, 404) // no tenant yet

	b, err := bus.Connect(bus.Config{URL: nats.URL(), Name: "site-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background()) //nolint:errcheck
	kv, err := b.KV(t.Context(), bus.BucketTenants)
	if err != nil {
		t.Fatal(err)
	}
	hy := *testTenants["hungyen"]
	if err := tenant.NewStore(kv).Put(t.Context(), &hy); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new tenant to be served", func() bool { return tryGet(base+"/hungyen/") == 200 })
	r := get(t, "GET", base+"/", "Host", "hungyen.example.vn")
	r.expect(t, 200, "Content-Type", "text/html; charset=utf-8")
	if r.body != page {
		t.Errorf("host routing: %.80s", r.body)
	}
	if r := get(t, "GET", base+"/"); !strings.Contains(r.body, `href="/hungyen/"`) {
		t.Errorf("tenant list: %s", r.body)
	}
	get(t, "GET", base+"/healthz").expect(t, 200)

	// The cache is invalidated by article.published (from JetStream) and by
	// site.invalidate (core NATS), on every replica.
	store, err := blob.New(s3)
	if err != nil {
		t.Fatal(err)
	}
	if r := get(t, "GET", base+"/hungyen/tin-tuc/"); r.body != "<p>Tin tức</p>" {
		t.Fatalf("category page %q", r.body)
	}
	if err := store.PutBytes(t.Context(), "site/hungyen/tin-tuc/index.html", []byte("<p>Tin 2</p>"), "text/html; charset=utf-8"); err != nil {
		t.Fatal(err)
	}
	err = b.Publish(t.Context(), &eventsv1.Envelope{Id: "hungyen.x.1.published", Type: bus.TypeArticlePublished, Tenant: "hungyen",
		Payload: &eventsv1.Envelope_ArticlePublished{ArticlePublished: &eventsv1.ArticlePublished{
			ArticleId: "x", Revision: 1, Path: "bai-viet/x.html", ChangedPaths: []string{"bai-viet/x.html", "tin-tuc/index.html"}}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "article.published to invalidate the page", func() bool {
		return get(t, "GET", base+"/hungyen/tin-tuc/").body == "<p>Tin 2</p>"
	})
	if err := store.PutBytes(t.Context(), "site/hungyen/tin-tuc/index.html", []byte("<p>Tin 3</p>"), "text/html; charset=utf-8"); err != nil {
		t.Fatal(err)
	}
	if err := b.Conn().Publish(bus.SubjectSiteInvalidate+".hungyen", []byte("*")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "site.invalidate to invalidate the page", func() bool {
		return get(t, "GET", base+"/hungyen/tin-tuc/").body == "<p>Tin 3</p>"
	})
}

func tryGet(url string) int {
	resp, err := httpClient.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
