package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/libs/testkit"
)

// These tests start render in-process with run, against a real embedded NATS
// and a real MinIO, and drive it through its real inputs: the tenants and
// media KV buckets and article.approved / article.unpublished events.

const (
	testSiteURL  = "https://tin.example.vn"
	testViewsURL = "https://views.example.vn"
)

var hungyen = &tenant.Tenant{
	ID:     "hungyen",
	Name:   "Đảng bộ Khối Cơ quan - Doanh nghiệp tỉnh Hưng Yên",
	Banner: "Nhiệt liệt chào mừng 95 năm Ngày thành lập Đảng Cộng sản Việt Nam!",
	Categories: []tenant.Category{
		{Slug: "hoat-dong-dang-bo-khoi", Name: "Hoạt động Đảng bộ khối"},
		{Slug: "tin-tuc", Name: "Tin tức"},
	},
	Links:  []tenant.Link{{Name: "Báo Hưng Yên", URL: "https://baohungyen.vn"}},
	Videos: []tenant.Video{{Title: "Đại hội Đảng bộ Khối lần thứ VI", URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}},
}

type harness struct {
	t         *testing.T
	bus       *bus.Bus
	store     *blob.Store
	media     jetstream.KeyValue
	index     jetstream.KeyValue
	published jetstream.Consumer
	logs      *syncBuffer
	env       map[string]string
	stop      func() // stops the running render, nil when stopped
}

// startRender runs render in-process with the harness's environment.
func (h *harness) startRender() {
	h.t.Helper()
	if h.stop != nil {
		h.t.Fatal("render is already running")
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(rctx, func(k string) string { return h.env[k] }, h.logs) }()
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("run: %v", err)
		}
	}
}

// stopRender ends run as SIGTERM would and waits for it to return.
func (h *harness) stopRender() {
	if h.stop != nil {
		h.stop()
		h.stop = nil
	}
}

func start(t *testing.T) *harness {
	t.Helper()
	nats := testkit.NATS(t)
	s3 := testkit.MinIO(t)
	ctx := t.Context()

	b, err := bus.Connect(bus.Config{URL: nats.URL(), Name: "render-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	if err := b.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	tenantsKV, err := b.KV(ctx, bus.BucketTenants)
	if err != nil {
		t.Fatal(err)
	}
	if err := tenant.NewStore(tenantsKV).Put(ctx, hungyen); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, bus: b, logs: &syncBuffer{}}
	if h.media, err = b.KV(ctx, bus.BucketMedia); err != nil {
		t.Fatal(err)
	}
	if h.index, err = b.KV(ctx, bus.BucketRenderIndex); err != nil {
		t.Fatal(err)
	}
	if h.store, err = blob.New(s3); err != nil {
		t.Fatal(err)
	}
	if err := h.store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	h.published, err = b.JetStream().OrderedConsumer(ctx, bus.StreamArticles, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{bus.TypeArticlePublished + ".>"},
	})
	if err != nil {
		t.Fatal(err)
	}

	h.env = map[string]string{
		"NATS_URL": nats.URL(), "S3_ENDPOINT": s3.Endpoint, "S3_ACCESS_KEY": s3.AccessKey,
		"S3_SECRET_KEY": s3.SecretKey, "S3_BUCKET": s3.Bucket,
		"RENDER_HTTP_ADDR": "127.0.0.1:0", "RENDER_SITE_URL": testSiteURL + "/", "RENDER_VIEWS_URL": testViewsURL,
		"RENDER_SHUTDOWN_TIMEOUT": "10s",
	}
	h.startRender()
	t.Cleanup(func() {
		h.stopRender()
		if t.Failed() {
			t.Logf("render's log:\n%s", h.logs.String())
		}
	})
	return h
}

