package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
	"github.com/blocpress/blocpress/libs/localstack"
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

// publishBench is a tenant of n articles written as a rebuild writes it,
// and a renderer with a warm index cache, as a running render has it.
type publishBench struct {
	r       *Renderer
	bus     *bus.Bus
	nats    *localstack.NATS
	s3      blob.Config
	n       int
	article func(i int) *eventsv1.Article
}

func setupPublishBench(b *testing.B) *publishBench {
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
	b.Cleanup(func() { _ = bu.Close(ctx) })
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
	b.Cleanup(r.tenants.Stop)

	s := site{t: &t, siteURL: testSiteURL, viewsURL: testViewsURL}
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
	article := func(i int) *eventsv1.Article {
		body := append([]*eventsv1.Block{image(photo, "Quang cảnh hội nghị", "Lam Hồng")}, seedParagraphs...)
		return &eventsv1.Article{Id: fmt.Sprintf("b%015d", i), Revision: 1, Category: t.Categories[i%len(t.Categories)].Slug,
			Title: fmt.Sprintf("Hội nghị giao ban Đảng ủy khối lần thứ %d tại tỉnh Hưng Yên", i), Lead: "Ngày 19/4/2019, tại thành phố Hưng Yên…",
			Author: []string{"Lam Hồng", "Minh Thu", "Phương Thúy"}[i%3], Body: body,
			PublishedAt: timestamppb.New(start.Add(time.Duration(i) * time.Hour))}
	}
	var built []*builtArticle
	for i := range n {
		a := article(i)
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
	if _, err := r.cache.get(ctx, "hungyen"); err != nil {
		b.Fatal(err)
	}
	return &publishBench{r: r, bus: bu, nats: nats, s3: s3, n: n, article: article}
}

func (pb *publishBench) publish(b *testing.B, i int) {
	a := pb.article(pb.n + i)
	env := approved(a, time.Now())
	pb.r.mu.Lock()
	err := pb.r.publish(context.Background(), env, a)
	pb.r.mu.Unlock()
	if err != nil {
		b.Fatal(err)
	}
}

func reportPercentiles(b *testing.B, took []time.Duration, prefix string) {
	slices.Sort(took)
	if len(took) > 0 {
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, prefix+"p50-ms")
		b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, prefix+"p90-ms")
		b.ReportMetric(float64(took[min(len(took)-1, len(took)*95/100)].Microseconds())/1000, prefix+"p95-ms")
	}
}

// BenchmarkPublishOneIntoLargeTenant measures what publishing one article
// into a tenant of BENCH_ARTICLES (default 10,000) articles costs render:
// rendering its page and the lists, feeds and sitemaps it changes, the
// render-index write and every S3 write (MinIO on this machine), and the
// splices of its neighbours' lists. It reports p50, p90 and p95 per publish.
//
//	go test -run '^$' -bench PublishOneIntoLargeTenant -benchtime 50x ./services/render
func BenchmarkPublishOneIntoLargeTenant(b *testing.B) {
	pb := setupPublishBench(b)
	pb.r.bus = discardPublisher{}
	var took []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t1 := time.Now()
		pb.publish(b, i)
		took = append(took, time.Since(t1))
	}
	b.StopTimer()
	reportPercentiles(b, took, "")
}

// BenchmarkPublishOneEndToEnd measures issue 6's goal end to end: from the
// start of render's publish to the moment a site instance (the real
// service, built and started as its own process) that had the old home page
// in its cache serves the new one — render + S3 writes + article.published
// on JetStream + site's invalidation + site's fetch from S3. The home page
// is polled every millisecond. It reports the end-to-end and the render
// part's percentiles.
//
//	go test -run '^$' -bench PublishOneEndToEnd -benchtime 30x ./services/render
func BenchmarkPublishOneEndToEnd(b *testing.B) {
	pb := setupPublishBench(b)
	home := startSite(b, pb)
	client := &http.Client{Timeout: 5 * time.Second}
	get := func() string {
		resp, err := client.Get(home)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %v", home, resp.StatusCode, err)
		}
		return string(body)
	}
	var took, rendered []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		get() // the old home page is in the site's cache
		if !strings.Contains(get(), pb.article(pb.n+i-1).GetId()) && i > 0 {
			b.Fatal("the home page lacks the previous article")
		}
		b.StartTimer()
		want := pb.article(pb.n + i).GetId()
		t1 := time.Now()
		pb.publish(b, i)
		rendered = append(rendered, time.Since(t1))
		for !strings.Contains(get(), want) {
			if time.Since(t1) > 30*time.Second {
				b.Fatal("the site never served the new home page")
			}
			time.Sleep(time.Millisecond)
		}
		took = append(took, time.Since(t1))
	}
	b.StopTimer()
	reportPercentiles(b, took, "e2e-")
	reportPercentiles(b, rendered, "render-")
}

// startSite builds the site service and runs it on a free port against the
// benchmark's NATS and MinIO; it returns the tenant's home page URL.
func startSite(b *testing.B, pb *publishBench) string {
	bin := filepath.Join(b.TempDir(), "site")
	if out, err := exec.Command("go", "build", "-o", bin, "../site").CombinedOutput(); err != nil {
		b.Fatalf("building site: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "NATS_URL="+pb.nats.URL(), "S3_ENDPOINT="+pb.s3.Endpoint, "S3_ACCESS_KEY="+pb.s3.AccessKey,
		"S3_SECRET_KEY="+pb.s3.SecretKey, "S3_BUCKET="+pb.s3.Bucket, "SITE_HTTP_ADDR="+addr, "SITE_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return "http://" + addr + "/hungyen/"
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("site not ready on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
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
