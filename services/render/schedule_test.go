package main

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
)

// A scheduled article waits in render-schedule while render is stopped past
// its time, and is published by the scheduler's first scan when render
// starts again — not before its time.
func TestScheduledArticlePublishesAfterRestart(t *testing.T) {
	h := start(t)
	h.waitFor("the home page", func() bool { return h.exists("index.html") })

	at := time.Now().Add(8 * time.Second)
	a := &eventsv1.Article{Id: "sched00000000001", Revision: 1, Category: "tin-tuc", Title: "Hội nghị sơ kết 6 tháng",
		Lead: "Bài hẹn giờ đăng.", Body: []*eventsv1.Block{paragraph("Nội dung.")}, ScheduledAt: timestamppb.New(at)}
	h.publish(approved(a, time.Now()))
	h.waitFor("the schedule entry", func() bool { _, _, ok := h.scheduleEntry(a.Id); return ok })
	h.stopRender()
	path := "bai-viet/hoi-nghi-so-ket-6-thang-sched00000000001.html"
	if time.Now().After(at) {
		t.Fatal("render took longer than the article's lead time to schedule it")
	}
	if h.exists(path) {
		t.Fatal("the scheduled article was published before its time")
	}

	// Its time passes while no render runs.
	time.Sleep(time.Until(at) + time.Second)
	if h.exists(path) || strings.Contains(h.page("index.html"), path) {
		t.Fatal("the article appeared with render stopped")
	}

	h.startRender()
	m, err := h.published.Next(jetstream.FetchMaxWait(90 * time.Second))
	if err != nil {
		t.Fatalf("waiting for article.published: %v", err)
	}
	md, err := m.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	if md.Timestamp.Before(at) {
		t.Errorf("article.published at %s, before its time %s", md.Timestamp, at)
	}
	ev := &eventsv1.Envelope{}
	if err := proto.Unmarshal(m.Data(), ev); err != nil {
		t.Fatal(err)
	}
	if ev.GetId() != "hungyen.sched00000000001.1.published" || ev.GetArticlePublished().GetPath() != path {
		t.Fatalf("published %s %v", ev.GetId(), ev.GetArticlePublished())
	}
	mustContain(t, "scheduled article", h.page(path), "<h1>Hội nghị sơ kết 6 tháng</h1>", dateLine(at))
	mustContain(t, "home page", h.page("index.html"), path)
	h.waitFor("the schedule entry to go", func() bool { _, _, ok := h.scheduleEntry(a.Id); return !ok })
}

// scheduleBucket is the render-schedule bucket.
func (h *harness) scheduleBucket() jetstream.KeyValue {
	h.t.Helper()
	kv, err := h.bus.KV(h.t.Context(), bus.BucketRenderSchedule)
	if err != nil {
		h.t.Fatal(err)
	}
	return kv
}

// scheduleEntry is the article's render-schedule entry and its KV
// revision; ok is false when it has none.
func (h *harness) scheduleEntry(id string) (se scheduledEntry, kvRev uint64, ok bool) {
	h.t.Helper()
	e, err := h.scheduleBucket().Get(h.t.Context(), "hungyen."+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return scheduledEntry{}, 0, false
	}
	if err != nil {
		h.t.Fatal(err)
	}
	if err := json.Unmarshal(e.Value(), &se); err != nil {
		h.t.Fatalf("schedule entry of %s: %v", id, err)
	}
	return se, e.Revision(), true
}

// The bucket keeps the highest scheduled revision; article.unpublished
// replaces a scheduled article with a tombstone before it ever appears.
func TestScheduleKeepsNewestRevisionAndUnpublishCancels(t *testing.T) {
	h := start(t)
	later := time.Now().Add(time.Hour)
	a := &eventsv1.Article{Id: "sched00000000002", Revision: 2, Category: "tin-tuc", Title: "Bản sửa lần hai",
		Body: []*eventsv1.Block{paragraph("Nội dung.")}, ScheduledAt: timestamppb.New(later)}
	h.publish(approved(a, time.Now()))
	revisionOf := func() int64 {
		se, _, _ := h.scheduleEntry(a.Id)
		return se.Revision
	}
	h.waitFor("revision 2 scheduled", func() bool { return revisionOf() == 2 })

	older := proto.Clone(a).(*eventsv1.Article)
	older.Revision, older.Title = 1, "Bản đầu"
	h.publish(approved(older, time.Now()))
	h.waitFor("the older revision to be skipped", func() bool {
		return strings.Contains(h.logs.String(), "skipping a scheduled revision older than the one waiting")
	})
	if got := revisionOf(); got != 2 {
		t.Fatalf("schedule holds revision %d, want 2", got)
	}

	// A replica's claim on the entry (it may be publishing it) holds the
	// takedown back until the claim is released.
	setClaim := func(until time.Time) {
		se, kvRev, ok := h.scheduleEntry(a.Id)
		if !ok {
			t.Fatal("no schedule entry to claim")
		}
		se.ClaimedBy, se.ClaimedUntil = "another-replica", until
		v, _ := json.Marshal(se)
		if _, err := h.scheduleBucket().Update(t.Context(), "hungyen."+a.Id, v, kvRev); err != nil {
			t.Fatal(err)
		}
	}
	setClaim(time.Now().Add(time.Minute))
	h.publish(&eventsv1.Envelope{Id: "hungyen.sched00000000002.2.unpublished", Type: bus.TypeArticleUnpublished,
		Tenant: "hungyen", CorrelationId: a.Id, Payload: &eventsv1.Envelope_ArticleUnpublished{
			ArticleUnpublished: &eventsv1.ArticleUnpublished{ArticleId: a.Id, Revision: 2, Reason: "Hủy lịch đăng"}}})
	h.waitFor("the takedown to wait for the claim", func() bool {
		return strings.Contains(h.logs.String(), "the scheduled article is being published; retrying the takedown")
	})
	if revisionOf() != 2 {
		t.Fatal("the takedown removed an entry a replica had claimed")
	}
	setClaim(time.Time{})
	h.waitFor("the schedule entry to become a tombstone of revision 2", func() bool {
		se, _, ok := h.scheduleEntry(a.Id)
		return ok && se.tombstone() && se.TakenDownRevision == 2 && se.Revision == 0
	})
	if h.exists("bai-viet/ban-sua-lan-hai-sched00000000002.html") {
		t.Error("a cancelled scheduled article has a page")
	}
}

