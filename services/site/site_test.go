package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/localstack"
	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/libs/testkit"
)

// These tests serve real objects from a real MinIO. The handler tests use a
// fixed set of tenants; TestRun wires the whole service to NATS as well.

var (
	photoID = strings.Repeat("0123456789abcdef", 4)
	page    = "<!DOCTYPE html><html lang=\"vi\"><title>Trang chủ</title>" + strings.Repeat("<p>Đảng bộ Khối Cơ quan - Doanh nghiệp tỉnh Hưng Yên</p>", 40)
)

var testTenants = staticTenants{
	"hungyen": {ID: "hungyen", Name: "Đảng bộ Khối tỉnh Hưng Yên", Hosts: []string{"hungyen.example.vn"},
		Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}}},
	"namdinh": {ID: "namdinh", Name: "Đảng bộ Khối tỉnh Nam Định <b>",
		Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}}},
}

type staticTenants map[string]*tenant.Tenant

func (s staticTenants) Get(_ context.Context, id string) (*tenant.Tenant, error) {
	if t, ok := s[id]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("%w: %s", tenant.ErrNotFound, id)
}

func (s staticTenants) All(context.Context) ([]*tenant.Tenant, error) {
	var out []*tenant.Tenant
	for _, t := range s {
		out = append(out, t)
	}
	return out, nil
}

// countingStore counts the calls that reach S3, except for the tenant's own
// 404 page, which every not-found answer reads.
type countingStore struct {
	objectStore
	calls atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	if !strings.HasSuffix(key, "/404.html") {
		c.calls.Add(1)
	}
	return c.objectStore.Get(ctx, key)
}

func (c *countingStore) Stat(ctx context.Context, key string) (blob.Info, error) {
	if !strings.HasSuffix(key, "/404.html") {
		c.calls.Add(1)
	}
	return c.objectStore.Stat(ctx, key)
}

