package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

func TestCleanTags(t *testing.T) {
	got := cleanTags([]string{"  Chuyển  đổi số ", "chuyen doi so", "", "—", "Đảng bộ Khối", "Cải cách hành chính"})
	want := []string{"Chuyển đổi số", "Đảng bộ Khối", "Cải cách hành chính"}
	if !slices.Equal(got, want) {
		t.Errorf("cleanTags = %q, want %q", got, want)
	}
	many := make([]string, 30)
	for i := range many {
		many[i] = fmt.Sprintf("thẻ %d", i)
	}
	if n := len(cleanTags(many)); n != maxTags {
		t.Errorf("%d tags kept, want %d", n, maxTags)
	}
}

// The scored choice: a shared tag outweighs category and age; without tags
// the nearest older articles of the category come first; newer articles
// are never related.
func TestRelatedScoring(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	sum := func(id, cat string, d int, tags ...string) Summary {
		return Summary{ID: id, Title: id, Category: cat, Path: "bai-viet/" + id + ".html", PublishedAt: day(d), Tags: tags}
	}
	idx := tenantIndex{}
	for _, s := range []Summary{
		sum("old-tagged", "van-hoa", 0, "Chuyển đổi số"), // other category, 100 days older, shares a tag
		sum("c1", "tin-tuc", 90), sum("c2", "tin-tuc", 95), sum("c3", "tin-tuc", 96), sum("c4", "tin-tuc", 97),
		sum("c5", "tin-tuc", 98), sum("c6", "tin-tuc", 99),
		sum("me", "tin-tuc", 100, "chuyển đổi số"),
		sum("newer-tagged", "tin-tuc", 101, "Chuyển đổi số"),
	} {
		idx[s.ID] = indexEntry{Summary: s}
	}
	m := newModel(site{t: hungyen, siteURL: testSiteURL}, idx, day(200))
	titles := func(items []listItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.Title)
		}
		return out
	}
	lv := m.lists(idx["me"].Summary)
	if got, want := titles(lv.Related), []string{"old-tagged", "c6", "c5", "c4", "c3"}; !slices.Equal(got, want) {
		t.Errorf("related of a tagged article = %v, want %v", got, want)
	}
	if got, want := titles(lv.Others), []string{"newer-tagged", "c2", "c1"}; !slices.Equal(got, want) {
		t.Errorf("others = %v, want %v", got, want)
	}
	lv = m.lists(idx["c3"].Summary)
	if got, want := titles(lv.Related), []string{"c2", "c1"}; !slices.Equal(got, want) {
		t.Errorf("related of an untagged article = %v, want %v", got, want)
	}
}

// A tag page lists the tag's articles; an older article of another
// category sharing a tag is "Tin liên quan" of the new one.
func TestTagsOnPages(t *testing.T) {
	h := start(t)
	older := &eventsv1.Article{Id: "tag0000000000001", Revision: 1, Category: "hoat-dong-dang-bo-khoi", Title: "Số hóa hồ sơ đảng viên",
		Tags: []string{"Chuyển đổi số"}, Body: []*eventsv1.Block{paragraph("Nội dung.")},
		PublishedAt: timestamppb.New(time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC))}
	h.publish(approved(older, time.Now()))
	olderPath := h.nextPublished().GetArticlePublished().GetPath()
	other := &eventsv1.Article{Id: "tag0000000000002", Revision: 1, Category: "tin-tuc", Title: "Tin không có thẻ",
		Body: []*eventsv1.Block{paragraph("Nội dung.")}, PublishedAt: timestamppb.New(time.Date(2024, 3, 2, 2, 0, 0, 0, time.UTC))}
	h.publish(approved(other, time.Now()))
	h.nextPublished()
	a := &eventsv1.Article{Id: "tag0000000000003", Revision: 1, Category: "tin-tuc", Title: "Ứng dụng phần mềm quản lý",
		Tags: []string{"chuyển đổi số", "Cải cách hành chính"}, Body: []*eventsv1.Block{paragraph("Nội dung.")},
		PublishedAt: timestamppb.New(time.Date(2024, 3, 3, 2, 0, 0, 0, time.UTC))}
	h.publish(approved(a, time.Now()))
	ev := h.nextPublished()
	doc := h.page(ev.GetArticlePublished().GetPath())
	mustContain(t, "tagged article", doc,
		`Từ khóa: <a href="/hungyen/tag/chuyen-doi-so/" rel="tag">chuyển đổi số</a>, <a href="/hungyen/tag/cai-cach-hanh-chinh/" rel="tag">Cải cách hành chính</a>`,
		"<h2>Tin liên quan</h2>", `href="/hungyen/`+olderPath+`"`)
	tag := h.page("tag/chuyen-doi-so/index.html")
	mustContain(t, "tag page", tag, "<h1>Từ khóa: chuyển đổi số</h1>", "2 bài viết", olderPath, ev.GetArticlePublished().GetPath())
	var titles struct{ Articles [][4]string }
	if err := json.Unmarshal([]byte(h.page("titles.json")), &titles); err != nil {
		t.Fatal(err)
	}
	if len(titles.Articles) != 3 || titles.Articles[0][0] != a.Id || titles.Articles[0][1] != a.Title ||
		titles.Articles[0][2] != "/hungyen/"+ev.GetArticlePublished().GetPath() {
		t.Errorf("titles.json = %v, want the three articles newest first", titles.Articles)
	}
	mainPart := tag[strings.Index(tag, "<main"):strings.Index(tag, "</main>")]
	mustNotContain(t, "tag page's list", mainPart, "Tin không có thẻ")
}
