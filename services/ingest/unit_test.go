package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/tenant"
)

func TestNewArticleID(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b := newArticleID(t0), newArticleID(t0)
	later := newArticleID(t0.Add(time.Millisecond))
	for _, id := range []string{a, b, later} {
		if !articleIDPattern.MatchString(id) {
			t.Errorf("%q does not match %s", id, articleIDPattern)
		}
	}
	if a == b {
		t.Error("two ids of the same millisecond are equal")
	}
	if !(a < later && b < later) {
		t.Errorf("ids do not sort by time: %s %s then %s", a, b, later)
	}
}

func TestSupersedes(t *testing.T) {
	t1 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	t0, t2 := t1.Add(-time.Minute), t1.Add(time.Minute)
	for _, c := range []struct {
		cur  string
		next string
		at   time.Time
		want bool
	}{
		{statusSubmitted, statusApproved, t2, true},
		{statusSubmitted, statusHeld, t0, true}, // clocks differ; rank decides
		{statusHeld, statusApproved, t2, true},  // a reviewer approves a held article
		{statusApproved, statusHeld, t0, false}, // a late verdict does not undo a newer one
		{statusApproved, statusPublished, t2, true},
		{statusPublished, statusApproved, t2, false}, // late approval after publication
		{statusPublished, statusRejected, t2, false},
		{statusPublished, statusPublished, t2, true}, // re-rendered
		{statusPublished, statusUnpublished, t2, true},
		{statusUnpublished, statusPublished, t0, false}, // the old publication, redelivered
		{statusUnpublished, statusApproved, t2, false},  // an edit reviewed after the takedown: render refuses it too
		{statusUnpublished, statusPublished, t2, false},
		{statusUnpublished, statusUnpublished, t2, true}, // a second takedown (another form)
	} {
		if got := supersedes(c.cur, t1, c.next, c.at); got != c.want {
			t.Errorf("%s at t1 then %s at %v: supersedes = %v, want %v", c.cur, c.next, c.at.Sub(t1), got, c.want)
		}
	}
}

func TestApplyKeepsHistoryInOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	art := &eventsv1.Article{Id: "0123456789abcdef", Revision: 1, Title: "T", SubmittedAt: nil}
	d := newStatusDoc("acme", art, "key x (editor)")
	d.StatusAt, d.History[0].At = t0, t0
	ev := func(status string, min int) statusEvent {
		return statusEvent{id: "acme.0123456789abcdef.1." + status, status: status, at: t0.Add(time.Duration(min) * time.Minute),
			by: "test", reasons: []string{status + " reason"}, url: "https://example.test/a.html"}
	}
	for _, e := range []statusEvent{ev(statusHeld, 1), ev(statusPublished, 3), ev(statusApproved, 2)} {
		if !d.apply(e) {
			t.Fatalf("%s changed nothing", e.status)
		}
	}
	if d.apply(ev(statusApproved, 2)) {
		t.Error("a redelivered event changed the document")
	}
	var trail []string
	for _, h := range d.History {
		trail = append(trail, h.Status)
	}
	if d.Status != statusPublished || d.PublicURL != "https://example.test/a.html" || len(d.Reasons) != 0 ||
		!slices.Equal(trail, []string{statusSubmitted, statusHeld, statusApproved, statusPublished}) {
		t.Errorf("document %+v, history %v", d, trail)
	}
	d.apply(ev(statusUnpublished, 4))
	if d.Status != statusUnpublished || d.PublicURL != "" || !slices.Equal(d.Reasons, []string{"unpublished reason"}) {
		t.Errorf("after unpublishing: %+v", d)
	}
}

func TestStatusEventOfRefusesBadIDs(t *testing.T) {
	ok := &eventsv1.Envelope{Id: "x", Tenant: "acme", Payload: &eventsv1.Envelope_ArticleHeld{
		ArticleHeld: &eventsv1.ArticleHeld{ArticleId: "0123456789abcdef", Revision: 1, Reasons: []string{"needs review"}}}}
	ev, err := statusEventOf(ok)
	if err != nil || ev.status != statusHeld || ev.tenant != "acme" || !slices.Equal(ev.reasons, []string{"needs review"}) {
		t.Fatalf("statusEventOf = %+v, %v", ev, err)
	}
	for name, env := range map[string]*eventsv1.Envelope{
		"tenant":   {Tenant: "acme.>", Payload: ok.Payload},
		"article":  {Tenant: "acme", Payload: &eventsv1.Envelope_ArticleHeld{ArticleHeld: &eventsv1.ArticleHeld{ArticleId: "../x", Revision: 1}}},
		"revision": {Tenant: "acme", Payload: &eventsv1.Envelope_ArticleHeld{ArticleHeld: &eventsv1.ArticleHeld{ArticleId: "0123456789abcdef"}}},
		"payload":  {Tenant: "acme", Payload: &eventsv1.Envelope_View{View: &eventsv1.View{}}},
	} {
		if _, err := statusEventOf(env); err == nil {
			t.Errorf("bad %s accepted", name)
		}
	}
}