func putObjects(t *testing.T, cfg blob.Config) *blob.Store {
	t.Helper()
	store, err := blob.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	objects := []struct{ key, ctype, body string }{
		{"site/hungyen/index.html", "text/html; charset=utf-8", page},
		{"site/hungyen/tin-tuc/index.html", "text/html; charset=utf-8", "<p>Tin tức</p>"},
		{"site/hungyen/bai-viet/giao-ban-a1b2c3d4e5f6g7h8.html", "text/html; charset=utf-8", "<h1>Giao ban</h1>"},
		{"site/hungyen/bai-viet/no-type-0000000000000001.html", "", "<h1>Không có kiểu</h1>"},
		{"site/namdinh/index.html", "text/html; charset=utf-8", "<h1>Nam Định</h1>"},
		{"media/hungyen/" + photoID + "/320.jpg", "image/jpeg", "\xff\xd8\xff rendition"},
		{"media/hungyen/" + photoID + "/original", "image/jpeg", "\xff\xd8\xff original"},
	}
	for _, o := range objects {
		if err := store.PutBytes(ctx, o.key, []byte(o.body), o.ctype); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func newTestSite(t *testing.T) (*httptest.Server, *countingStore) {
	t.Helper()
	store := &countingStore{objectStore: putObjects(t, testkit.MinIO(t))}
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&Site{store: store, tenants: testTenants, pages: pages, s3Timeout: 5 * time.Second,
		log: slog.New(slog.DiscardHandler)})
	t.Cleanup(srv.Close)
	return srv, store
}

// httpClient follows no redirect and leaves gzip to the test.
var httpClient = &http.Client{
	Transport:     &http.Transport{DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type response struct {
	*http.Response
	body string
}

// get sends a request without following redirects or decompressing.
func get(t *testing.T, method, url string, header ...string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp, string(b)}
}

func (r response) expect(t *testing.T, status int, headers ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Errorf("%s %s: status %d, want %d", r.Request.Method, r.Request.URL.Path, r.StatusCode, status)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if got := r.Header.Get(headers[i]); got != headers[i+1] {
			t.Errorf("%s %s: %s = %q, want %q", r.Request.Method, r.Request.URL.Path, headers[i], got, headers[i+1])
		}
	}
}

func TestServesPagesAndRenditions(t *testing.T) {
	srv, _ := newTestSite(t)

	r := get(t, "GET", srv.URL+"/hungyen/")
	r.expect(t, 200, "Content-Type", "text/html; charset=utf-8", "Cache-Control", "public, max-age=60",
		"Content-Length", fmt.Sprint(len(page)), "Vary", "Accept-Encoding", "X-Content-Type-Options", "nosniff")
	if r.body != page || r.Header.Get("ETag") == "" || r.Header.Get("Last-Modified") == "" {
		t.Errorf("home: body %d bytes, ETag %q, Last-Modified %q", len(r.body), r.Header.Get("ETag"), r.Header.Get("Last-Modified"))
	}
	get(t, "GET", srv.URL+"/hungyen/tin-tuc/").expect(t, 200, "Content-Type", "text/html; charset=utf-8")
	get(t, "GET", srv.URL+"/hungyen/bai-viet/giao-ban-a1b2c3d4e5f6g7h8.html").expect(t, 200, "Cache-Control", "public, max-age=60")
	// Stored without a type: the extension decides.
	get(t, "GET", srv.URL+"/hungyen/bai-viet/no-type-0000000000000001.html").expect(t, 200, "Content-Type", "text/html; charset=utf-8")

	r = get(t, "GET", srv.URL+"/hungyen/media/"+photoID+"/320.jpg")
	r.expect(t, 200, "Content-Type", "image/jpeg", "Cache-Control", "public, max-age=31536000, immutable", "Vary", "")
	if r.body != "\xff\xd8\xff rendition" {
		t.Errorf("rendition body %q", r.body)
	}
	r = get(t, "HEAD", srv.URL+"/hungyen/media/"+photoID+"/320.jpg")
	r.expect(t, 200, "Content-Type", "image/jpeg", "Content-Length", "13")
	if r.body != "" {
		t.Errorf("HEAD sent a body")
	}

	get(t, "GET", srv.URL+"/hungyen").expect(t, 301, "Location", "/hungyen/")
	get(t, "GET", srv.URL+"/hungyen/tin-tuc?trang=2").expect(t, 301, "Location", "/hungyen/tin-tuc/?trang=2")
	get(t, "POST", srv.URL+"/hungyen/").expect(t, 405, "Allow", "GET, HEAD")

	r = get(t, "GET", srv.URL+"/hungyen/bai-viet/khong-co-0000000000000000.html")
	r.expect(t, 404, "Content-Type", "text/html; charset=utf-8")
	if !strings.Contains(r.body, "Không tìm thấy trang") || !strings.Contains(r.body, `href="/hungyen/"`) {
		t.Errorf("404 page: %s", r.body)
	}

	r = get(t, "GET", srv.URL+"/")
	r.expect(t, 200, "Content-Type", "text/html; charset=utf-8")
	for _, want := range []string{`<a href="/hungyen/">Đảng bộ Khối tỉnh Hưng Yên</a>`, `<a href="/namdinh/">Đảng bộ Khối tỉnh Nam Định &lt;b&gt;</a>`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("tenant list lacks %s:\n%s", want, r.body)
		}
	}
}

func TestOnlyRenditionsOfMediaAreServed(t *testing.T) {
	srv, store := newTestSite(t)
	for _, p := range []string{
		"/hungyen/media/" + photoID + "/original",
		"/hungyen/media/" + photoID + "/320.gif",
		"/hungyen/media/" + photoID + "/0320.jpg",
		"/hungyen/media/" + strings.ToUpper(photoID) + "/320.jpg",
		"/hungyen/media/" + photoID[:63] + "/320.jpg",
		"/hungyen/media/" + photoID + "/320.jpg/x",
		"/hungyen/media/" + photoID + "/",
		"/hungyen/media/",
	} {
		before := store.calls.Load()
		r := get(t, "GET", srv.URL+p)
		r.expect(t, 404)
		if !strings.Contains(r.body, "Không tìm thấy trang") {
			t.Errorf("GET %s: body %q", p, r.body)
		}
		if store.calls.Load() != before {
			t.Errorf("GET %s reached S3", p)
		}
	}
	// namdinh cannot read hungyen's photo through its own prefix.
	get(t, "GET", srv.URL+"/namdinh/media/"+photoID+"/320.jpg").expect(t, 404)
}

