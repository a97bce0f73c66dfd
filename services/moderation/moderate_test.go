package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/blocpress/blocpress/libs/apikey"
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
	keys     *apikey.Store
	httpAddr string
	env      map[string]string
	logs     *logLines
	stop     func()
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
	keys, err := b.KV(ctx, bus.BucketAPIKeys)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{bus: b, tenants: tenant.NewStore(kv), keys: apikey.NewStore(keys), logs: &logLines{out: t.Output(), changed: make(chan struct{})}}
	for _, tn := range tenants {
		h.putTenant(t, tn)
	}
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	h.httpAddr = fmt.Sprintf("127.0.0.1:%d", port)
	h.env = map[string]string{
		"NATS_URL": nats.URL(), "MODERATION_HTTP_ADDR": h.httpAddr, "MODERATION_LOG_LEVEL": "debug",
		"MODERATION_SESSION_SECRET": strings.Repeat("s", 32), "MODERATION_SITE_URL": "http://site.test",
	}
	h.run(t)
	t.Cleanup(func() { h.stop() })
	return h
}

// run starts the service and waits until it is ready.
func (h *harness) run(t *testing.T) {
	t.Helper()
	rctx, rcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(rctx, func(k string) string { return h.env[k] }, h.logs) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			rcancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	ctx := ctxFor(t)
	for {
		code, body, err := h.get("/readyz")
		if err == nil && code == http.StatusOK {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("service never became ready: %d %s %v", code, body, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// restart stops the service and starts a new one on the same NATS.
func (h *harness) restart(t *testing.T) {
	t.Helper()
	h.stop()
	h.run(t)
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

// api calls the review desk's API with a key and decodes a JSON answer.
func (h *harness) api(t *testing.T, method, path, key string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(ctxFor(t), method, "http://"+h.httpAddr+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return res.StatusCode
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

// key issues a key as ingest would.
func (h *harness) key(t *testing.T, tenantID, role string) string {
	t.Helper()
	k, _, err := h.keys.Create(ctxFor(t), tenantID, role)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newTenant(id string, blocklist ...string) *tenant.Tenant {
	return &tenant.Tenant{
		ID: id, Name: "Đảng bộ Khối " + id,
		Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}, {Slug: "xay-dung-dang", Name: "Xây dựng Đảng"}},
		Blocklist:  blocklist,
	}
}

var (
	realParagraphsOnce sync.Once
	realParagraphs     []string
)

// realParagraph is the n-th long paragraph of the seed pages, so that test
// articles differ as real ones do (and are not each other's duplicates).
func realParagraph(t *testing.T, n int) string {
	realParagraphsOnce.Do(func() {
		for _, page := range seedParagraphs(t) {
			for _, p := range page {
				if len(strings.Fields(p)) >= 40 {
					realParagraphs = append(realParagraphs, p)
				}
			}
		}
	})
	return realParagraphs[n%len(realParagraphs)]
}

var articleCount struct {
	sync.Mutex
	n int
}

// cleanArticle is what an editor sends, with nothing to object to: a short
// paragraph, a photo, and a real paragraph no other test article has.
func cleanArticle(t *testing.T, id string, rev int64) *eventsv1.Article {
	articleCount.Lock()
	articleCount.n++
	n := articleCount.n
	articleCount.Unlock()
	return &eventsv1.Article{
		Id: id, Revision: rev, Category: "tin-tuc",
		Title: "Hội nghị sơ kết công tác giáo dục chính trị 6 tháng đầu năm",
		Lead:  "Sáng 24/4, Đảng ủy Khối tổ chức hội nghị sơ kết công tác 6 tháng đầu năm.",
		Body: []*eventsv1.Block{
			{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: "Dự hội nghị có đồng chí Bí thư Đảng ủy Khối."}}},
			{Kind: &eventsv1.Block_Image{Image: &eventsv1.Image{MediaId: strings.Repeat("ab", 32), Caption: "Quang cảnh hội nghị", Credit: "Lam Hồng"}}},
			{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: realParagraph(t, n)}}},
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

// submitted submits a and returns it.
func submitted(t *testing.T, h *harness, tenantID string, a *eventsv1.Article) *eventsv1.Article {
	t.Helper()
	h.submit(t, tenantID, a)
	return a
}

// events returns the events of the given types about one revision, waiting
// for at least one.
func (h *harness) events(t *testing.T, tenantID string, a *eventsv1.Article, types ...string) []*eventsv1.Envelope {
	t.Helper()
	ctx := ctxFor(t)
	var subjects []string
	for _, ty := range types {
		subjects = append(subjects, bus.Subject(ty, tenantID))
	}
	prefix := fmt.Sprintf("%s.%s.%d.", tenantID, a.GetId(), a.GetRevision())
	for {
		cons, err := h.bus.JetStream().OrderedConsumer(ctx, bus.StreamArticles, jetstream.OrderedConsumerConfig{FilterSubjects: subjects})
		if err != nil {
			t.Fatal(err)
		}
		var out []*eventsv1.Envelope
		for {
			msg, err := cons.Next(jetstream.FetchMaxWait(200 * time.Millisecond))
			if err != nil {
				break
			}
			env := &eventsv1.Envelope{}
			if err := proto.Unmarshal(msg.Data(), env); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(env.GetId(), prefix) {
				out = append(out, env)
			}
		}
		if len(out) > 0 {
			return out
		}
		if ctx.Err() != nil {
			t.Fatalf("no %v event about %s", types, prefix)
		}
	}
}

// verdict waits for the approval, hold or rejection of one revision.
func (h *harness) verdict(t *testing.T, tenantID string, a *eventsv1.Article) *eventsv1.Envelope {
	t.Helper()
	env := h.events(t, tenantID, a, bus.TypeArticleApproved, bus.TypeArticleRejected, bus.TypeArticleHeld)[0]
	if env.GetCorrelationId() != a.GetId() || env.GetTenant() != tenantID || env.GetOccurredAt() == nil {
		t.Errorf("verdict %s: correlation id %q tenant %q time %v", env.GetId(), env.GetCorrelationId(), env.GetTenant(), env.GetOccurredAt())
	}
	return env
}

func (h *harness) approved(t *testing.T, tenantID string, a *eventsv1.Article) *eventsv1.ArticleApproved {
	t.Helper()
	env := h.events(t, tenantID, a, bus.TypeArticleApproved, bus.TypeArticleRejected)[0]
	if env.GetType() != bus.TypeArticleApproved {
		t.Fatalf("%s: %s %q, want approved", env.GetId(), env.GetType(), env.GetArticleRejected().GetReasons())
	}
	if want := fmt.Sprintf("%s.%s.%d.approved", tenantID, a.GetId(), a.GetRevision()); env.GetId() != want {
		t.Errorf("id %q, want %q", env.GetId(), want)
	}
	if env.GetCorrelationId() != a.GetId() || env.GetTenant() != tenantID || env.GetOccurredAt() == nil {
		t.Errorf("%s: correlation id %q tenant %q time %v", env.GetId(), env.GetCorrelationId(), env.GetTenant(), env.GetOccurredAt())
	}
	if got := env.GetArticleApproved().GetArticle(); !proto.Equal(got, a) {
		t.Errorf("approved event carries %v, want the full submitted article %v", got, a)
	}
	return env.GetArticleApproved()
}

// reasons waits for a verdict of the given type (held, or a final one) and
// returns its reasons.
func (h *harness) reasons(t *testing.T, tenantID string, a *eventsv1.Article, eventType string) []string {
	t.Helper()
	types := []string{bus.TypeArticleApproved, bus.TypeArticleRejected}
	if eventType == bus.TypeArticleHeld {
		types = append(types, bus.TypeArticleHeld)
	}
	env := h.events(t, tenantID, a, types...)[0]
	if env.GetType() != eventType {
		t.Fatalf("%s: %s, want %s", env.GetId(), env.GetType(), eventType)
	}
	if want := fmt.Sprintf("%s.%s.%d.%s", tenantID, a.GetId(), a.GetRevision(), strings.TrimPrefix(eventType, "article.")); env.GetId() != want {
		t.Errorf("id %q, want %q", env.GetId(), want)
	}
	if r := env.GetArticleRejected(); r != nil {
		if r.GetArticleId() != a.GetId() || r.GetRevision() != a.GetRevision() {
			t.Errorf("rejected %s rev %d", r.GetArticleId(), r.GetRevision())
		}
		return r.GetReasons()
	}
	return env.GetArticleHeld().GetReasons()
}

func containsAll(lines []string, parts ...string) bool {
	return slices.ContainsFunc(lines, func(l string) bool {
		return !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(l, p) })
	})
}

func TestModeration(t *testing.T) {
	review := newTenant("thai-binh")
	review.Moderation = &tenant.Moderation{Policy: tenant.PolicyReview}
	h := start(t,
		newTenant("hung-yen", "phản động", "du", "tin giả"),
		newTenant("nam-dinh"),
		review,
	)

	t.Run("clean article is approved with the whole article", func(t *testing.T) {
		h.approved(t, "hung-yen", submitted(t, h, "hung-yen", cleanArticle(t, "a000000000000001", 1)))
	})

	t.Run("blocked term is rejected, located in its field", func(t *testing.T) {
		a := cleanArticle(t, "a000000000000002", 1)
		a.Body[2].GetParagraph().Text = "Cảnh giác trước các luận điệu phản động trên mạng xã hội."
		a.Body[1].GetImage().Caption = "Tin giả lan truyền"
		got := h.reasons(t, "hung-yen", submitted(t, h, "hung-yen", a), bus.TypeArticleRejected)
		if !containsAll(got, "reject · blocklist · body[2][30:39] «phản động»") || !containsAll(got, "reject · blocklist · body[1].caption[0:7] «Tin giả»") {
			t.Errorf("reasons %q", got)
		}
	})

	t.Run("du does not match giáo dục or du lịch", func(t *testing.T) {
		a := cleanArticle(t, "a000000000000003", 1)
		a.Title = "Đổi mới căn bản, toàn diện giáo dục và phát triển du lịch"
		a.Lead = "Ví dụ điển hình về dục tốc bất đạt."
		h.approved(t, "hung-yen", submitted(t, h, "hung-yen", a))
	})

	t.Run("NFD text matches an NFC term", func(t *testing.T) {
		a := cleanArticle(t, "a000000000000004", 1)
		a.Lead = "\u0110a\u0302\u0301u tranh vo\u031b\u0301i ca\u0301c quan \u0111ie\u0302\u0309m PHA\u0309N \u0110O\u0323\u0302NG."
		got := h.reasons(t, "hung-yen", submitted(t, h, "hung-yen", a), bus.TypeArticleRejected)
		if !containsAll(got, "blocklist · lead[28:37] «PHẢN ĐỘNG»") {
			t.Errorf("reasons %q", got)
		}
	})

	t.Run("a term without its marks is held for a person", func(t *testing.T) {
		a := cleanArticle(t, "a000000000000009", 1)
		a.Lead = "Canh giac voi luan dieu phan dong tren mang."
		got := h.reasons(t, "hung-yen", submitted(t, h, "hung-yen", a), bus.TypeArticleHeld)
		if !containsAll(got, "hold · blocklist-folded · lead[24:33] «phan dong»") {
			t.Errorf("reasons %q", got)
		}
		// The verdict is readable by the editor's key.
		editor := h.key(t, "hung-yen", apikey.RoleEditor)
		var v verdictView
		if code := h.api(t, "GET", "/v1/tenants/hung-yen/articles/a000000000000009/verdict", editor, nil, &v); code != 200 ||
			v.Verdict.Decision != "hold" || v.Verdict.Policy != "auto" || len(v.Verdict.Findings) != 1 || v.Verdict.Findings[0].Start != 24 {
			t.Errorf("verdict %d %+v", code, v)
		}
	})

	t.Run("structural problems are each named", func(t *testing.T) {
		a := cleanArticle(t, "a000000000000005", 1)
		a.Title = "  "
		a.Category = "the-thao"
		a.Body[1].GetImage().MediaId = ""
		got := h.reasons(t, "hung-yen", submitted(t, h, "hung-yen", a), bus.TypeArticleRejected)
		for _, want := range []string{"required · title", "category · category", "structure · body[1].image"} {
			if !containsAll(got, want) {
				t.Errorf("reasons %q lack %q", got, want)
			}
		}
	})

	t.Run("policy review holds a clean article", func(t *testing.T) {
		got := h.reasons(t, "thai-binh", submitted(t, h, "thai-binh", cleanArticle(t, "a000000000000010", 1)), bus.TypeArticleHeld)
		if !containsAll(got, "policy · review") {
			t.Errorf("reasons %q", got)
		}
	})

	t.Run("a near-duplicate is held naming the other article", func(t *testing.T) {
		pages := seedParagraphs(t)
		first := cleanArticle(t, "a000000000000011", 1)
		first.Body = nil
		for _, p := range pages[0][3:10] {
			first.Body = append(first.Body, paragraph(p))
		}
		h.approved(t, "nam-dinh", submitted(t, h, "nam-dinh", first))
		again := proto.CloneOf(first)
		again.Id, again.Source = "a000000000000012", nil
		again.Title = "Giao ban Đảng ủy khối cụm Đồng bằng Bắc Bộ"
		again.Body = again.Body[1:]
		got := h.reasons(t, "nam-dinh", submitted(t, h, "nam-dinh", again), bus.TypeArticleHeld)
		if !containsAll(got, "hold · duplicate", "a000000000000011", "không ghi nguồn") {
			t.Errorf("reasons %q", got)
		}
	})

	t.Run("rules change without restart", func(t *testing.T) {
		a := cleanArticle(t, "a000000000000007", 1)
		a.Author = "Nguyễn Văn Lừa Đảo"
		h.approved(t, "nam-dinh", submitted(t, h, "nam-dinh", a))

		tn := newTenant("nam-dinh")
		tn.Moderation = &tenant.Moderation{Blocklist: []tenant.BlockedTerm{{Term: "lừa đảo", Severity: "hold"}}}
		h.putTenant(t, tn)
		// The service learns of the change through its KV watch, which races
		// with the next submission: resubmit until a revision is judged with
		// the new rules. In practice the first one is.
		for rev := int64(2); ; rev++ {
			next := cleanArticle(t, fmt.Sprintf("b%015d", rev), 1)
			next.Author = a.Author
			env := h.verdict(t, "nam-dinh", submitted(t, h, "nam-dinh", next))
			if env.GetType() == bus.TypeArticleHeld {
				if got := env.GetArticleHeld().GetReasons(); !containsAll(got, "hold · blocklist · author[11:18] «Lừa Đảo»") {
					t.Errorf("reasons %q", got)
				}
				break
			}
			if rev == 20 {
				t.Fatal("the new rules were never applied")
			}
		}
	})

	t.Run("a redelivered submission is judged once", func(t *testing.T) {
		a := cleanArticle(t, "a000000000000013", 1)
		h.approved(t, "hung-yen", submitted(t, h, "hung-yen", a))
		// The same event again, as after the dedupe window.
		data, _ := proto.Marshal(&eventsv1.Envelope{Id: "again", Type: bus.TypeArticleSubmitted, Tenant: "hung-yen",
			Payload: &eventsv1.Envelope_ArticleSubmitted{ArticleSubmitted: &eventsv1.ArticleSubmitted{Article: a}}})
		ack, err := h.bus.JetStream().Publish(ctxFor(t), "article.submitted.hung-yen", data)
		if err != nil {
			t.Fatal(err)
		}
		h.handled(t, ack.Sequence)
		entries := auditEntries(t, h, "hung-yen", "a000000000000013")
		if len(entries) != 1 || entries[0].Decision != "approve" || entries[0].Actor != "auto" {
			t.Errorf("audit %+v", entries)
		}
	})

	t.Run("unknown tenant is retried until it exists", func(t *testing.T) {
		a := cleanArticle(t, "a000000000000008", 1)
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
		for _, v := range []string{"approved", "held", "rejected"} {
			if !strings.Contains(body, `moderation_verdicts_total{by="auto",verdict="`+v+`"}`) {
				t.Errorf("/metrics lacks the %s counter", v)
			}
		}
	})
}

// handled waits until the moderation consumer has acknowledged every
// message up to the stream sequence seq.
func (h *harness) handled(t *testing.T, seq uint64) {
	t.Helper()
	ctx := ctxFor(t)
	for {
		c, err := h.bus.JetStream().Consumer(ctx, bus.StreamArticles, bus.ConsumerModeration)
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.AckFloor.Stream >= seq {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("message %d never acknowledged (ack floor %d)", seq, info.AckFloor.Stream)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func auditEntries(t *testing.T, h *harness, tenantID, articleID string) []auditEntry {
	t.Helper()
	reviewer := h.key(t, tenantID, apikey.RoleReviewer)
	var out struct{ Entries []auditEntry }
	if code := h.api(t, "GET", "/v1/tenants/"+tenantID+"/review/audit?article="+articleID, reviewer, nil, &out); code != 200 {
		t.Fatalf("audit: %d", code)
	}
	return out.Entries
}