func TestValidateLimits(t *testing.T) {
	ten := &tenant.Tenant{ID: "acme", Name: "Acme", Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}}}
	lim := limits{title: 10, lead: 5, paragraph: 8, blocks: 4, images: 1}
	photo := strings.Repeat("a", 64)
	req := articleRequest{
		Category: "tin-tuc", Title: "Tiêu đề", Lead: "Sa pô dài",
		Body: []blockRequest{
			{Type: "paragraph", Text: "Đoạn văn quá dài"},
			{Type: "image", Media: photo},
			{Type: "image", Media: photo},
			{Type: "paragraph", Text: "ok", Caption: "stray"},
			{Type: "paragraph", Text: "ok"},
		},
	}
	asked := 0
	errs, err := req.validate(context.Background(), ten, lim, func(context.Context, string) (bool, error) { asked++; return true, nil })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, e := range errs {
		got[e.Field+": "+e.Message] = e.Limit
	}
	want := map[string]any{
		"lead: must be at most 5 characters, got 9":                                              5,
		"body[0].text: must be at most 8 characters, got 16":                                     8,
		"body: must have at most 4 blocks, got 5":                                                4,
		"body: must have at most 1 images, got 2":                                                1,
		"body[3]: a paragraph has only text; media, caption and credit belong to an image block": nil,
	}
	if len(got) != len(want) {
		t.Errorf("errors %v, want %v", got, want)
	}
	for k, v := range want {
		if l, ok := got[k]; !ok || l != v {
			t.Errorf("missing %q (limit %v) in %v", k, v, got)
		}
	}
	if asked != 0 {
		t.Errorf("S3 was asked about %d photos of an article over the image limit", asked)
	}
}

func TestNormalizeComposesVietnamese(t *testing.T) {
	req := articleRequest{Title: "  Hội nghi\u0323  ", Body: []blockRequest{{Type: "paragraph", Text: "Tie\u0302\u0301ng Vie\u0323\u0302t\n"}}}
	req.normalize()
	if req.Title != "Hội nghị" || req.Body[0].Text != "Tiếng Việt" {
		t.Errorf("normalised to %q, %q", req.Title, req.Body[0].Text)
	}
}

func TestSpoolSpillsToDisk(t *testing.T) {
	for _, size := range []int{100, spoolInMemory + 1} {
		data := []byte(strings.Repeat("0123456789", size/10+1))[:size]
		sp := newSpool()
		for chunk := range slices.Chunk(data, 4096) {
			if _, err := sp.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
		if (sp.file != nil) != (size > spoolInMemory) {
			t.Errorf("%d bytes: on disk = %v", size, sp.file != nil)
		}
		r, err := sp.Reader()
		if err != nil {
			t.Fatal(err)
		}
		back, _ := io.ReadAll(r)
		sum := sha256.Sum256(data)
		if string(back) != string(data) || sp.Sum() != hex.EncodeToString(sum[:]) || string(sp.head) != string(data[:min(512, size)]) {
			t.Errorf("%d bytes: read back %d bytes, sum %s", size, len(back), sp.Sum())
		}
		sp.Close()
		if sp.file != nil {
			if _, err := sp.file.Stat(); err == nil {
				t.Error("temporary file left open")
			}
		}
	}
}

func TestConfig(t *testing.T) {
	_, err := loadConfig(func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "INGEST_ADMIN_TOKEN is required") {
		t.Errorf("without a token: %v", err)
	}
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{"INGEST_ADMIN_TOKEN": "secret-token", "INGEST_PUBLIC_URL": "https://ingest.example/"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != ":8081" || cfg.PublicURL != "https://ingest.example" || cfg.MaxMediaBytes != 25<<20 ||
		cfg.MaxBodyBytes != 1<<20 || cfg.MaxImages != 30 || cfg.MaxTitle != 300 || cfg.MaxLead != 1000 ||
		cfg.MaxParagraph != 10000 || cfg.MaxBlocks != 500 || cfg.ShutdownTimeout != 20*time.Second {
		t.Errorf("defaults: %+v", cfg)
	}
	if attrs := config.LogAttrs(envPrefix, &cfg); slices.ContainsFunc(attrs, func(a any) bool { return strings.Contains(a.(interface{ String() string }).String(), "secret-token") }) {
		t.Error("the admin token is logged")
	}
	if _, err := loadConfig(func(k string) string {
		return map[string]string{"INGEST_ADMIN_TOKEN": "x", "INGEST_PUBLIC_URL": "ingest:8081", "INGEST_MAX_IMAGES": "0"}[k]
	}); err == nil || !strings.Contains(err.Error(), "PUBLIC_URL") || !strings.Contains(err.Error(), "MAX_IMAGES") {
		t.Errorf("bad values: %v", err)
	}
	if _, err := loadConfig(func(k string) string {
		return map[string]string{"INGEST_ADMIN_TOKEN": "x", "INGEST_SESSION_SECRET": "too-short"}[k]
	}); err == nil || !strings.Contains(err.Error(), "SESSION_SECRET must be at least 32 characters, got 9") {
		t.Errorf("a short session secret: %v", err)
	}
}
