package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/libs/testkit"
)

// BenchmarkFullBuild renders a generated tenant of BENCH_ARTICLES (default
// 10,000) articles in full, as a rebuild does — every article page, home,
// category and archive pages, author pages, feeds, sitemaps — once to a
// local directory and once to MinIO, and writes the same content as a Hugo
// site for services/render/bench/run.sh (make bench-render) to build.
// The local build runs twice and reports the faster.
// BENCH_RENDER_DIR (default a temp dir) receives <dir>/blocpress/ (the local
// output), <dir>/hugo/content/ and <dir>/blocpress.txt (the times).
//
// The articles are the five demo articles (structured versions of the
// scraped seed pages, deploy/demo/articles) with their text, photos,
// captions and authors, repeated under new ids, titles and dates across
// five categories; every photo has a manifest of four renditions and a
// 16:9 crop, as image-resize writes them.
func BenchmarkFullBuild(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("BENCH_ARTICLES")); err == nil && v > 0 {
		n = v
	}
	dir := os.Getenv("BENCH_RENDER_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	ctx := context.Background()
	t := *hungyen
	t.Categories = []tenant.Category{
		{Slug: "hoat-dong-dang-bo-khoi", Name: "Hoạt động Đảng bộ khối"}, {Slug: "tin-tuc-su-kien", Name: "Tin tức - Sự kiện"},
		{Slug: "xay-dung-dang", Name: "Xây dựng Đảng"}, {Slug: "van-hoa", Name: "Văn hóa"}, {Slug: "kinh-te", Name: "Kinh tế"},
	}
	articles, manifests := benchTenant(b, t, n)

	// The same content for Hugo: one Markdown file per article in its
	// category's section, photos as a shortcode with the same srcset.
	if err := writeHugoContent(filepath.Join(dir, "hugo", "content"), &t, articles, manifests); err != nil {
		b.Fatal(err)
	}

	build := func(out output) (rebuildStats, time.Duration) {
		r := &Renderer{out: out, log: slog.New(slog.DiscardHandler), siteURL: testSiteURL, viewsURL: testViewsURL,
			now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }, seen: map[string]string{}}
		var err error
		if r.pages, err = parseTemplates(); err != nil {
			b.Fatal(err)
		}
		s := site{t: &t, siteURL: testSiteURL, viewsURL: testViewsURL}
		start := time.Now()
		// What a rebuild does after reading the events: the articles'
		// views from their photos' manifests, then every page.
		built := make([]*builtArticle, 0, len(articles))
		for _, a := range articles {
			ra := &replayed{article: a, published: a.GetPublishedAt().AsTime(), updated: a.GetPublishedAt().AsTime(), live: true}
			built = append(built, r.buildReplayed(s, ra, manifests))
		}
		st, err := r.writeSite(ctx, s, built, nil)
		if err != nil {
			b.Fatal(err)
		}
		return st, time.Since(start)
	}

	local := filepath.Join(dir, "blocpress")
	if err := os.RemoveAll(local); err != nil {
		b.Fatal(err)
	}
	store, err := blob.New(testkit.MinIO(b))
	if err != nil {
		b.Fatal(err)
	}
	if err := store.EnsureBucket(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	// The machine is shared: the local build runs twice and the faster
	// counts (the second overwrites the first's files, as a rebuild does).
	localStats, localTook := build(dirOutput{local})
	if _, again := build(dirOutput{local}); again < localTook {
		localTook = again
	}
	s3Stats, s3Took := build(s3Output{store})
	b.StopTimer()
	b.ReportMetric(localTook.Seconds(), "local-s")
	b.ReportMetric(s3Took.Seconds(), "minio-s")
	res := fmt.Sprintf("articles=%d\nlocal_files=%d\nlocal_seconds=%.3f\nminio_files=%d\nminio_seconds=%.3f\n",
		n, localStats.Files, localTook.Seconds(), s3Stats.Files, s3Took.Seconds())
	if err := os.WriteFile(filepath.Join(dir, "blocpress.txt"), []byte(res), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d articles: local %s (%d files), MinIO %s (%d files)", n, localTook.Round(time.Millisecond), localStats.Files,
		s3Took.Round(time.Millisecond), s3Stats.Files)
}

// demoArticle is the part of deploy/demo/articles/*.json the benchmark uses.
type demoArticle struct {
	Title  string `json:"title"`
	Lead   string `json:"lead"`
	Author string `json:"author"`
	Body   []struct {
		Type    string `json:"type"`
		Text    string `json:"text"`
		Caption string `json:"caption"`
		Credit  string `json:"credit"`
	} `json:"body"`
}

