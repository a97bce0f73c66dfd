package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
)

// TestFeedsSitemapsTakedownAndRebuild publishes articles, checks every
// document besides the pages, takes one down with each form, then rebuilds
// the tenant from the stream twice.
func TestFeedsSitemapsTakedownAndRebuild(t *testing.T) {
	h := start(t)
	now := time.Now()
	var ids []string
	for i := range 4 {
		a := &eventsv1.Article{Id: fmt.Sprintf("feed%012d", i), Revision: 1, Category: "tin-tuc",
			Title: fmt.Sprintf("Tin số %d & <em>", i), Lead: "Tóm tắt " + fmt.Sprint(i), Author: "Lam Hồng",
			PublishedAt: timestamppb.New(now.Add(time.Duration(i-3) * 24 * time.Hour)),
			Body:        []*eventsv1.Block{paragraph("Nội dung.")}}
		h.publish(approved(a, now))
		h.nextPublished()
		ids = append(ids, a.Id)
	}
	pathOf := func(i int) string { return fmt.Sprintf("bai-viet/tin-so-%d-em-feed%012d.html", i, i) }

	rss := h.page("rss.xml")
	mustContain(t, "rss", rss, `<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"`, "<title>Tin số 3 &amp; &lt;em&gt;</title>",
		"<link>"+testSiteURL+"/hungyen/"+pathOf(3)+"</link>", "<dc:creator>Lam Hồng</dc:creator>", "<language>vi</language>")
	if strings.Index(rss, pathOf(3)) > strings.Index(rss, pathOf(0)) {
		t.Error("rss is not newest first")
	}
	mustContain(t, "category rss", h.page("tin-tuc/rss.xml"), pathOf(0), "<title>Tin tức – ")
	mustContain(t, "atom", h.page("atom.xml"), `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">`, "<name>Lam Hồng</name>", pathOf(2))
	mustContain(t, "category atom", h.page("tin-tuc/atom.xml"), pathOf(1))
	mo := month(now)
	mustContain(t, "sitemap index", h.page("sitemap.xml"), "<sitemapindex", testSiteURL+"/hungyen/sitemap-pages.xml", testSiteURL+"/hungyen/sitemap-"+mo+".xml")
	mustContain(t, "pages sitemap", h.page("sitemap-pages.xml"), testSiteURL+"/hungyen/tin-tuc/", testSiteURL+"/hungyen/tac-gia/lam-hong/")
	news := h.page("sitemap-news.xml")
	mustContain(t, "news sitemap", news, `xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"`, pathOf(3), pathOf(2),
		"<news:language>vi</news:language>", "<news:name>Đảng bộ Khối Cơ quan - Doanh nghiệp tỉnh Hưng Yên</news:name>")
	mustNotContain(t, "news sitemap (48 h)", news, pathOf(0), pathOf(1))
	mustContain(t, "author page", h.page("tac-gia/lam-hong/index.html"), "Tác giả: Lam Hồng", pathOf(0), pathOf(3))
	h.waitFor("robots.txt and 404.html", func() bool { return h.exists("robots.txt") && h.exists("404.html") })
	mustContain(t, "robots.txt", h.page("robots.txt"), "Sitemap: "+testSiteURL+"/hungyen/sitemap.xml")
	mustContain(t, "404", h.page("404.html"), "Không tìm thấy trang", `<meta name="robots" content="noindex">`)
	// Neighbours' lists: the oldest lists the three newer ones under "Các bài viết khác".
	mustContain(t, "oldest article", h.page(pathOf(0)), "<h2>Các bài viết khác</h2>", pathOf(1), pathOf(3))

	unpublish := func(i int, reason string) {
		h.publish(&eventsv1.Envelope{Id: fmt.Sprintf("hungyen.%s.1.unpublished", ids[i]), Type: bus.TypeArticleUnpublished,
			Tenant: "hungyen", CorrelationId: ids[i], Payload: &eventsv1.Envelope_ArticleUnpublished{
				ArticleUnpublished: &eventsv1.ArticleUnpublished{ArticleId: ids[i], Revision: 1, Reason: reason}}})
	}
	ctypeOf := func(p string) string {
		info, err := h.store.Stat(t.Context(), "site/hungyen/"+p)
		if err != nil {
			return ""
		}
		return info.ContentType
	}
	unpublish(3, "gone: Vi phạm bản quyền")
	h.waitFor("the 410 page", func() bool { return strings.Contains(ctypeOf(pathOf(3)), "x-status=410") })
	mustContain(t, "gone page", h.page(pathOf(3)), "Bài viết đã được gỡ bỏ.", "Lý do: Vi phạm bản quyền")
	unpublish(2, "redirect /hungyen/"+pathOf(1)+": Trùng bài")
	h.waitFor("the redirect", func() bool { return strings.Contains(ctypeOf(pathOf(2)), "x-status=301") })
	if ct := ctypeOf(pathOf(2)); !strings.Contains(ct, `x-location=/hungyen/`+pathOf(1)) && !strings.Contains(ct, `x-location="/hungyen/`+pathOf(1)+`"`) {
		t.Errorf("redirect type %q", ct)
	}
	unpublish(1, "Theo yêu cầu của tác giả")
	h.waitFor("the notice", func() bool { return strings.Contains(h.page(pathOf(1)), "Theo yêu cầu của tác giả") })
	if ct := ctypeOf(pathOf(1)); ct != htmlType {
		t.Errorf("notice type %q", ct)
	}
	for _, doc := range []string{"index.html", "tin-tuc/index.html", "tin-tuc/trang-1.html", "rss.xml", "atom.xml", "tin-tuc/rss.xml",
		"tin-tuc/atom.xml", "sitemap-" + mo + ".xml", "sitemap-news.xml", "tac-gia/lam-hong/index.html", pathOf(0)} {
		mustNotContain(t, doc, h.page(doc), pathOf(1), pathOf(2), pathOf(3))
	}
	mustContain(t, "remaining article", h.page("index.html"), pathOf(0))

	// A full rebuild from the stream gives the same site, and a second changes nothing.
	r := h.renderer()
	before := h.page(pathOf(0))
	st, err := r.rebuildTenant(t.Context(), h.bus.JetStream(), "hungyen", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Articles != 1 || st.Removed != 3 {
		t.Errorf("rebuild: %+v", st)
	}
	after := h.page(pathOf(0))
	if after != before {
		t.Errorf("rebuilt page differs:\n%s\n---\n%s", before, after)
	}
	if !strings.Contains(ctypeOf(pathOf(3)), "x-status=410") || !strings.Contains(ctypeOf(pathOf(2)), "x-status=301") {
		t.Error("rebuild lost the takedown forms")
	}
	st, err = r.rebuildTenant(t.Context(), h.bus.JetStream(), "hungyen", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.IndexWrites != 0 || st.IndexDeletes != 0 {
		t.Errorf("second rebuild changed the index: %+v", st)
	}
}

// renderer is a second renderer on the harness's NATS and MinIO, as the
// rebuild command makes one.
func (h *harness) renderer() *Renderer {
	h.t.Helper()
	r, err := newRenderer(h.t.Context(), h.bus, s3Output{h.store}, Config{SiteURL: testSiteURL, ViewsURL: testViewsURL},
		slog.New(slog.DiscardHandler))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(r.tenants.Stop)
	return r
}

func TestTakedownReasons(t *testing.T) {
	for _, tc := range []struct{ reason, form, target, text string }{
		{"gone: Vi phạm", formGone, "", "Vi phạm"},
		{"410: x", formGone, "", "x"},
		{"GONE:", formGone, "", ""},
		{"redirect /hungyen/bai-viet/a-1.html: Trùng bài", formRedirect, "/hungyen/bai-viet/a-1.html", "Trùng bài"},
		{"redirect https://baohungyen.vn/x?y=1 Đã chuyển", formRedirect, "https://baohungyen.vn/x?y=1", "Đã chuyển"},
		{"notice: Đang xác minh", formNotice, "", "Đang xác minh"},
		{"Theo yêu cầu: của tác giả", formNotice, "", "Theo yêu cầu: của tác giả"},
		{"", formNotice, "", ""},
	} {
		got := parseTakedown(tc.reason)
		if got.form != tc.form || got.target != tc.target || got.text != tc.text {
			t.Errorf("parseTakedown(%q) = %+v", tc.reason, got)
		}
	}
	s := site{t: hungyen, siteURL: testSiteURL}
	for in, want := range map[string]string{
		"/hungyen/bai-viet/a-1.html": "/hungyen/bai-viet/a-1.html", "bai-viet/a-1.html": "/hungyen/bai-viet/a-1.html",
		"https://x.vn/a": "https://x.vn/a", "//evil.example/": "", "javascript:alert(1)": "/hungyen/javascript:alert(1)",
		"/hungyen/../namdinh/": "", `"><script>`: "",
	} {
		if got := s.redirectTarget(in); got != want {
			t.Errorf("redirectTarget(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCategoryPaging checks that archive pages are numbered from the oldest
// article, so that publishing rewrites only the last ones.
func TestCategoryPaging(t *testing.T) {
	s := site{t: hungyen, siteURL: testSiteURL}
	idx := tenantIndex{}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 45 {
		id := fmt.Sprintf("p%015d", i)
		idx[id] = indexEntry{Summary: Summary{ID: id, Title: "Tin " + fmt.Sprint(i), Category: "tin-tuc",
			Path: "bai-viet/tin-" + id + ".html", PublishedAt: base.Add(time.Duration(i) * time.Hour)}}
	}
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	r := &Renderer{pages: pages}
	oldM := newModel(s, idx, base)
	next := idx.clone()
	newSum := Summary{ID: "p999999999999999", Title: "Mới", Category: "tin-tuc", Path: "bai-viet/moi.html", PublishedAt: base.Add(100 * time.Hour)}
	next[newSum.ID] = indexEntry{Summary: newSum}
	newM := newModel(s, next, base)
	files, err := r.listFiles(oldM, newM, nil, &newSum)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(paths(files), " ")
	if !strings.Contains(got, "tin-tuc/trang-3.html") || strings.Contains(got, "trang-1.html") || strings.Contains(got, "trang-2.html") {
		t.Errorf("a new article rewrote %s; want only the last archive page (3)", got)
	}
	var page3 []byte
	for _, f := range files {
		if f.path == "tin-tuc/trang-3.html" {
			page3 = f.body
		}
	}
	if !bytes.Contains(page3, []byte("bai-viet/moi.html")) || !bytes.Contains(page3, []byte(`href="/hungyen/tin-tuc/trang-2.html" rel="next"`)) {
		t.Errorf("page 3: %s", page3)
	}
	idxPage, err := r.htmlFile("x", r.pages.category, newM.categoryIndex("tin-tuc"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="/hungyen/tin-tuc/trang-1.html">1</a>`, `href="/hungyen/tin-tuc/trang-3.html">3</a>`, "Cũ hơn »"} {
		if !bytes.Contains(idxPage.body, []byte(want)) {
			t.Errorf("category index lacks %s", want)
		}
	}
}

// A model derived with with() equals the one newModel builds from the
// changed index, for a new article, a revision that moves it (other date,
// category, author and tags) and a removal that empties its lists.
func TestModelWithMatchesNewModel(t *testing.T) {
	s := site{t: hungyen, siteURL: testSiteURL}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	idx := tenantIndex{}
	for i := range 30 {
		id := fmt.Sprintf("w%015d", i)
		idx[id] = indexEntry{Summary: Summary{ID: id, Title: "Tin " + fmt.Sprint(i), Category: []string{"tin-tuc", "van-hoa"}[i%2],
			Author: []string{"", "Lam Hồng", "Minh Thu"}[i%3], Tags: [][]string{nil, {"Chuyển đổi số"}, {"Chuyển đổi số", "Đảng bộ Khối"}}[i%3],
			Path: "bai-viet/" + id + ".html", PublishedAt: base.Add(time.Duration(i%10) * time.Hour)}}
	}
	lone := Summary{ID: "w999999999999999", Title: "Một mình", Category: "chuyen-muc-rieng", Author: "Tác giả riêng",
		Tags: []string{"Thẻ riêng"}, Path: "bai-viet/mot-minh.html", PublishedAt: base.Add(5 * time.Hour)}
	idx[lone.ID] = indexEntry{Summary: lone}
	was := idx["w000000000000004"].Summary
	moved := was
	moved.Revision, moved.Category, moved.Author, moved.Tags = 2, "tin-tuc", "Phương Thúy", []string{"Thẻ mới", "Chuyển đổi số"}
	moved.PublishedAt = base.Add(30 * time.Minute)
	fresh := Summary{ID: "w000000000000100", Title: "Mới", Category: "van-hoa", Author: "Lam Hồng", Tags: []string{"Đảng bộ Khối"},
		Path: "bai-viet/moi.html", PublishedAt: base.Add(3 * time.Hour)}
	for _, c := range []struct {
		name     string
		old, cur *Summary
	}{{"new article", nil, &fresh}, {"revision", &was, &moved}, {"removal", &lone, nil}} {
		next := idx.clone()
		if c.old != nil {
			delete(next, c.old.ID)
		}
		if c.cur != nil {
			next[c.cur.ID] = indexEntry{Summary: *c.cur}
		}
		oldM := newModel(s, idx, base)
		got, want := oldM.with(c.old, c.cur), newModel(s, next, base)
		if !reflect.DeepEqual(got.all, want.all) || !reflect.DeepEqual(got.cats, want.cats) ||
			!reflect.DeepEqual(got.authors, want.authors) || !reflect.DeepEqual(got.tags, want.tags) {
			t.Errorf("%s: with() = %v\nnewModel = %v", c.name, got, want)
		}
		if !reflect.DeepEqual(oldM, newModel(s, idx, base)) {
			t.Errorf("%s: with() changed the model it started from", c.name)
		}
	}
}