func TestRefusesBadPathsBeforeS3(t *testing.T) {
	srv, store := newTestSite(t)
	pages, _ := parseTemplates()
	site := &Site{store: store, tenants: testTenants, pages: pages, s3Timeout: time.Second, log: slog.New(slog.DiscardHandler)}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/hung.yen/", 400},
		{"/hungyen.>/", 400},
		{"/HUNGYEN/", 400},
		{"/h/", 400},
		{"/" + strings.Repeat("a", 33) + "/", 400},
		{"/hungyen%2F..%2Fnamdinh/index.html", 400},
		{"/hungyen/bai-viet%2Fx.html", 400},
		{"/hungyen/%2e%2e/namdinh/index.html", 400},
		{"/hungyen/bai-viet/%00.html", 400},
		{"/hungyen/bai-viet/a%5Cb.html", 400},
		{"/hungyen//index.html", 400},
		{"/hungyen/bài-viết/", 400},
		{"/khongco/", 404},
		{"/khongco/index.html", 404},
	} {
		before := store.calls.Load()
		get(t, "GET", srv.URL+tc.path).expect(t, tc.status)
		if store.calls.Load() != before {
			t.Errorf("GET %s reached S3", tc.path)
		}
	}
	// Dot segments never arrive through a client that cleans paths; serve them raw.
	for _, p := range []string{"/hungyen/../namdinh/index.html", "/hungyen/./index.html", "/../site/hungyen/index.html"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "http://site.test/", nil)
		req.URL.Path = p
		site.ServeHTTP(rec, req)
		if rec.Code != 400 {
			t.Errorf("GET %s: status %d, want 400", p, rec.Code)
		}
	}
}

func TestConditionalRequests(t *testing.T) {
	srv, _ := newTestSite(t)
	url := srv.URL + "/hungyen/"
	first := get(t, "GET", url)
	etag, modified := first.Header.Get("ETag"), first.Header.Get("Last-Modified")

	r := get(t, "GET", url, "If-None-Match", etag)
	r.expect(t, 304, "ETag", etag, "Cache-Control", "public, max-age=60")
	if r.body != "" {
		t.Error("304 with a body")
	}
	get(t, "GET", url, "If-None-Match", `"other", `+etag).expect(t, 304)
	get(t, "GET", url, "If-None-Match", `"other"`).expect(t, 200)
	get(t, "GET", url, "If-Modified-Since", modified).expect(t, 304)
	earlier := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	get(t, "GET", url, "If-Modified-Since", earlier).expect(t, 200)
	// If-None-Match wins over If-Modified-Since.
	get(t, "GET", url, "If-None-Match", `"other"`, "If-Modified-Since", modified).expect(t, 200)

	img := srv.URL + "/hungyen/media/" + photoID + "/320.jpg"
	tag := get(t, "GET", img).Header.Get("ETag")
	get(t, "GET", img, "If-None-Match", tag).expect(t, 304, "Cache-Control", "public, max-age=31536000, immutable")

	// The gzipped page carries a weak tag that still validates either way.
	gz := get(t, "GET", url, "Accept-Encoding", "gzip")
	if gz.Header.Get("ETag") != "W/"+etag {
		t.Errorf("gzip ETag %q, want W/%s", gz.Header.Get("ETag"), etag)
	}
	get(t, "GET", url, "Accept-Encoding", "gzip", "If-None-Match", etag).expect(t, 304)
	get(t, "GET", url, "If-None-Match", gz.Header.Get("ETag")).expect(t, 304)
}

