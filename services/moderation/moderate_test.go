package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/text/unicode/norm"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/localstack"
	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/libs/testkit"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

// harness is a running moderation service on a real NATS, and the clients a
// test drives it with.
type harness struct {
	bus      *bus.Bus
	tenants  *tenant.Store
	httpAddr string
	logs     *logLines
}

// logLines keeps the service's log lines (slog writes one per Write) and
// passes them on to the test output.
type logLines struct {
	out     io.Writer
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.lines = append(l.lines, string(p))
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	return l.out.Write(p)
}

// waitFor waits for a line containing every one of parts.
func (l *logLines) waitFor(t *testing.T, parts ...string) {
	t.Helper()
	ctx := ctxFor(t)
	for seen := 0; ; {
		l.mu.Lock()
		lines, changed := l.lines[seen:], l.changed
		seen = len(l.lines)
		l.mu.Unlock()
		for _, line := range lines {
			if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
				return
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("no log line with %q", parts)
		}
	}
}

// start puts the given tenants in the bucket, then starts the service.
func start(t *testing.T, tenants ...*tenant.Tenant) *harness {
	t.Helper()
	nats := testkit.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := bus.Connect(bus.Config{URL: nats.URL(), Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	if err := b.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	kv, err := b.KV(ctx, bus.BucketTenants)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{bus: b, tenants: tenant.NewStore(kv), logs: &logLines{out: t.Output(), changed: make(chan struct{})}}
	for _, tn := range tenants {
		h.putTenant(t, tn)
	}

	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	h.httpAddr = fmt.Sprintf("127.0.0.1:%d", port)
	env := map[string]string{"NATS_URL": nats.URL(), "MODERATION_HTTP_ADDR": h.httpAddr, "MODERATION_LOG_LEVEL": "debug"}
	rctx, rcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(rctx, func(k string) string { return env[k] }, h.logs) }()
	t.Cleanup(func() {
		rcancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	for {
		code, body, err := h.get("/readyz")
		if err == nil && code == http.StatusOK {
			return h
		}
		select {
		case <-ctx.Done():
			t.Fatalf("service never became ready: %d %s %v", code, body, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (h *harness) get(path string) (int, string, error) {
	res, err := http.Get("http://" + h.httpAddr + path)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func (h *harness) putTenant(t *testing.T, tn *tenant.Tenant) {
	t.Helper()
	if err := h.tenants.Put(ctxFor(t), tn); err != nil {
		t.Fatal(err)
	}
}

func newTenant(id string, blocklist ...string) *tenant.Tenant {
	return &tenant.Tenant{
		ID: id, Name: "Đảng bộ Khối " + id,
		Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}, {Slug: "xay-dung-dang", Name: "Xây dựng Đảng"}},
		Blocklist:  blocklist,
	}
}

// cleanArticle is what an editor sends, with nothing to object to.
func cleanArticle(id string, rev int64) *eventsv1.Article {
	return &eventsv1.Article{
		Id: id, Revision: rev, Category: "tin-tuc",
		Title: "Hội nghị sơ kết công tác giáo dục chính trị 6 tháng đầu năm",
		Lead:  "Sáng 24/4, Đảng ủy Khối tổ chức hội nghị sơ kết công tác 6 tháng đầu năm.",
		Body: []*eventsv1.Block{
			{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: "Dự hội nghị có đồng chí Bí thư Đảng ủy Khối."}}},
			{Kind: &eventsv1.Block_Image{Image: &eventsv1.Image{MediaId: strings.Repeat("ab", 32), Caption: "Quang cảnh hội nghị", Credit: "Ảnh: Lam Hồng"}}},
			{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: "Hội nghị đã thảo luận các giải pháp trong thời gian tới."}}},
		},
		Author:      "Lam Hồng",
		Source:      &eventsv1.Source{Name: "baonamdinh.vn", Url: "https://baonamdinh.vn/"},
		SubmittedAt: timestamppb.New(time.Date(2019, 4, 24, 15, 55, 40, 0, time.UTC)),
	}
}

func (h *harness) submit(t *testing.T, tenantID string, a *eventsv1.Article) {
	t.Helper()
	err := h.bus.Publish(ctxFor(t), &eventsv1.Envelope{
		Id:   fmt.Sprintf("%s.%s.%d.submitted", tenantID, a.GetId(), a.GetRevision()),
		Type: bus.TypeArticleSubmitted, Tenant: tenantID, CorrelationId: a.GetId(),
		Payload: &eventsv1.Envelope_ArticleSubmitted{ArticleSubmitted: &eventsv1.ArticleSubmitted{Article: a}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// verdict waits for the approval or rejection of one revision.
func (h *harness) verdict(t *testing.T, tenantID string, a *eventsv1.Article) *eventsv1.Envelope {
	t.Helper()
	ctx := ctxFor(t)
	cons, err := h.bus.JetStream().OrderedConsumer(ctx, bus.StreamArticles, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{bus.Subject(bus.TypeArticleApproved, tenantID), bus.Subject(bus.TypeArticleRejected, tenantID)},
	})
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("%s.%s.%d.", tenantID, a.GetId(), a.GetRevision())
	for {
		msg, err := cons.Next(jetstream.FetchContext(ctx))
		if err != nil {
			t.Fatalf("waiting for the verdict on %s: %v", prefix, err)
		}
		env := &eventsv1.Envelope{}
		if err := proto.Unmarshal(msg.Data(), env); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(env.GetId(), prefix) {
			if env.GetCorrelationId() != a.GetId() || env.GetTenant() != tenantID {
				t.Errorf("verdict %s: correlation id %q tenant %q, want %q %q", env.GetId(), env.GetCorrelationId(), env.GetTenant(), a.GetId(), tenantID)
			}
			return env
		}
	}
}

func (h *harness) approved(t *testing.T, tenantID string, a *eventsv1.Article) {
	t.Helper()
	env := h.verdict(t, tenantID, a)
	if env.GetType() != bus.TypeArticleApproved {
		t.Fatalf("%s: %s %q, want approved", env.GetId(), env.GetType(), env.GetArticleRejected().GetReasons())
	}
	if want := fmt.Sprintf("%s.%s.%d.approved", tenantID, a.GetId(), a.GetRevision()); env.GetId() != want {
		t.Errorf("id %q, want %q", env.GetId(), want)
	}
	if got := env.GetArticleApproved().GetArticle(); !proto.Equal(got, a) {
		t.Errorf("approved event carries %v, want the full submitted article %v", got, a)
	}
}

func (h *harness) rejected(t *testing.T, tenantID string, a *eventsv1.Article) []string {
	t.Helper()
	env := h.verdict(t, tenantID, a)
	if env.GetType() != bus.TypeArticleRejected {
		t.Fatalf("%s: %s, want rejected", env.GetId(), env.GetType())
	}
	if want := fmt.Sprintf("%s.%s.%d.rejected", tenantID, a.GetId(), a.GetRevision()); env.GetId() != want {
		t.Errorf("id %q, want %q", env.GetId(), want)
	}
	r := env.GetArticleRejected()
	if r.GetArticleId() != a.GetId() || r.GetRevision() != a.GetRevision() {
		t.Errorf("rejected %s rev %d, want %s rev %d", r.GetArticleId(), r.GetRevision(), a.GetId(), a.GetRevision())
	}
	return r.GetReasons()
}

func TestModeration(t *testing.T) {
	h := start(t,
		newTenant("hung-yen", "phản động", "du", "tin giả"),
		newTenant("nam-dinh"),
	)

	t.Run("clean article is approved", func(t *testing.T) {
		h.approved(t, "hung-yen", submitted(t, h, "hung-yen", cleanArticle("a000000000000001", 1)))
	})

	t.Run("blocked term is rejected naming the field", func(t *testing.T) {
		a := cleanArticle("a000000000000002", 1)
		a.Body[2].GetParagraph().Text = "Cảnh giác trước các luận điệu phản động trên mạng xã hội."
		a.Body[1].GetImage().Caption = "Tin giả lan truyền"
		got := h.rejected(t, "hung-yen", submitted(t, h, "hung-yen", a))
		want := []string{`blocked term "phản động" in body[2] (paragraph)`, `blocked term "tin giả" in body[1] (caption)`}
		if !sameSet(got, want) {
			t.Errorf("reasons %q, want %q", got, want)
		}
	})

	t.Run("du does not match giáo dục", func(t *testing.T) {
		a := cleanArticle("a000000000000003", 1)
		a.Title = "Đổi mới căn bản, toàn diện giáo dục và đào tạo"
		a.Lead = "Ví dụ điển hình về dục tốc bất đạt."
		h.approved(t, "hung-yen", submitted(t, h, "hung-yen", a))
	})

	t.Run("NFD text matches an NFC term", func(t *testing.T) {
		a := cleanArticle("a000000000000004", 1)
		a.Lead = norm.NFD.String("Đấu tranh với các quan điểm PHẢN ĐỘNG.")
		if a.Lead == norm.NFC.String(a.Lead) {
			t.Fatal("the lead is not in NFD")
		}
		got := h.rejected(t, "hung-yen", submitted(t, h, "hung-yen", a))
		if want := []string{`blocked term "phản động" in lead`}; !slices.Equal(got, want) {
			t.Errorf("reasons %q, want %q", got, want)
		}
	})

	t.Run("structural problems are each named", func(t *testing.T) {
		a := cleanArticle("a000000000000005", 1)
		a.Title = "  "
		a.Category = "the-thao"
		a.Body[1].GetImage().MediaId = ""
		got := h.rejected(t, "hung-yen", submitted(t, h, "hung-yen", a))
		want := []string{"title is empty", `category "the-thao" is not one of the site's categories`, "body[1] (image) has no media id"}
		if !sameSet(got, want) {
			t.Errorf("reasons %q, want %q", got, want)
		}
		b := cleanArticle("a000000000000006", 1)
		b.Body = nil
		if got := h.rejected(t, "hung-yen", submitted(t, h, "hung-yen", b)); !slices.Equal(got, []string{"body has no blocks"}) {
			t.Errorf("reasons %q, want body has no blocks", got)
		}
	})

	t.Run("blocklist change applies without restart", func(t *testing.T) {
		a := cleanArticle("a000000000000007", 1)
		a.Author = "Nguyễn Văn Lừa Đảo"
		h.approved(t, "nam-dinh", submitted(t, h, "nam-dinh", a))

		h.putTenant(t, newTenant("nam-dinh", "lừa đảo"))
		// The service learns of the change through its KV watch, which races
		// with the next submission: resubmit until a revision is judged with
		// the new list. In practice the first one is.
		for rev := int64(2); ; rev++ {
			next := proto.CloneOf(a)
			next.Revision = rev
			env := h.verdict(t, "nam-dinh", submitted(t, h, "nam-dinh", next))
			if env.GetType() == bus.TypeArticleRejected {
				if got, want := env.GetArticleRejected().GetReasons(), []string{`blocked term "lừa đảo" in author`}; !slices.Equal(got, want) {
					t.Errorf("reasons %q, want %q", got, want)
				}
				break
			}
			if rev == 20 {
				t.Fatal("the new blocklist was never applied")
			}
		}
	})

	t.Run("unknown tenant is retried until it exists", func(t *testing.T) {
		a := cleanArticle("a000000000000008", 1)
		h.submit(t, "bac-ninh", a)
		h.logs.waitFor(t, "retrying later", "subject=article.submitted.bac-ninh", "tenant not found")
		h.putTenant(t, newTenant("bac-ninh"))
		h.approved(t, "bac-ninh", a)
		if dl, err := h.bus.DeadLetters(ctxFor(t)); err != nil || len(dl) != 0 {
			t.Errorf("dead letters %v (%v), want none", dl, err)
		}
	})

	t.Run("event without an article is dead-lettered", func(t *testing.T) {
		ctx := ctxFor(t)
		err := h.bus.Publish(ctx, &eventsv1.Envelope{Id: "hung-yen.empty.submitted", Type: bus.TypeArticleSubmitted, Tenant: "hung-yen"})
		if err != nil {
			t.Fatal(err)
		}
		for {
			dls, err := h.bus.DeadLetters(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(dls, func(d bus.DeadLetter) bool { return d.Consumer == bus.ConsumerModeration }); i >= 0 {
				if !strings.Contains(dls[i].Reason, "no submitted article") {
					t.Errorf("dead-letter reason %q", dls[i].Reason)
				}
				break
			}
			select {
			case <-ctx.Done():
				t.Fatal("never dead-lettered")
			case <-time.After(20 * time.Millisecond):
			}
		}
	})

	t.Run("metrics count verdicts", func(t *testing.T) {
		_, body, err := h.get("/metrics")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, `moderation_verdicts_total{verdict="approved"}`) || !strings.Contains(body, `moderation_verdicts_total{verdict="rejected"}`) {
			t.Errorf("/metrics lacks the verdict counters")
		}
	})
}

// submitted submits a and returns it.
func submitted(t *testing.T, h *harness, tenantID string, a *eventsv1.Article) *eventsv1.Article {
	t.Helper()
	h.submit(t, tenantID, a)
	return a
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