// benchTenant makes n articles from the demo articles, one an hour, and a
// manifest for each of their photos.
func benchTenant(tb testing.TB, t tenant.Tenant, n int) ([]*eventsv1.Article, map[string]*eventsv1.MediaManifest) {
	tb.Helper()
	files, err := filepath.Glob("../../deploy/demo/articles/*.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("reading the demo articles: %v (%d files)", err, len(files))
	}
	var demos []demoArticle
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var d demoArticle
		if err := json.Unmarshal(raw, &d); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		demos = append(demos, d)
	}
	manifests := map[string]*eventsv1.MediaManifest{}
	start := time.Date(2024, 1, 1, 7, 0, 0, 0, time.UTC)
	var out []*eventsv1.Article
	for i := range n {
		d := demos[i%len(demos)]
		a := &eventsv1.Article{Id: fmt.Sprintf("bench%011d", i), Revision: 1, Category: t.Categories[i%len(t.Categories)].Slug,
			Title: fmt.Sprintf("%s (số %d)", d.Title, i), Lead: d.Lead, Author: d.Author,
			PublishedAt: timestamppb.New(start.Add(time.Duration(i) * time.Hour))}
		for j, blk := range d.Body {
			switch blk.Type {
			case "paragraph":
				a.Body = append(a.Body, paragraph(blk.Text))
			case "image":
				id := mediaID(fmt.Sprintf("photo %d/%d", i, j))
				a.Body = append(a.Body, image(id, blk.Caption, blk.Credit))
				manifests[id] = benchManifest(t.ID, id)
			}
		}
		out = append(out, a)
	}
	return out, manifests
}

func benchManifest(tid, id string) *eventsv1.MediaManifest {
	var rs []*eventsv1.Rendition
	for _, w := range []int32{320, 640, 1024, 1600} {
		rs = append(rs, &eventsv1.Rendition{Width: w, Height: w * 2 / 3, Format: "jpeg", Key: fmt.Sprintf("media/%s/%s/%d.jpg", tid, id, w)})
	}
	rs = append(rs, &eventsv1.Rendition{Width: 1200, Height: 675, Format: "jpeg-16x9", Key: fmt.Sprintf("media/%s/%s/1200x675.jpg", tid, id)})
	return &eventsv1.MediaManifest{MediaId: id, Resized: &eventsv1.MediaResized{MediaId: id, Renditions: rs}}
}

// writeHugoContent writes the articles as Hugo pages: front matter (title,
// date, lead, author, the 16:9 photo for cards, the first photo's thumbnail)
// and a body of paragraphs and photo shortcodes.
func writeHugoContent(dir string, t *tenant.Tenant, articles []*eventsv1.Article, manifests map[string]*eventsv1.MediaManifest) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for _, c := range t.Categories {
		if err := os.MkdirAll(filepath.Join(dir, c.Slug), 0o755); err != nil {
			return err
		}
		idx := fmt.Sprintf("---\ntitle: %q\n---\n", c.Name)
		if err := os.WriteFile(filepath.Join(dir, c.Slug, "_index.md"), []byte(idx), 0o644); err != nil {
			return err
		}
	}
	for _, a := range articles {
		var body strings.Builder
		thumb, card := "", ""
		for _, blk := range a.GetBody() {
			if p := blk.GetParagraph(); p != nil {
				body.WriteString(strings.ReplaceAll(p.GetText(), "\n", " "))
				body.WriteString("\n\n")
				continue
			}
			img := blk.GetImage()
			mf := manifests[img.GetMediaId()]
			var srcset []string
			for _, rd := range mf.GetResized().GetRenditions() {
				if rd.GetFormat() == "jpeg" {
					srcset = append(srcset, fmt.Sprintf("/%s/media/%s/%d.jpg %dw", t.ID, img.GetMediaId(), rd.GetWidth(), rd.GetWidth()))
				}
			}
			if thumb == "" {
				thumb = fmt.Sprintf("/%s/media/%s/320.jpg", t.ID, img.GetMediaId())
				card = fmt.Sprintf("/%s/media/%s/1200x675.jpg", t.ID, img.GetMediaId())
			}
			fmt.Fprintf(&body, "{{< photo src=%q srcset=%q width=\"1024\" height=\"682\" caption=%q credit=%q >}}\n\n",
				fmt.Sprintf("/%s/media/%s/1024.jpg", t.ID, img.GetMediaId()), strings.Join(srcset, ", "), img.GetCaption(), img.GetCredit())
		}
		fm := map[string]any{"title": a.GetTitle(), "date": a.GetPublishedAt().AsTime().Format(time.RFC3339),
			"description": a.GetLead(), "category": a.GetCategory(), "url": "/bai-viet/" + slugify(a.GetTitle()) + "-" + a.GetId() + ".html", "thumb": thumb, "images": []string{card}}
		if a.GetAuthor() != "" {
			fm["authors"] = []string{a.GetAuthor()}
		}
		head, err := json.Marshal(fm) // JSON front matter: no YAML quoting to get wrong
		if err != nil {
			return err
		}
		doc := append(head, '\n', '\n')
		doc = append(doc, body.String()...)
		if err := os.WriteFile(filepath.Join(dir, a.GetCategory(), a.GetId()+".md"), doc, 0o644); err != nil {
			return err
		}
	}
	return nil
}