func TestGzip(t *testing.T) {
	srv, _ := newTestSite(t)
	url := srv.URL + "/hungyen/"
	r := get(t, "GET", url, "Accept-Encoding", "br, gzip;q=0.8")
	r.expect(t, 200, "Content-Encoding", "gzip", "Vary", "Accept-Encoding", "Content-Type", "text/html; charset=utf-8")
	zr, err := gzip.NewReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != page || len(r.body) >= len(page) {
		t.Errorf("gzip: %d compressed bytes, %d plain, want %d", len(r.body), len(plain), len(page))
	}
	get(t, "GET", url, "Accept-Encoding", "gzip;q=0, deflate").expect(t, 200, "Content-Encoding", "")
	get(t, "GET", url, "Accept-Encoding", "*;q=0.5").expect(t, 200, "Content-Encoding", "gzip")
	get(t, "GET", url).expect(t, 200, "Content-Encoding", "")
	// Photos are compressed already.
	get(t, "GET", srv.URL+"/hungyen/media/"+photoID+"/320.jpg", "Accept-Encoding", "gzip").expect(t, 200, "Content-Encoding", "")
	// The site's own pages too.
	r = get(t, "GET", srv.URL+"/khongco/", "Accept-Encoding", "gzip")
	r.expect(t, 404, "Content-Encoding", "gzip")
	if zr, err := gzip.NewReader(bytes.NewReader([]byte(r.body))); err != nil {
		t.Error(err)
	} else if b, _ := io.ReadAll(zr); !strings.Contains(string(b), "Không tìm thấy trang") {
		t.Errorf("gzipped 404 page: %s", b)
	}
}

func TestHostRouting(t *testing.T) {
	srv, _ := newTestSite(t)
	host := "HungYen.Example.VN:8080"
	r := get(t, "GET", srv.URL+"/", "Host", host)
	r.expect(t, 200)
	if r.body != page {
		t.Errorf("/ on the tenant's host is not its home page: %.80s", r.body)
	}
	get(t, "GET", srv.URL+"/tin-tuc/", "Host", host).expect(t, 200)
	get(t, "GET", srv.URL+"/tin-tuc", "Host", host).expect(t, 301, "Location", "/tin-tuc/")
	get(t, "GET", srv.URL+"/bai-viet/giao-ban-a1b2c3d4e5f6g7h8.html", "Host", host).expect(t, 200)
	get(t, "GET", srv.URL+"/media/"+photoID+"/320.jpg", "Host", host).expect(t, 200, "Content-Type", "image/jpeg")
	get(t, "GET", srv.URL+"/media/"+photoID+"/original", "Host", host).expect(t, 404)
	// Links render writes carry the tenant prefix; they work on the host too.
	get(t, "GET", srv.URL+"/hungyen/bai-viet/giao-ban-a1b2c3d4e5f6g7h8.html", "Host", host).expect(t, 200)
	get(t, "GET", srv.URL+"/hungyen/", "Host", host).expect(t, 200)
	get(t, "GET", srv.URL+"/hungyen", "Host", host).expect(t, 301, "Location", "/hungyen/")
	// Another tenant's pages are not reachable through this host.
	get(t, "GET", srv.URL+"/namdinh/", "Host", host).expect(t, 404)
	r = get(t, "GET", srv.URL+"/khong-co/", "Host", host)
	r.expect(t, 404)
	if !strings.Contains(r.body, `<a href="/">`) {
		t.Errorf("404 on a tenant's host links home at /: %s", r.body)
	}
	// Other hosts keep the prefixed layout.
	get(t, "GET", srv.URL+"/tin-tuc/", "Host", "tin.example.vn").expect(t, 404)
}

func TestUnreachableStorage(t *testing.T) {
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	store, err := blob.New(blob.Config{Endpoint: fmt.Sprintf("127.0.0.1:%d", port), AccessKey: "x", SecretKey: "y", Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&Site{store: store, tenants: testTenants, pages: pages, s3Timeout: 2 * time.Second,
		log: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	r := get(t, "GET", srv.URL+"/hungyen/")
	r.expect(t, 503, "Retry-After", "5", "Cache-Control", "no-store")
	if !strings.Contains(r.body, "Hệ thống tạm thời gián đoạn") {
		t.Errorf("503 page: %s", r.body)
	}
}