// waitFor polls until ok holds, failing the test if it never does.
func (h *harness) waitFor(what string, ok func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			h.t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *harness) page(path string) string {
	h.t.Helper()
	b, err := h.store.GetBytes(h.t.Context(), "site/hungyen/"+path, 1<<20)
	if err != nil {
		h.t.Fatalf("reading page %s: %v", path, err)
	}
	return string(b)
}

func (h *harness) exists(path string) bool {
	_, err := h.store.Stat(h.t.Context(), "site/hungyen/"+path)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		h.t.Fatalf("stat %s: %v", path, err)
	}
	return err == nil
}

func (h *harness) publish(env *eventsv1.Envelope) {
	h.t.Helper()
	if err := h.bus.Publish(h.t.Context(), env); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) nextPublished() *eventsv1.Envelope {
	h.t.Helper()
	m, err := h.published.Next(jetstream.FetchMaxWait(90 * time.Second))
	if err != nil {
		h.t.Fatalf("waiting for article.published: %v", err)
	}
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(m.Data(), env); err != nil {
		h.t.Fatal(err)
	}
	return env
}

// putPhoto stores the manifest image-resize would write for a resized photo.
func (h *harness) putPhoto(name string) string {
	h.t.Helper()
	id := mediaID(name)
	var rs []*eventsv1.Rendition
	for _, w := range []int32{320, 640, 1024, 1600} {
		rs = append(rs, &eventsv1.Rendition{Width: w, Height: w * 2 / 3, Bytes: int64(w) * 50, Format: "jpeg",
			Key: fmt.Sprintf("media/hungyen/%s/%d.jpg", id, w)})
	}
	h.putManifest(&eventsv1.MediaManifest{MediaId: id, Resized: &eventsv1.MediaResized{
		MediaId: id, OriginalWidth: 2000, OriginalHeight: 1333, Renditions: rs}})
	return id
}

func (h *harness) putManifest(m *eventsv1.MediaManifest) {
	h.t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.media.Put(h.t.Context(), "hungyen."+m.GetMediaId(), b); err != nil {
		h.t.Fatal(err)
	}
}

func mediaID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

func approved(a *eventsv1.Article, at time.Time) *eventsv1.Envelope {
	return &eventsv1.Envelope{
		Id:   fmt.Sprintf("hungyen.%s.%d.approved", a.GetId(), a.GetRevision()),
		Type: bus.TypeArticleApproved, Tenant: "hungyen", CorrelationId: a.GetId(),
		OccurredAt: timestamppb.New(at),
		Payload:    &eventsv1.Envelope_ArticleApproved{ArticleApproved: &eventsv1.ArticleApproved{Article: a}},
	}
}

func paragraph(s string) *eventsv1.Block {
	return &eventsv1.Block{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: s}}}
}

func image(id, caption, credit string) *eventsv1.Block {
	return &eventsv1.Block{Kind: &eventsv1.Block_Image{Image: &eventsv1.Image{MediaId: id, Caption: caption, Credit: credit}}}
}

func mustContain(t *testing.T, what, doc string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(doc, p) {
			t.Errorf("%s does not contain %q", what, p)
		}
	}
}

func mustNotContain(t *testing.T, what, doc string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(doc, p) {
			t.Errorf("%s contains %q", what, p)
		}
	}
}