// An approved revision n+1 re-renders the article and every list showing
// it, its neighbour's "Tin liên quan" included; a late approval of an older
// revision changes nothing.
func TestRevisionReRendersPageAndLists(t *testing.T) {
	h := start(t)
	first := &eventsv1.Article{Id: "rev0000000000001", Revision: 1, Category: "tin-tuc", Title: "Tiêu đề cũ của bài",
		Lead: "Tóm tắt.", Body: []*eventsv1.Block{paragraph("Nội dung.")}, PublishedAt: timestamppb.New(time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC))}
	h.publish(approved(first, time.Now()))
	h.nextPublished()
	second := &eventsv1.Article{Id: "rev0000000000002", Revision: 1, Category: "tin-tuc", Title: "Bài mới hơn",
		Body: []*eventsv1.Block{paragraph("Nội dung.")}, PublishedAt: timestamppb.New(time.Date(2024, 5, 2, 2, 0, 0, 0, time.UTC))}
	h.publish(approved(second, time.Now()))
	secondPath := h.nextPublished().GetArticlePublished().GetPath()
	mustContain(t, "neighbour", h.page(secondPath), "Tiêu đề cũ của bài")

	revised := proto.Clone(first).(*eventsv1.Article)
	revised.Revision, revised.Title = 2, "Tiêu đề mới của bài"
	h.publish(approved(revised, time.Now()))
	ev := h.nextPublished()
	if ev.GetArticlePublished().GetRevision() != 2 {
		t.Fatalf("published %v", ev.GetArticlePublished())
	}
	newPath := ev.GetArticlePublished().GetPath()
	for _, p := range []string{newPath, "index.html", "tin-tuc/index.html", "rss.xml", "tin-tuc/rss.xml", secondPath} {
		doc := h.page(p)
		if p == secondPath {
			// A neighbour's lists are spliced; its side column is as of
			// its own render until its script reads titles.json.
			doc = listsOf(t, doc)
		}
		mustContain(t, p, doc, "Tiêu đề mới của bài")
		mustNotContain(t, p, doc, "Tiêu đề cũ của bài")
	}
	mustContain(t, "titles.json", h.page("titles.json"), "Tiêu đề mới của bài")

	stale := approved(first, time.Now())
	stale.Id += ".late"
	h.publish(stale)
	h.waitFor("the stale revision to be skipped", func() bool {
		return strings.Contains(h.logs.String(), "skipping an approved revision older than the published one")
	})
	for _, p := range []string{newPath, "index.html"} {
		mustNotContain(t, p, h.page(p), "Tiêu đề cũ của bài")
	}
	mustNotContain(t, secondPath, listsOf(t, h.page(secondPath)), "Tiêu đề cũ của bài")
	e, err := h.index.Get(t.Context(), "hungyen."+first.Id)
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(e.Value(), &sum); err != nil || sum.Revision != 2 {
		t.Errorf("index holds %+v (%v), want revision 2", sum, err)
	}
}

// Two render replicas tick over the same bucket: the claim lets exactly one
// of them publish a due article.
func TestScheduleTwoReplicasPublishOnce(t *testing.T) {
	h := start(t)
	other := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return h.env[k] }, other) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("second replica: %v", err)
		}
		if t.Failed() {
			t.Logf("second replica's log:\n%s", other.String())
		}
	})
	h.waitFor("both replicas", func() bool {
		return strings.Contains(other.String(), "effective configuration") && strings.Contains(h.logs.String(), "effective configuration")
	})

	a := &eventsv1.Article{Id: "sched00000000003", Revision: 1, Category: "tin-tuc", Title: "Hai bản sao cùng chờ",
		Body: []*eventsv1.Block{paragraph("Nội dung.")}, ScheduledAt: timestamppb.New(time.Now().Add(3 * time.Second))}
	h.publish(approved(a, time.Now()))
	if ev := h.nextPublished(); ev.GetId() != "hungyen.sched00000000003.1.published" {
		t.Fatalf("published %s", ev.GetId())
	}
	// Both replicas scan the bucket at least twice more.
	time.Sleep(2*scheduleTick + time.Second)
	line := regexp.MustCompile(`msg="article published".*article=sched00000000003 `)
	if n := len(line.FindAllString(h.logs.String(), -1)) + len(line.FindAllString(other.String(), -1)); n != 1 {
		t.Errorf("the article was published %d times by the replicas, want once", n)
	}
}

// listsOf is the "Tin liên quan" / "Các bài viết khác" block of a page.
func listsOf(t *testing.T, doc string) string {
	t.Helper()
	i, j := strings.Index(doc, string(listsStart)), strings.Index(doc, string(listsEnd))
	if i < 0 || j < i {
		t.Fatal("page without its lists block")
	}
	return doc[i:j]
}
