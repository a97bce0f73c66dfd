package main

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

// A rebuild replays approvals and takedowns to the same end as the live
// consumer: a takedown keeps out approvals of revisions submitted before it.
func TestReplayKeepsTakedownsAgainstLateApprovals(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	approved := func(id string, rev int64) *eventsv1.Envelope {
		return &eventsv1.Envelope{Tenant: "hungyen", OccurredAt: timestamppb.New(now.Add(-time.Hour)),
			Payload: &eventsv1.Envelope_ArticleApproved{ArticleApproved: &eventsv1.ArticleApproved{Article: &eventsv1.Article{
				Id: id, Revision: rev, Category: "tin-tuc-su-kien", Title: "Bài viết", Body: []*eventsv1.Block{
					{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: "Nội dung."}}}}}}}}
	}
	unpublished := func(id string, rev int64) *eventsv1.Envelope {
		return &eventsv1.Envelope{Tenant: "hungyen", Payload: &eventsv1.Envelope_ArticleUnpublished{
			ArticleUnpublished: &eventsv1.ArticleUnpublished{ArticleId: id, Revision: rev, Reason: "gone: Đăng nhầm"}}}
	}
	const a, b = "0000000000000aaa", "0000000000000bbb"
	state := map[string]*replayed{}
	for _, env := range []*eventsv1.Envelope{
		approved(a, 1), unpublished(a, 2), approved(a, 2), // an edit in review when it was taken down
		unpublished(b, 1), approved(b, 1), // a scheduled article cancelled, approved late
	} {
		apply(state, env, now)
	}
	if st := state[a]; st == nil || st.live || st.article.GetRevision() != 1 || st.reason != "gone: Đăng nhầm" {
		t.Fatalf("article a after a late approval of revision 2: %+v", st)
	}
	if st := state[b]; st == nil || st.live || st.article != nil {
		t.Fatalf("article b, taken down before it was ever online: %+v", st)
	}
	apply(state, approved(a, 3), now) // submitted after the takedown
	if st := state[a]; !st.live || st.article.GetRevision() != 3 {
		t.Fatalf("revision 3 after the takedown is not back online: %+v", st)
	}
	apply(state, unpublished(a, 2), now) // a stale, redelivered takedown
	if !state[a].live {
		t.Fatal("a takedown older than the online revision took it down")
	}
}