func TestRenderPublishesAnApprovedArticle(t *testing.T) {
	h := start(t)

	// Before any article, the home page and the menu's category pages exist.
	h.waitFor("the empty home page", func() bool { return h.exists("index.html") && h.exists("tin-tuc/index.html") })
	mustContain(t, "empty home page", h.page("index.html"), "Chưa có bài viết.", `href="/hungyen/tin-tuc/"`, "Tin tức")

	photo := h.putPhoto("photo1")
	broken := mediaID("broken")
	h.putManifest(&eventsv1.MediaManifest{MediaId: broken, Failed: &eventsv1.MediaFailed{MediaId: broken, Reason: "not an image"}})
	first := &eventsv1.Article{
		Id: "a1b2c3d4e5f6g7h8", Revision: 1, Category: "hoat-dong-dang-bo-khoi",
		Title:        "Giao ban lần thứ IX <script>alert(1)</script> tại Hưng Yên",
		Lead:         "Ngày 19/4/2019, tại thành phố Hưng Yên, Hội nghị giao ban <b>cụm Đồng bằng Bắc Bộ</b>.",
		Author:       "Phương Thúy",
		Source:       &eventsv1.Source{Name: "baonamdinh.vn", Url: "https://baonamdinh.vn"},
		PublishedAt:  timestamppb.New(time.Date(2019, 4, 24, 8, 55, 40, 0, time.UTC)),
		InitialViews: 696,
		Body: []*eventsv1.Block{
			image(photo, "Các đại biểu dự Hội nghị", "Lam Hồng"),
			paragraph("Tham dự Hội nghị gồm các đồng chí thường trực đảng ủy."),
			image(broken, "Ảnh không dùng được", ""),
			paragraph(`Đồng chí phát biểu "đoàn kết" & <i>thống nhất</i>.`),
		},
	}
	h.publish(approved(first, time.Now()))

	ev := h.nextPublished()
	pub := ev.GetArticlePublished()
	path := "bai-viet/giao-ban-lan-thu-ix-script-alert-1-script-tai-hung-yen-a1b2c3d4e5f6g7h8.html"
	if ev.GetId() != "hungyen.a1b2c3d4e5f6g7h8.1.published" || ev.GetCorrelationId() != first.Id || ev.GetTenant() != "hungyen" {
		t.Errorf("envelope id %q correlation %q tenant %q", ev.GetId(), ev.GetCorrelationId(), ev.GetTenant())
	}
	if pub.GetPath() != path || pub.GetUrl() != testSiteURL+"/hungyen/"+path {
		t.Errorf("path %q url %q", pub.GetPath(), pub.GetUrl())
	}
	if pub.GetInitialViews() != 696 || pub.GetCategory() != "hoat-dong-dang-bo-khoi" || pub.GetRevision() != 1 {
		t.Errorf("initial views %d category %q revision %d", pub.GetInitialViews(), pub.GetCategory(), pub.GetRevision())
	}
	for _, p := range []string{path, "index.html", "hoat-dong-dang-bo-khoi/index.html"} {
		if !strings.Contains(strings.Join(pub.GetChangedPaths(), " "), p) {
			t.Errorf("changed paths %v lack %s", pub.GetChangedPaths(), p)
		}
	}

	info, err := h.store.Stat(t.Context(), "site/hungyen/"+path)
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != "text/html; charset=utf-8" {
		t.Errorf("content type %q", info.ContentType)
	}
	doc := h.page(path)
	media := "/hungyen/media/" + photo + "/"
	mustContain(t, "article page", doc,
		`<html lang="vi">`, `<meta charset="utf-8">`, `name="viewport"`,
		"<title>Giao ban lần thứ IX &lt;script&gt;alert(1)&lt;/script&gt; tại Hưng Yên – Đảng bộ Khối",
		`<meta name="description" content="Ngày 19/4/2019, tại thành phố Hưng Yên, Hội nghị giao ban &lt;b&gt;cụm`,
		`<link rel="canonical" href="`+testSiteURL+"/hungyen/"+path+`">`,
		"Nhiệt liệt chào mừng 95 năm", "Đảng bộ Khối Cơ quan - Doanh nghiệp tỉnh Hưng Yên",
		`<a href="/hungyen/hoat-dong-dang-bo-khoi/" class="on" aria-current="page">Hoạt động Đảng bộ khối</a>`, `<a href="/hungyen/tin-tuc/">Tin tức</a>`,
		`<a href="/hungyen/">Trang chủ</a> › <a href="/hungyen/hoat-dong-dang-bo-khoi/">Hoạt động Đảng bộ khối</a>`,
		"<h1>Giao ban lần thứ IX &lt;script&gt;alert(1)&lt;/script&gt; tại Hưng Yên</h1>",
		"Thứ Tư, 24/04/2019, 15:55",
		`<span class="views">Lượt xem: <b></b></span>`, "Cỡ chữ: <button", ">A−</button>", ">A</button>", ">A+</button>", `localStorage.setItem("bp-font"`,
		`<meta property="og:type" content="article">`, `<meta property="og:image" content="`+testSiteURL+media+`1600.jpg">`,
		`<meta name="twitter:card" content="summary_large_image">`, `<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle"`,
		`"datePublished":"2019-04-24T15:55:40+07:00"`, `<link rel="alternate" type="application/rss+xml"`, "Website liên kết", `<a href="https://baohungyen.vn" rel="noopener">Báo Hưng Yên</a>`,
		`<p class="lead">Ngày 19/4/2019, tại thành phố Hưng Yên, Hội nghị giao ban &lt;b&gt;cụm Đồng bằng Bắc Bộ&lt;/b&gt;.</p>`,
		`<figure><img src="`+media+`1024.jpg" srcset="`+media+`320.jpg 320w, `+media+`640.jpg 640w, `+media+`1024.jpg 1024w, `+media+`1600.jpg 1600w" sizes="(max-width: 800px) 100vw, 760px" width="1024" height="682" alt="Các đại biểu dự Hội nghị" fetchpriority="high">`,
		`<figcaption>Các đại biểu dự Hội nghị <span class="credit">Ảnh: Lam Hồng</span></figcaption></figure>`,
		"<p>Tham dự Hội nghị gồm các đồng chí thường trực đảng ủy.</p>",
		"<p>Đồng chí phát biểu &#34;đoàn kết&#34; &amp; &lt;i&gt;thống nhất&lt;/i&gt;.</p>",
		`<p class="author"><a href="/hungyen/tac-gia/phuong-thuy/" rel="author">Phương Thúy</a></p>`,
		`Theo: <a href="https://baonamdinh.vn" rel="noopener">baonamdinh.vn</a>`,
		`"https://views.example.vn/v1/tenants/hungyen/views/a1b2c3d4e5f6g7h8"`,
		`"https://views.example.vn/v1/tenants/hungyen/views?ids=a1b2c3d4e5f6g7h8"`,
	)
	mustNotContain(t, "article page", doc, "<script>alert", "<b>cụm", "<i>thống", broken, "Ảnh không dùng được",
		`decoding="async"`, "Các bài viết khác")
	if n := strings.Count(doc, "<script"); n != 4 {
		t.Errorf("article page has %d script elements, want JSON-LD, the font-size preference, the side boxes' and the page script", n)
	}
	// The side column: latest articles standing in for the most-read list
	// until the script has view-counter's, and the photo box.
	mustContain(t, "article page", doc,
		`<section id="mostread" data-most-read="https://views.example.vn/v1/tenants/hungyen/views/most-read?period=week&amp;limit=20" data-titles="/hungyen/titles.json"><h2>Tin mới</h2>`,
		`<section id="photos" data-live=""><h2>Ảnh</h2>`,
		`<h2>Video</h2>`+"\n"+`<ul class="links videos"><li><a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ" rel="noopener">Đại hội Đảng bộ Khối lần thứ VI</a></li></ul>`)
	mustNotContain(t, "article page", doc, "<iframe", "<video")
	mustNotContain(t, "article page", doc, `src="http`, `href="http://`)

	var sum Summary
	e, err := h.index.Get(t.Context(), "hungyen.a1b2c3d4e5f6g7h8")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(e.Value(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Path != path || sum.Revision != 1 || sum.Thumb != media+"320.jpg" || !sum.PublishedAt.Equal(first.PublishedAt.AsTime()) {
		t.Errorf("index entry %+v", sum)
	}

	home := h.page("index.html")
	mustContain(t, "home page", home, `href="/hungyen/`+path+`"`, "Giao ban lần thứ IX &lt;script&gt;", "24/04/2019",
		`<h2><a href="/hungyen/hoat-dong-dang-bo-khoi/">Hoạt động Đảng bộ khối</a></h2>`)
	category := h.page("hoat-dong-dang-bo-khoi/index.html")
	mustContain(t, "category page", category, "<h1>Hoạt động Đảng bộ khối</h1>", `href="/hungyen/`+path+`"`,
		`src="`+media+`320.jpg"`, "24/04/2019")

	// A second article of the category lists the first under "Các bài viết khác";
	// it has no published_at, so its date is the approval's.
	second := &eventsv1.Article{Id: "zz00000000000002", Revision: 1, Category: "hoat-dong-dang-bo-khoi",
		Title: "Hội nghị Ban Chấp hành lần thứ 17", Lead: "Sáng nay…", Body: []*eventsv1.Block{paragraph("Nội dung.")}}
	h.publish(approved(second, time.Date(2024, 7, 22, 3, 0, 0, 0, time.UTC)))
	ev = h.nextPublished()
	secondPath := ev.GetArticlePublished().GetPath()
	doc = h.page(secondPath)
	mustContain(t, "second article", doc, "Thứ Hai, 22/07/2024, 10:00", "<h2>Tin liên quan</h2>", `href="/hungyen/`+path+`"`)
	// The first article's page now lists the second under "Các bài viết khác".
	mustContain(t, "first article", h.page(path), "<h2>Các bài viết khác</h2>", `href="/hungyen/`+secondPath+`"`)
	mustNotContain(t, "second article", doc, "<figure", "Theo:", `class="author"`)
	home = h.page("index.html")
	if strings.Index(home, secondPath) > strings.Index(home, path) {
		t.Error("home page does not list the newest article first")
	}

	// Revision 2 changes the title, so the page moves; the old address points to the new one.
	revised := proto.Clone(first).(*eventsv1.Article)
	revised.Revision = 2
	revised.Title = "Giao ban lần thứ IX tại tỉnh Hưng Yên"
	h.publish(approved(revised, time.Now()))
	ev = h.nextPublished()
	newPath := "bai-viet/giao-ban-lan-thu-ix-tai-tinh-hung-yen-a1b2c3d4e5f6g7h8.html"
	if ev.GetArticlePublished().GetPath() != newPath || ev.GetArticlePublished().GetRevision() != 2 {
		t.Fatalf("revision 2 published as %v", ev.GetArticlePublished())
	}
	mustContain(t, "old address", h.page(path), `<meta http-equiv="refresh" content="0; url=/hungyen/`+newPath+`">`)
	if info, err := h.store.Stat(t.Context(), "site/hungyen/"+path); err != nil || !strings.Contains(info.ContentType, "x-status=301") {
		t.Errorf("old address type %q (%v), want a 301 for site", info.ContentType, err)
	}
	mustContain(t, "revised article", h.page(newPath), "<h1>Giao ban lần thứ IX tại tỉnh Hưng Yên</h1>", "Thứ Tư, 24/04/2019, 15:55")

	// A late redelivery of revision 1 is skipped.
	stale := approved(first, time.Now())
	stale.Id += ".replayed"
	h.publish(stale)
	h.waitFor("the stale revision to be skipped", func() bool {
		return strings.Contains(h.logs.String(), "skipping an approved revision older than the published one")
	})
	mustContain(t, "revised article", h.page(newPath), "<h1>Giao ban lần thứ IX tại tỉnh Hưng Yên</h1>")
	mustNotContain(t, "old address", h.page(path), "<h1>Giao ban lần thứ IX &lt;script&gt;")

	// Unpublishing replaces the page by a notice and takes it off the lists.
	h.publish(&eventsv1.Envelope{Id: "hungyen.a1b2c3d4e5f6g7h8.2.unpublished", Type: bus.TypeArticleUnpublished,
		Tenant: "hungyen", CorrelationId: first.Id, Payload: &eventsv1.Envelope_ArticleUnpublished{
			ArticleUnpublished: &eventsv1.ArticleUnpublished{ArticleId: first.Id, Revision: 2, Reason: "Trùng với bài đã đăng"}}})
	h.waitFor("the notice page", func() bool { return strings.Contains(h.page(newPath), "Bài viết đã được gỡ bỏ.") })
	mustContain(t, "removed article", h.page(newPath), "Trùng với bài đã đăng", `<meta name="robots" content="noindex">`)
	h.waitFor("the home page without the article", func() bool { return !strings.Contains(h.page("index.html"), newPath) })
	mustNotContain(t, "category page", h.page("hoat-dong-dang-bo-khoi/index.html"), newPath)
	if _, err := h.index.Get(t.Context(), "hungyen.a1b2c3d4e5f6g7h8"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("index entry after unpublish: %v", err)
	}
}

func TestRenderWaitsForPhotos(t *testing.T) {
	h := start(t)
	photo := mediaID("photo-resized-later")
	a := &eventsv1.Article{Id: "wait000000000001", Revision: 1, Category: "tin-tuc", Title: "Ảnh đến sau",
		Lead: "Bài có ảnh chưa xử lý xong.", Body: []*eventsv1.Block{image(photo, "Toàn cảnh buổi làm việc", ""), paragraph("Nội dung.")}}
	h.publish(approved(a, time.Now()))

	h.waitFor("render to wait for the photo", func() bool {
		return strings.Contains(h.logs.String(), "waiting for photo "+photo)
	})
	path := "bai-viet/anh-den-sau-wait000000000001.html"
	if h.exists(path) {
		t.Fatal("the page was written before its photo was resized")
	}

	h.putPhoto("photo-resized-later")
	ev := h.nextPublished()
	if ev.GetArticlePublished().GetPath() != path {
		t.Fatalf("published %v", ev.GetArticlePublished())
	}
	mustContain(t, "article page", h.page(path), `<figure><img src="/hungyen/media/`+photo+`/1024.jpg"`,
		"<figcaption>Toàn cảnh buổi làm việc</figcaption>")
	mustContain(t, "category page", h.page("tin-tuc/index.html"), path)
}

// syncBuffer is a log sink safe for the service's goroutines and the test's.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A tenant created while render runs gets its 404 page, robots.txt and
// empty category pages with its first article, not only at the next
// configuration refresh.
func TestFirstPublishOfANewTenantBuildsItsPages(t *testing.T) {
	h := start(t)
	ctx := t.Context()
	h.waitFor("hungyen's pages", func() bool { return h.exists("index.html") })
	tenantsKV, err := h.bus.KV(ctx, bus.BucketTenants)
	if err != nil {
		t.Fatal(err)
	}
	namdinh := &tenant.Tenant{ID: "namdinh", Name: "Đảng bộ Khối tỉnh Nam Định",
		Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}, {Slug: "xay-dung-dang", Name: "Xây dựng Đảng"}}}
	if err := tenant.NewStore(tenantsKV).Put(ctx, namdinh); err != nil {
		t.Fatal(err)
	}
	a := &eventsv1.Article{Id: "nd00000000000001", Revision: 1, Category: "tin-tuc", Title: "Hội nghị tổng kết",
		Body: []*eventsv1.Block{paragraph("Nội dung.")}}
	env := approved(a, time.Now())
	env.Id, env.Tenant = "namdinh.nd00000000000001.1.approved", "namdinh"
	h.publish(env)
	if ev := h.nextPublished(); ev.GetTenant() != "namdinh" {
		t.Fatalf("published %s/%s", ev.GetTenant(), ev.GetArticlePublished().GetArticleId())
	}
	for _, p := range []string{"404.html", "robots.txt", "xay-dung-dang/index.html"} {
		if _, err := h.store.Stat(ctx, "site/namdinh/"+p); err != nil {
			t.Errorf("%s once namdinh's first article is published: %v", p, err)
		}
	}
}
