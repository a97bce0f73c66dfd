package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
)

// An article taken down while its revision 2 was in moderation stays down
// when moderation approves revision 2 later; revision 3, submitted after
// the takedown, brings it back.
func TestTakedownRefusesLateApprovalOfPendingRevision(t *testing.T) {
	h := start(t)
	ctx := t.Context()
	const id = "gone000000000001"
	key := "hungyen." + id
	first := &eventsv1.Article{Id: id, Revision: 1, Category: "tin-tuc", Title: "Bài sẽ bị gỡ",
		Lead: "Tóm tắt.", Body: []*eventsv1.Block{paragraph("Nội dung bản một.")},
		PublishedAt: timestamppb.New(time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC))}
	h.publish(approved(first, time.Now()))
	path := h.nextPublished().GetArticlePublished().GetPath()
	mustContain(t, "home page", h.page("index.html"), path)

	// The editor takes it down while revision 2 is in moderation: ingest
	// sends the latest revision, 2.
	h.publish(&eventsv1.Envelope{Id: "hungyen." + id + ".2.unpublished.1", Type: bus.TypeArticleUnpublished,
		Tenant: "hungyen", CorrelationId: id, Payload: &eventsv1.Envelope_ArticleUnpublished{
			ArticleUnpublished: &eventsv1.ArticleUnpublished{ArticleId: id, Revision: 2, Reason: "gone: Sai sự thật"}}})
	gone := func() bool {
		info, err := h.store.Stat(ctx, "site/hungyen/"+path)
		return err == nil && strings.Contains(info.ContentType, "x-status=410")
	}
	h.waitFor("the 410 page", gone)
	if se, _, ok := h.scheduleEntry(id); !ok || !se.tombstone() || se.TakenDownRevision != 2 {
		t.Fatalf("render-schedule %s holds %+v (found: %t), want a tombstone of revision 2", key, se, ok)
	}

	// Moderation approves revision 2 late: it stays down.
	second := proto.Clone(first).(*eventsv1.Article)
	second.Revision, second.Title, second.PublishedAt = 2, "Bản hai duyệt muộn", nil
	h.publish(approved(second, time.Now()))
	h.waitFor("the late approval to be refused", func() bool {
		return strings.Contains(h.logs.String(), "skipping an approval of a revision taken down")
	})
	if !gone() {
		t.Error("the late approval of revision 2 replaced the 410 page")
	}
	for _, p := range []string{"index.html", "tin-tuc/index.html", "rss.xml"} {
		mustNotContain(t, p, h.page(p), path, "Bản hai duyệt muộn")
	}
	if _, err := h.index.Get(ctx, key); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("render-index entry after the refused approval: %v, want none", err)
	}
	// The scheduler scans the tombstone and leaves it alone.
	time.Sleep(scheduleTick + time.Second)
	if se, _, ok := h.scheduleEntry(id); !ok || !se.tombstone() || se.TakenDownRevision != 2 {
		t.Errorf("after a scheduler tick render-schedule holds %+v (found: %t), want the tombstone", se, ok)
	}
	if l := h.logs.String(); strings.Contains(l, "publishing scheduled articles") {
		t.Errorf("the scheduler choked on the tombstone:\n%s", l)
	}

	// Revision 3, submitted after the takedown, is published again.
	third := proto.Clone(second).(*eventsv1.Article)
	third.Revision, third.Title = 3, "Bản ba sau khi gỡ"
	h.publish(approved(third, time.Now()))
	ev := h.nextPublished()
	if ev.GetArticlePublished().GetRevision() != 3 {
		t.Fatalf("published %s, want revision 3 (revision 2 must never be published)", ev.GetId())
	}
	newPath := ev.GetArticlePublished().GetPath()
	mustContain(t, "republished page", h.page(newPath), "<h1>Bản ba sau khi gỡ</h1>")
	mustContain(t, "home page", h.page("index.html"), newPath)
	e, err := h.index.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(e.Value(), &sum); err != nil || sum.Revision != 3 {
		t.Errorf("index holds %+v (%v), want revision 3", sum, err)
	}
	h.waitFor("the tombstone to go", func() bool { _, _, ok := h.scheduleEntry(id); return !ok })
}

// A revision submitted after the takedown and scheduled for later waits
// with the takedown's revision in its entry, so that a late approval of a
// revision taken down is still refused meanwhile.
func TestTakedownSurvivesANewerScheduledRevision(t *testing.T) {
	h := start(t)
	ctx := t.Context()
	const id = "gone000000000002"
	key := "hungyen." + id
	h.publish(&eventsv1.Envelope{Id: "hungyen." + id + ".2.unpublished.1", Type: bus.TypeArticleUnpublished,
		Tenant: "hungyen", CorrelationId: id, Payload: &eventsv1.Envelope_ArticleUnpublished{
			ArticleUnpublished: &eventsv1.ArticleUnpublished{ArticleId: id, Revision: 2, Reason: "Hủy lịch đăng"}}})
	entry := func() scheduledEntry {
		se, _, _ := h.scheduleEntry(id)
		return se
	}
	h.waitFor("the tombstone", func() bool { return entry().TakenDownRevision == 2 })

	later := &eventsv1.Article{Id: id, Revision: 3, Category: "tin-tuc", Title: "Bản ba hẹn giờ",
		Body: []*eventsv1.Block{paragraph("Nội dung.")}, ScheduledAt: timestamppb.New(time.Now().Add(time.Hour))}
	h.publish(approved(later, time.Now()))
	h.waitFor("revision 3 scheduled over the tombstone", func() bool {
		se := entry()
		return se.Revision == 3 && !se.tombstone() && se.TakenDownRevision == 2
	})
	late := &eventsv1.Article{Id: id, Revision: 2, Category: "tin-tuc", Title: "Bản hai duyệt muộn",
		Body: []*eventsv1.Block{paragraph("Nội dung.")}}
	h.publish(approved(late, time.Now()))
	h.waitFor("the late approval to be refused", func() bool {
		return strings.Contains(h.logs.String(), "skipping an approval of a revision taken down")
	})
	if se := entry(); se.Revision != 3 || se.TakenDownRevision != 2 {
		t.Errorf("render-schedule holds %+v after the late approval, want revision 3 waiting", se)
	}
	if _, err := h.index.Get(ctx, key); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("render-index entry after the refused approval: %v, want none", err)
	}
}
