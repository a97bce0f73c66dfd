package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/libs/testkit"
)

// discardPublisher stands for the bus's publish in the benchmark.
type discardPublisher struct{}

func (discardPublisher) Publish(context.Context, *eventsv1.Envelope) error { return nil }

// seedParagraphs are about as long as the seeds' articles (~6,000 characters).
var seedParagraphs = func() []*eventsv1.Block {
	text := "Tham dự Hội nghị gồm các đồng chí thường trực đảng ủy, ủy viên ban thường vụ đảng ủy, các trưởng ban và chánh văn phòng Đảng ủy khối các cơ quan tỉnh, thành phố: Hà Nội, Hải Phòng, Vĩnh Phúc, Bắc Ninh, Hải Dương, Hưng Yên, Nam Định, Thái Bình, Hà Nam, Ninh Bình. "
	var out []*eventsv1.Block
	for range 8 {
		out = append(out, paragraph(strings.Repeat(text, 3)))
	}
	return out
}()

// BenchmarkPublishOneIntoLargeTenant measures what publishing one article
// into a tenant of BENCH_ARTICLES (default 10,000) articles costs render:
// rendering its page and the lists, feeds and sitemaps it changes, the
// render-index write and every S3 write (MinIO on this machine), and the
// splices of its neighbours' lists. It reports p50 and p90 per publish.
//
//	go test -run '^$' -bench PublishOne -benchtime 50x ./services/render
func BenchmarkPublishOneIntoLargeTenant(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("BENCH_ARTICLES")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	nats := testkit.NATS(b)
	s3 := testkit.MinIO(b)
	bu, err := bus.Connect(bus.Config{URL: nats.URL(), Name: "render-bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer bu.Close(ctx) //nolint:errcheck
	if err := bu.Declare(ctx); err != nil {
		b.Fatal(err)
	}
	store, err := blob.New(s3)
	if err != nil {
		b.Fatal(err)
	}
	if err := store.EnsureBucket(ctx); err != nil {
		b.Fatal(err)
	}
	tkv, err := bu.KV(ctx, bus.BucketTenants)
	if err != nil {
		b.Fatal(err)
	}
	t := *hungyen
	t.Categories = append(slices.Clone(t.Categories), tenant.Category{Slug: "xay-dung-dang", Name: "Xây dựng Đảng"},
		tenant.Category{Slug: "van-hoa", Name: "Văn hóa"}, tenant.Category{Slug: "kinh-te", Name: "Kinh tế"})
	if err := tenant.NewStore(tkv).Put(ctx, &t); err != nil {
		b.Fatal(err)
	}
	r, err := newRenderer(ctx, bu, s3Output{store}, Config{SiteURL: testSiteURL, ViewsURL: testViewsURL}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer r.tenants.Stop()
	r.bus = discardPublisher{}

	// The tenant's site, written as a rebuild writes it.
	s := site{t: &t, siteURL: testSiteURL}
	photo := mediaID("bench-photo")
	rs := []*eventsv1.Rendition{}
	for _, w := range []int32{320, 640, 1024, 1600} {
		rs = append(rs, &eventsv1.Rendition{Width: w, Height: w * 2 / 3, Format: "jpeg", Key: fmt.Sprintf("media/hungyen/%s/%d.jpg", photo, w)})
	}
	mf := &eventsv1.MediaManifest{MediaId: photo, Resized: &eventsv1.MediaResized{MediaId: photo, Renditions: rs}}
	mkv, err := bu.KV(ctx, bus.BucketMedia)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := mkv.Put(ctx, "hungyen."+photo, mustMarshal(b, mf)); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	article := func(i int, at time.Time) *eventsv1.Article {
		body := append([]*eventsv1.Block{image(photo, "Quang cảnh hội nghị", "Lam Hồng")}, seedParagraphs...)
		return &eventsv1.Article{Id: fmt.Sprintf("b%015d", i), Revision: 1, Category: t.Categories[i%len(t.Categories)].Slug,
			Title: fmt.Sprintf("Hội nghị giao ban Đảng ủy khối lần thứ %d tại tỉnh Hưng Yên", i), Lead: "Ngày 19/4/2019, tại thành phố Hưng Yên…",
			Author: []string{"Lam Hồng", "Minh Thu", "Phương Thúy"}[i%3], Body: body, PublishedAt: timestamppb.New(at)}
	}
	var built []*builtArticle
	for i := range n {
		a := article(i, start.Add(time.Duration(i)*time.Hour))
		figs, og, thumb := figuresOf("hungyen", a, []*eventsv1.MediaManifest{mf}, r.log)
		built = append(built, build(s, testViewsURL, a, a.PublishedAt.AsTime(), a.PublishedAt.AsTime(), figs, og, thumb))
	}
	t0 := time.Now()
	st, err := r.writeSite(ctx, s, built, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := r.syncIndex(ctx, "hungyen", built); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d articles (%d files) in %s", n, st.Files, time.Since(t0).Round(time.Millisecond))

	// Warm the index cache, as a running render has it.
	if _, err := r.cache.get(ctx, "hungyen"); err != nil {
		b.Fatal(err)
	}
	var took []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		a := article(n+i, start.Add(time.Duration(n+i)*time.Hour))
		env := approved(a, time.Now())
		t1 := time.Now()
		r.mu.Lock()
		err := r.publish(ctx, env, a)
		r.mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t1))
	}
	b.StopTimer()
	slices.Sort(took)
	if len(took) > 0 {
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "p90-ms")
	}
}

func mustMarshal(tb testing.TB, m *eventsv1.MediaManifest) []byte {
	tb.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
