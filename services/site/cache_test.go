package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/testkit"
)

// flakyStore fails every call while down, as an unreachable S3 does.
type flakyStore struct {
	objectStore
	down atomic.Bool
}

var errS3Down = errors.New("connection refused")

func (f *flakyStore) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	if f.down.Load() {
		return nil, blob.Info{}, errS3Down
	}
	return f.objectStore.Get(ctx, key)
}

func (f *flakyStore) Stat(ctx context.Context, key string) (blob.Info, error) {
	if f.down.Load() {
		return blob.Info{}, errS3Down
	}
	return f.objectStore.Stat(ctx, key)
}

func newCachedSite(t *testing.T) (*httptest.Server, *blob.Store, *flakyStore, *Site) {
	t.Helper()
	real := putObjects(t, testkit.MinIO(t))
	store := &flakyStore{objectStore: real}
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	s := &Site{store: store, tenants: testTenants, pages: pages, s3Timeout: 5 * time.Second,
		log: slog.New(slog.DiscardHandler), cache: newPageCache(64<<20, time.Hour)}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, real, store, s
}

func TestCacheIsInvalidatedByChangedPaths(t *testing.T) {
	srv, real, _, s := newCachedSite(t)
	url := srv.URL + "/hungyen/tin-tuc/"
	if r := get(t, "GET", url); r.body != "<p>Tin tức</p>" {
		t.Fatalf("first read %q", r.body)
	}
	if err := real.PutBytes(t.Context(), "site/hungyen/tin-tuc/index.html", []byte("<p>Tin tức mới</p>"), "text/html; charset=utf-8"); err != nil {
		t.Fatal(err)
	}
	if r := get(t, "GET", url); r.body != "<p>Tin tức</p>" {
		t.Errorf("a cached page was read again before any event: %q", r.body)
	}
	// article.published names "tin-tuc/index.html" among its changed paths.
	if n := s.cache.invalidate("hungyen", []string{"bai-viet/x.html", "tin-tuc/index.html"}); n != 1 {
		t.Errorf("invalidated %d entries, want 1", n)
	}
	if r := get(t, "GET", url); r.body != "<p>Tin tức mới</p>" {
		t.Errorf("after invalidation: %q", r.body)
	}
	// A page that did not exist is remembered as missing until it is published.
	missing := srv.URL + "/hungyen/bai-viet/moi-0000000000000009.html"
	get(t, "GET", missing).expect(t, 404)
	if err := real.PutBytes(t.Context(), "site/hungyen/bai-viet/moi-0000000000000009.html", []byte("<h1>Mới</h1>"), "text/html; charset=utf-8"); err != nil {
		t.Fatal(err)
	}
	s.cache.invalidate("hungyen", []string{"bai-viet/moi-0000000000000009.html"})
	get(t, "GET", missing).expect(t, 200)
	// "*" (a rebuild) marks every page of the tenant.
	s.cache.invalidate("hungyen", []string{"*"})
	if e, fresh := s.cache.get("site/hungyen/tin-tuc/index.html"); e == nil || fresh {
		t.Errorf("after *: entry %v fresh %v", e != nil, fresh)
	}
}

func TestServesCachedPagesWhileS3IsDown(t *testing.T) {
	srv, _, store, s := newCachedSite(t)
	url := srv.URL + "/hungyen/"
	first := get(t, "GET", url, "Accept-Encoding", "gzip")
	first.expect(t, 200, "Content-Encoding", "gzip")
	s.cache.invalidate("hungyen", []string{"*"}) // stale: S3 is asked first
	store.down.Store(true)
	r := get(t, "GET", url, "Accept-Encoding", "gzip")
	r.expect(t, 200, "Content-Encoding", "gzip", "ETag", first.Header.Get("ETag"))
	if r.body != first.body {
		t.Error("the stale copy differs")
	}
	get(t, "GET", srv.URL+"/hungyen/media/"+photoID+"/320.jpg").expect(t, 503) // never read: nothing to serve
	store.down.Store(false)
	get(t, "GET", srv.URL+"/hungyen/media/"+photoID+"/320.jpg").expect(t, 200)
}

func TestTakedownStatusesAndTenant404(t *testing.T) {
	srv, real, _, _ := newCachedSite(t)
	ctx := t.Context()
	put := func(key, ctype, body string) {
		t.Helper()
		if err := real.PutBytes(ctx, key, []byte(body), ctype); err != nil {
			t.Fatal(err)
		}
	}
	put("site/hungyen/bai-viet/go-0000000000000001.html", `text/html; charset=utf-8; x-status=410`, "<p>Bài viết đã được gỡ bỏ.</p>")
	put("site/hungyen/bai-viet/old-0000000000000002.html", `text/html; charset=utf-8; x-location="/hungyen/bai-viet/new-0000000000000002.html"; x-status=301`, "<p>moved</p>")
	put("site/hungyen/bai-viet/evil-0000000000000003.html", `text/html; charset=utf-8; x-location="//evil.example"; x-status=301`, "<p>bad</p>")
	put("site/hungyen/404.html", "text/html; charset=utf-8", "<h1>Không tìm thấy trang</h1><nav>Hưng Yên menu</nav>")

	r := get(t, "GET", srv.URL+"/hungyen/bai-viet/go-0000000000000001.html")
	r.expect(t, 410, "Content-Type", "text/html; charset=utf-8")
	if !strings.Contains(r.body, "gỡ bỏ") {
		t.Errorf("410 body %q", r.body)
	}
	get(t, "GET", srv.URL+"/hungyen/bai-viet/old-0000000000000002.html").
		expect(t, 301, "Location", "/hungyen/bai-viet/new-0000000000000002.html")
	get(t, "GET", srv.URL+"/bai-viet/old-0000000000000002.html", "Host", "hungyen.example.vn").
		expect(t, 301, "Location", "/hungyen/bai-viet/new-0000000000000002.html")
	get(t, "GET", srv.URL+"/hungyen/bai-viet/evil-0000000000000003.html").expect(t, 200, "Location", "")

	r = get(t, "GET", srv.URL+"/hungyen/khong-co/")
	r.expect(t, 404)
	if !strings.Contains(r.body, "Hưng Yên menu") {
		t.Errorf("404 is not the tenant's page: %q", r.body)
	}
	r = get(t, "GET", srv.URL+"/namdinh/khong-co/") // no 404.html of its own yet
	r.expect(t, 404)
	if !strings.Contains(r.body, "Không tìm thấy trang") || strings.Contains(r.body, "Hưng Yên menu") {
		t.Errorf("namdinh 404: %q", r.body)
	}

	put("site/hungyen/robots.txt", "text/plain; charset=utf-8", "User-agent: *\nSitemap: https://x/hungyen/sitemap.xml\n")
	r = get(t, "GET", srv.URL+"/robots.txt", "Host", "hungyen.example.vn")
	r.expect(t, 200, "Content-Type", "text/plain; charset=utf-8")
	if !strings.Contains(r.body, "sitemap.xml") {
		t.Errorf("tenant robots.txt %q", r.body)
	}
	get(t, "GET", srv.URL+"/robots.txt").expect(t, 200, "Content-Type", "text/plain; charset=utf-8")
	put("site/hungyen/rss.xml", "application/rss+xml; charset=utf-8", strings.Repeat("<item>Tin</item>", 100))
	get(t, "GET", srv.URL+"/hungyen/rss.xml", "Accept-Encoding", "gzip").
		expect(t, 200, "Content-Type", "application/rss+xml; charset=utf-8", "Content-Encoding", "gzip")
}
