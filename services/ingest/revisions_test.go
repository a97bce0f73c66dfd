package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/testkit"
)

// unlimited lifts the per-key rate limit, which these tests are not about.
func unlimited() map[string]string {
	return map[string]string{"INGEST_RATE_PER_MINUTE": "60000", "INGEST_RATE_BURST": "1000"}
}

// newArticle is a valid article body with the given title.
func newArticle(title string) map[string]any {
	return map[string]any{"category": "tin-tuc", "title": title, "author": "Nguyễn Văn A",
		"body": []map[string]string{{"type": "paragraph", "text": "Nội dung của " + title}}}
}

// revisionN reads revision rev's stored document.
func (s *stack) revisionN(t *testing.T, tenantID, id string, rev int64) *eventsv1.Article {
	t.Helper()
	b, err := s.blob.GetBytes(context.Background(), revisionKey(tenantID, id, rev), 1<<20)
	if err != nil {
		t.Fatalf("revision %d of %s: %v", rev, id, err)
	}
	var art eventsv1.Article
	if err := protojson.Unmarshal(b, &art); err != nil {
		t.Fatal(err)
	}
	return &art
}

func (s *stack) view(t *testing.T, tenantID, id, key string) articleView {
	t.Helper()
	var v articleView
	s.do(t, http.MethodGet, "/v1/tenants/"+tenantID+"/articles/"+id, key, nil).expect(t, http.StatusOK, &v)
	return v
}

// event publishes a moderation or render event about an article revision.
func (s *stack) event(t *testing.T, tenantID, id string, rev int64, kind string, at time.Time, extra ...string) {
	t.Helper()
	env := &eventsv1.Envelope{Id: fmt.Sprintf("%s.%s.%d.%s", tenantID, id, rev, kind), Tenant: tenantID, CorrelationId: id, OccurredAt: timestamppb.New(at)}
	switch kind {
	case "approved":
		art := s.revisionN(t, tenantID, id, rev)
		env.Type, env.Payload = bus.TypeArticleApproved, &eventsv1.Envelope_ArticleApproved{ArticleApproved: &eventsv1.ArticleApproved{Article: art}}
	case "published":
		env.Type, env.Payload = bus.TypeArticlePublished, &eventsv1.Envelope_ArticlePublished{ArticlePublished: &eventsv1.ArticlePublished{
			ArticleId: id, Revision: rev, Url: extra[0], Path: "/bai-viet/" + id + ".html"}}
	case "unpublished":
		env.Type, env.Payload = bus.TypeArticleUnpublished, &eventsv1.Envelope_ArticleUnpublished{ArticleUnpublished: &eventsv1.ArticleUnpublished{
			ArticleId: id, Revision: rev, Reason: extra[0]}}
	default:
		t.Fatalf("unknown event %s", kind)
	}
	s.publish(t, env)
	s.waitForStatusConsumer(t)
}

func TestArticleRevisions(t *testing.T) {
	s := startStack(t, map[string]string{"INGEST_MAX_BODY_BYTES": "65536", "INGEST_RATE_PER_MINUTE": "60000", "INGEST_RATE_BURST": "1000"})

	t.Run("draft is stored, not sent, until submitted", func(t *testing.T) {
		editor, _ := s.newTenant(t, "draft-a")
		body := newArticle("Bản nháp")
		body["status"] = "draft"
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/draft-a/articles", editor, body, "Idempotency-Key", "d1").expect(t, http.StatusCreated, &sub)
		// A retry with the same key answers the same draft, still unsent.
		var again submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/draft-a/articles", editor, body, "Idempotency-Key", "d1").expect(t, http.StatusCreated, &again)
		if again != sub {
			t.Errorf("retry answered %+v, want %+v", again, sub)
		}
		if n := s.messages(t, bus.StreamArticles, "article.submitted.draft-a"); n != 0 {
			t.Fatalf("a draft sent %d article.submitted", n)
		}
		r := s.do(t, http.MethodGet, "/v1/tenants/draft-a/articles/"+sub.ID, editor, nil)
		var v articleView
		r.expect(t, http.StatusOK, &v)
		if v.Status != "draft" || r.header.Get("ETag") != `"1"` || v.Article == nil || v.Article.Title != "Bản nháp" ||
			len(v.History) != 1 || v.History[0].Status != "draft" || !strings.Contains(v.History[0].By, "(editor)") {
			t.Errorf("draft view %+v, ETag %q", v, r.header.Get("ETag"))
		}
		// PUT as a draft keeps it a draft, unsent.
		body["base_revision"] = 1
		body["title"] = "Bản nháp sửa"
		var put submitResponse
		s.do(t, http.MethodPut, "/v1/tenants/draft-a/articles/"+sub.ID, editor, body).expect(t, http.StatusOK, &put)
		if put.Revision != 2 || s.messages(t, bus.StreamArticles, "article.submitted.draft-a") != 0 {
			t.Errorf("draft PUT %+v", put)
		}
		s.do(t, http.MethodPost, "/v1/tenants/draft-a/articles/"+sub.ID+"/submit", editor, map[string]int{"base_revision": 1}).problem(t, http.StatusConflict)
		s.do(t, http.MethodPost, "/v1/tenants/draft-a/articles/"+sub.ID+"/submit", editor, map[string]int{"base_revision": 2}).expect(t, http.StatusAccepted, &put)
		if n := s.messages(t, bus.StreamArticles, "article.submitted.draft-a"); n != 1 {
			t.Errorf("%d article.submitted after submit, want 1", n)
		}
		env := s.lastEnvelope(t, "article.submitted.draft-a")
		if a := env.GetArticleSubmitted().GetArticle(); a.GetRevision() != 2 || a.GetTitle() != "Bản nháp sửa" {
			t.Errorf("submitted %v", a)
		}
		if v := s.view(t, "draft-a", sub.ID, editor); v.Status != "submitted" || v.History[len(v.History)-1].Status != "submitted" {
			t.Errorf("after submit %+v", v)
		}
	})

	t.Run("stale PUT is 409 with the current revision", func(t *testing.T) {
		editor, _ := s.newTenant(t, "put-a")
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/put-a/articles", editor, newArticle("Bản 1")).expect(t, http.StatusAccepted, &sub)
		path := "/v1/tenants/put-a/articles/" + sub.ID
		b2 := newArticle("Bản 2")
		b2["base_revision"] = 1
		var put submitResponse
		s.do(t, http.MethodPut, path, editor, b2).expect(t, http.StatusAccepted, &put)
		if put.Revision != 2 {
			t.Fatalf("PUT made revision %d", put.Revision)
		}
		b3 := newArticle("Bản 3 cũ")
		b3["base_revision"] = 1
		var conflict conflictProblem
		s.do(t, http.MethodPut, path, editor, b3).expect(t, http.StatusConflict, &conflict)
		if conflict.CurrentRevision != 2 || conflict.Article == nil || conflict.Article.Title != "Bản 2" || conflict.Errors[0].Field != "base_revision" {
			t.Errorf("409 %+v", conflict)
		}
		// If-Match works instead of base_revision.
		delete(b3, "base_revision")
		s.do(t, http.MethodPut, path, editor, b3, "If-Match", `"1"`).problem(t, http.StatusConflict)
		s.do(t, http.MethodPut, path, editor, b3, "If-Match", `"2"`).expect(t, http.StatusAccepted, &put)
		if put.Revision != 3 || s.revisionN(t, "put-a", sub.ID, 3).GetTitle() != "Bản 3 cũ" {
			t.Errorf("If-Match PUT %+v", put)
		}
		// Neither → 422 naming base_revision.
		if !hasField(s.do(t, http.MethodPut, path, editor, b3).problem(t, http.StatusUnprocessableEntity), "base_revision") {
			t.Error("a PUT without a base does not name base_revision")
		}
		if n := s.messages(t, bus.StreamArticles, "article.submitted.put-a"); n != 3 {
			t.Errorf("%d article.submitted, want 3", n)
		}
		// Over the body limit → 413 naming it.
		big := newArticle(strings.Repeat("x", 70000))
		big["base_revision"] = 3
		p := s.do(t, http.MethodPut, path, editor, big).problem(t, http.StatusRequestEntityTooLarge)
		if f, ok := field(p, "body"); !ok || fmt.Sprint(f.Limit) != "65536" {
			t.Errorf("413 %+v", p)
		}
	})

	t.Run("GET's content goes back as a PUT, also of an import", func(t *testing.T) {
		editor, admin := s.newTenant(t, "trip-a")
		imp := newArticle("Bài cũ nhập về")
		imp["published_at"], imp["initial_views"] = "2019-04-24T15:55:40+07:00", 696
		imp["source"] = map[string]string{"name": "baonamdinh.vn", "url": "https://baonamdinh.vn/a"}
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/trip-a/articles", admin, imp).expect(t, http.StatusAccepted, &sub)
		var v struct {
			Article map[string]any `json:"article"`
		}
		s.do(t, http.MethodGet, "/v1/tenants/trip-a/articles/"+sub.ID, editor, nil).expect(t, http.StatusOK, &v)
		v.Article["title"], v.Article["base_revision"] = "Bài cũ, sửa lỗi chính tả", 1
		s.do(t, http.MethodPut, "/v1/tenants/trip-a/articles/"+sub.ID, editor, v.Article).expect(t, http.StatusAccepted, nil)
		got := s.revisionN(t, "trip-a", sub.ID, 2)
		if got.GetTitle() != "Bài cũ, sửa lỗi chính tả" || got.GetInitialViews() != 696 || got.GetSource().GetUrl() != "https://baonamdinh.vn/a" ||
			!got.GetPublishedAt().AsTime().Equal(time.Date(2019, 4, 24, 8, 55, 40, 0, time.UTC)) {
			t.Errorf("revision 2 %v", got)
		}
		// Changing the import fields is still an admin's job.
		v.Article["initial_views"], v.Article["base_revision"] = 1000, 2
		s.do(t, http.MethodPut, "/v1/tenants/trip-a/articles/"+sub.ID, editor, v.Article).problem(t, http.StatusForbidden)
	})

	t.Run("concurrent PUTs of the same base: exactly one wins", func(t *testing.T) {
		editor, _ := s.newTenant(t, "race-a")
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/race-a/articles", editor, newArticle("Gốc")).expect(t, http.StatusAccepted, &sub)
		for round := int64(1); round <= 3; round++ {
			const n = 6
			codes := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					b := newArticle(fmt.Sprintf("Vòng %d người %d", round, i))
					b["base_revision"] = round
					codes[i] = s.do(t, http.MethodPut, "/v1/tenants/race-a/articles/"+sub.ID, editor, b).code
				}()
			}
			wg.Wait()
			winner := -1
			for i, c := range codes {
				switch c {
				case http.StatusAccepted:
					if winner >= 0 {
						t.Fatalf("round %d: two PUTs of base %d won: %v", round, round, codes)
					}
					winner = i
				case http.StatusConflict:
				default:
					t.Fatalf("round %d: codes %v", round, codes)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: no PUT won: %v", round, codes)
			}
			// The stored document is the winner's, not overwritten by a loser.
			want := fmt.Sprintf("Vòng %d người %d", round, winner)
			if got := s.revisionN(t, "race-a", sub.ID, round+1).GetTitle(); got != want {
				t.Errorf("round %d: revision %d is %q, want the winner's %q", round, round+1, got, want)
			}
			if v := s.view(t, "race-a", sub.ID, editor); v.Revision != round+1 || v.Title != want {
				t.Errorf("round %d: status %+v", round, v)
			}
		}
	})

	t.Run("every route about an article answers 404 naming an unknown one", func(t *testing.T) {
		editor, _ := s.newTenant(t, "none-a")
		path := "/v1/tenants/none-a/articles/0123456789abcdef"
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, path, nil},
			{http.MethodGet, path + "/revisions", nil},
			{http.MethodGet, path + "/revisions/1", nil},
			{http.MethodPost, path + "/submit", map[string]int{"base_revision": 1}},
			{http.MethodPost, path + "/unpublish", map[string]string{"mode": "gone", "reason": "Sai sự thật"}},
		} {
			p := s.do(t, c.method, c.path, editor, c.body).problem(t, http.StatusNotFound)
			if !strings.Contains(p.Detail, "0123456789abcdef") || !strings.Contains(p.Detail, "none-a") {
				t.Errorf("%s %s: detail %q does not name the article and tenant", c.method, c.path, p.Detail)
			}
		}
	})

	t.Run("revisions and revert", func(t *testing.T) {
		editor, _ := s.newTenant(t, "rev-a")
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/rev-a/articles", editor, newArticle("Một")).expect(t, http.StatusAccepted, &sub)
		path := "/v1/tenants/rev-a/articles/" + sub.ID
		for i, title := range []string{"Hai", "Ba"} {
			b := newArticle(title)
			b["base_revision"] = i + 1
			s.do(t, http.MethodPut, path, editor, b).expect(t, http.StatusAccepted, nil)
		}
		var revs []revisionEntry
		s.do(t, http.MethodGet, path+"/revisions", editor, nil).expect(t, http.StatusOK, &revs)
		var titles []string
		for _, r := range revs {
			titles = append(titles, fmt.Sprintf("%d %s", r.Revision, r.Title))
			if r.By == "" || r.At.IsZero() {
				t.Errorf("revision entry %+v lacks who or when", r)
			}
		}
		if !slices.Equal(titles, []string{"1 Một", "2 Hai", "3 Ba"}) {
			t.Errorf("revisions %v", titles)
		}
		var one articleContent
		s.do(t, http.MethodGet, path+"/revisions/1", editor, nil).expect(t, http.StatusOK, &one)
		if one.Title != "Một" || one.Revision != 1 || len(one.Body) != 1 || one.Body[0].Text != "Nội dung của Một" {
			t.Errorf("revision 1 %+v", one)
		}
		s.do(t, http.MethodGet, path+"/revisions/4", editor, nil).problem(t, http.StatusNotFound)

		s.do(t, http.MethodPost, path+"/revert", editor, map[string]int{"revision": 1, "base_revision": 2}).problem(t, http.StatusConflict)
		if !hasField(s.do(t, http.MethodPost, path+"/revert", editor, map[string]int{"revision": 3, "base_revision": 3}).problem(t, http.StatusUnprocessableEntity), "revision") {
			t.Error("revert to the current revision is not refused naming revision")
		}
		var rv submitResponse
		s.do(t, http.MethodPost, path+"/revert", editor, map[string]int{"revision": 1, "base_revision": 3}).expect(t, http.StatusAccepted, &rv)
		if rv.Revision != 4 {
			t.Fatalf("revert made revision %d", rv.Revision)
		}
		got := s.revisionN(t, "rev-a", sub.ID, 4)
		if got.GetTitle() != "Một" || got.GetRevision() != 4 || !proto.Equal(got.GetBody()[0], s.revisionN(t, "rev-a", sub.ID, 1).GetBody()[0]) {
			t.Errorf("reverted revision %v", got)
		}
		if a := s.lastEnvelope(t, "article.submitted.rev-a").GetArticleSubmitted().GetArticle(); a.GetRevision() != 4 || a.GetTitle() != "Một" {
			t.Errorf("revert announced %v", a)
		}
		if v := s.view(t, "rev-a", sub.ID, editor); v.Revision != 4 || v.Title != "Một" || v.Article.Title != "Một" {
			t.Errorf("after revert %+v", v)
		}
	})

	t.Run("tags, schedule and limits", func(t *testing.T) {
		editor, _ := s.newTenant(t, "sched-a")
		loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
		when := time.Now().In(loc).Add(48 * time.Hour).Truncate(time.Minute)
		body := newArticle("Hẹn giờ")
		body["tags"] = []string{" Chuyển đổi số ", "chuyển đổi số", "Đảng bộ Khối", ""}
		body["scheduled_at"] = when.Format("2006-01-02T15:04")
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/sched-a/articles", editor, body).expect(t, http.StatusAccepted, &sub)
		art := s.revisionN(t, "sched-a", sub.ID, 1)
		if !slices.Equal(art.GetTags(), []string{"Chuyển đổi số", "Đảng bộ Khối"}) || !art.GetScheduledAt().AsTime().Equal(when) {
			t.Errorf("tags %q, scheduled_at %v, want %v", art.GetTags(), art.GetScheduledAt().AsTime(), when)
		}

		// Approved with a future schedule → scheduled, then published.
		s.event(t, "sched-a", sub.ID, 1, "approved", time.Now())
		v := s.view(t, "sched-a", sub.ID, editor)
		if v.Status != "scheduled" || v.ScheduledAt == nil || !v.ScheduledAt.Equal(when) {
			t.Errorf("after approval %+v", v)
		}
		s.event(t, "sched-a", sub.ID, 1, "published", time.Now().Add(time.Second), "http://site.test/sched-a/bai-viet/x.html")
		if v := s.view(t, "sched-a", sub.ID, editor); v.Status != "published" || v.ScheduledAt != nil {
			t.Errorf("after publication %+v", v)
		}

		// A zone moves a local time; RFC 3339 passes through.
		z := newArticle("Giờ Paris")
		z["scheduled_at"], z["time_zone"] = when.Format("2006-01-02T15:04"), "Europe/Paris"
		s.do(t, http.MethodPost, "/v1/tenants/sched-a/articles", editor, z).expect(t, http.StatusAccepted, &sub)
		paris, _ := time.LoadLocation("Europe/Paris")
		wantParis, _ := time.ParseInLocation("2006-01-02T15:04", when.Format("2006-01-02T15:04"), paris)
		if got := s.revisionN(t, "sched-a", sub.ID, 1).GetScheduledAt().AsTime(); !got.Equal(wantParis) {
			t.Errorf("Paris schedule %v, want %v", got, wantParis)
		}

		bad := newArticle("Sai")
		bad["scheduled_at"] = time.Now().Add(-time.Hour).Format(time.RFC3339)
		bad["time_zone"] = "Mars/Olympus"
		tags := make([]string, 21)
		for i := range tags {
			tags[i] = fmt.Sprintf("thẻ %d", i)
		}
		tags[3] = strings.Repeat("đ", 61)
		bad["tags"] = tags
		bad["status"] = "published"
		p := s.do(t, http.MethodPost, "/v1/tenants/sched-a/articles", editor, bad).problem(t, http.StatusUnprocessableEntity)
		if f, ok := field(p, "tags"); !ok || fmt.Sprint(f.Limit) != "20" {
			t.Errorf("tags count: %+v", p.Errors)
		}
		if f, ok := field(p, "tags[3]"); !ok || fmt.Sprint(f.Limit) != "60" {
			t.Errorf("tag length: %+v", p.Errors)
		}
		if !hasField(p, "time_zone") || !hasField(p, "status") {
			t.Errorf("zone/status: %+v", p.Errors)
		}
		delete(bad, "time_zone")
		if !hasField(s.do(t, http.MethodPost, "/v1/tenants/sched-a/articles", editor, bad).problem(t, http.StatusUnprocessableEntity), "scheduled_at") {
			t.Error("a past schedule is not refused naming scheduled_at")
		}
	})

	t.Run("older revision events do not regress the status", func(t *testing.T) {
		editor, _ := s.newTenant(t, "old-a")
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/old-a/articles", editor, newArticle("Bản đầu")).expect(t, http.StatusAccepted, &sub)
		t0 := time.Now()
		url1 := "http://site.test/old-a/bai-viet/ban-dau.html"
		s.event(t, "old-a", sub.ID, 1, "approved", t0)
		s.event(t, "old-a", sub.ID, 1, "published", t0.Add(time.Second), url1)

		b := newArticle("Bản sửa")
		b["base_revision"] = 1
		s.do(t, http.MethodPut, "/v1/tenants/old-a/articles/"+sub.ID, editor, b).expect(t, http.StatusAccepted, nil)
		v := s.view(t, "old-a", sub.ID, editor)
		if v.Status != "submitted" || v.Revision != 2 || v.PublicURL != url1 || v.OnlineRevision != 1 {
			t.Errorf("the edit of a published article: %+v", v)
		}
		// A redelivered approval of revision 1, later than the edit, does
		// not make revision 2 approved; it is kept in the history.
		s.publish(t, &eventsv1.Envelope{Id: "old-a." + sub.ID + ".1.approved.late", Type: bus.TypeArticleApproved, Tenant: "old-a",
			CorrelationId: sub.ID, OccurredAt: timestamppb.New(time.Now().Add(time.Minute)),
			Payload: &eventsv1.Envelope_ArticleApproved{ArticleApproved: &eventsv1.ArticleApproved{Article: s.revisionN(t, "old-a", sub.ID, 1)}}})
		s.waitForStatusConsumer(t)
		v = s.view(t, "old-a", sub.ID, editor)
		if v.Status != "submitted" || v.Revision != 2 || v.PublicURL != url1 {
			t.Errorf("a late approval of revision 1 changed revision 2: %+v", v)
		}
		if h := v.History[len(v.History)-1]; h.Status != "approved" || h.Revision != 1 {
			t.Errorf("the late approval is not in the history: %+v", v.History)
		}

		url2 := "http://site.test/old-a/bai-viet/ban-sua.html"
		s.event(t, "old-a", sub.ID, 2, "approved", time.Now().Add(2*time.Minute))
		s.event(t, "old-a", sub.ID, 2, "published", time.Now().Add(3*time.Minute), url2)
		// A late publication of revision 1 does not bring back its URL.
		s.publish(t, &eventsv1.Envelope{Id: "old-a." + sub.ID + ".1.published.late", Type: bus.TypeArticlePublished, Tenant: "old-a",
			CorrelationId: sub.ID, OccurredAt: timestamppb.New(time.Now().Add(4 * time.Minute)),
			Payload: &eventsv1.Envelope_ArticlePublished{ArticlePublished: &eventsv1.ArticlePublished{ArticleId: sub.ID, Revision: 1, Url: url1}}})
		s.waitForStatusConsumer(t)
		if v := s.view(t, "old-a", sub.ID, editor); v.Status != "published" || v.Revision != 2 || v.PublicURL != url2 || v.OnlineRevision != 2 {
			t.Errorf("after revision 2 was published and a late revision-1 event: %+v", v)
		}
	})

	if n := s.messages(t, bus.StreamDeadLetter, ">"); n != 0 {
		t.Errorf("%d dead letters", n)
	}
}

func TestArticleTakedown(t *testing.T) {
	s := startStack(t, unlimited())
	editor, _ := s.newTenant(t, "gone-a")
	publish := func(title string) (string, string) {
		t.Helper()
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles", editor, newArticle(title)).expect(t, http.StatusAccepted, &sub)
		u := "http://site.test/gone-a/bai-viet/" + sub.ID + ".html"
		s.event(t, "gone-a", sub.ID, 1, "approved", time.Now())
		s.event(t, "gone-a", sub.ID, 1, "published", time.Now(), u)
		return sub.ID, u
	}
	target, targetURL := publish("Bài đích")

	for _, tc := range []struct {
		req        map[string]string
		wantReason string
	}{
		{map[string]string{"mode": "gone", "reason": "Sai sự thật"}, "gone: Sai sự thật"},
		{map[string]string{"mode": "notice", "reason": "Theo yêu cầu của tác giả"}, "notice: Theo yêu cầu của tác giả"},
		{map[string]string{"mode": "redirect", "reason": "Đã có bài mới", "redirect_to": target}, "redirect " + targetURL + ": Đã có bài mới"},
		{map[string]string{"mode": "redirect", "reason": "Chuyển trang", "redirect_to": "https://dangbo.vn/bai?id=1"}, "redirect https://dangbo.vn/bai?id=1: Chuyển trang"},
	} {
		id, _ := publish("Bài gỡ " + tc.req["mode"])
		var resp unpublishResponse
		s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles/"+id+"/unpublish", editor, tc.req).expect(t, http.StatusAccepted, &resp)
		env := s.lastEnvelope(t, "article.unpublished.gone-a")
		u := env.GetArticleUnpublished()
		if u.GetArticleId() != id || u.GetRevision() != 1 || u.GetReason() != tc.wantReason || env.GetId() != resp.Event ||
			!strings.HasPrefix(env.GetId(), "gone-a."+id+".1.unpublished.") {
			t.Errorf("%s: event %v (id %s), want reason %q", tc.req["mode"], u, env.GetId(), tc.wantReason)
		}
		s.waitForStatusConsumer(t)
		v := s.view(t, "gone-a", id, editor)
		h := v.History[len(v.History)-1]
		if v.Status != "unpublished" || v.PublicURL != "" || h.Status != "unpublished" || h.Mode != tc.req["mode"] ||
			h.Reason != tc.wantReason || !strings.Contains(h.By, "(editor)") {
			t.Errorf("%s: status %+v", tc.req["mode"], v)
		}
		// Taken down already: 409.
		s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles/"+id+"/unpublish", editor, tc.req).problem(t, http.StatusConflict)
	}

	// Published again and taken down again: a second event, not deduplicated.
	id, u := publish("Bài gỡ hai lần")
	s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles/"+id+"/unpublish", editor, map[string]string{"mode": "gone", "reason": "lần 1"}).expect(t, http.StatusAccepted, nil)
	s.waitForStatusConsumer(t)
	// Edited after the takedown, approved and published as revision 2.
	edit := newArticle("Bài gỡ hai lần, đã sửa")
	edit["base_revision"] = 1
	s.do(t, http.MethodPut, "/v1/tenants/gone-a/articles/"+id, editor, edit).expect(t, http.StatusAccepted, nil)
	s.event(t, "gone-a", id, 2, "approved", time.Now())
	s.event(t, "gone-a", id, 2, "published", time.Now(), u)
	if v := s.view(t, "gone-a", id, editor); v.Status != "published" {
		t.Fatalf("republished: %+v", v)
	}
	s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles/"+id+"/unpublish", editor, map[string]string{"mode": "gone", "reason": "lần 2"}).expect(t, http.StatusAccepted, nil)
	if n := countSubject(t, s, "article.unpublished.gone-a", id); n != 2 {
		t.Errorf("%d takedown events for one article taken down twice, want 2", n)
	}

	// Taken down while revision 2 is in moderation: the event carries
	// revision 2, so that render refuses a late approval of it; the status
	// says unpublished and nothing is online.
	pend, _ := publish("Bài gỡ khi đang sửa")
	pendEdit := newArticle("Bài gỡ khi đang sửa, bản 2")
	pendEdit["base_revision"] = 1
	s.do(t, http.MethodPut, "/v1/tenants/gone-a/articles/"+pend, editor, pendEdit).expect(t, http.StatusAccepted, nil)
	var pendResp unpublishResponse
	s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles/"+pend+"/unpublish", editor,
		map[string]string{"mode": "gone", "reason": "Gỡ khi đang duyệt bản sửa"}).expect(t, http.StatusAccepted, &pendResp)
	if env := s.lastEnvelope(t, "article.unpublished.gone-a"); env.GetArticleUnpublished().GetArticleId() != pend ||
		env.GetArticleUnpublished().GetRevision() != 2 || pendResp.Revision != 2 || !strings.HasPrefix(env.GetId(), "gone-a."+pend+".2.unpublished.") {
		t.Errorf("takedown with revision 2 in moderation sent %v (id %s), answered revision %d; want revision 2", env.GetArticleUnpublished(), env.GetId(), pendResp.Revision)
	}
	s.waitForStatusConsumer(t)
	if v := s.view(t, "gone-a", pend, editor); v.Status != "unpublished" || v.Revision != 2 || v.PublicURL != "" || v.OnlineRevision != 0 ||
		v.History[len(v.History)-1].Revision != 2 {
		t.Errorf("taken down with revision 2 in moderation: %+v", v)
	}

	// A scheduled article is cancelled the same way.
	sched := newArticle("Bài hẹn giờ")
	sched["scheduled_at"] = time.Now().Add(72 * time.Hour).Format(time.RFC3339)
	var sc submitResponse
	s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles", editor, sched).expect(t, http.StatusAccepted, &sc)
	s.event(t, "gone-a", sc.ID, 1, "approved", time.Now())
	if v := s.view(t, "gone-a", sc.ID, editor); v.Status != "scheduled" {
		t.Fatalf("not scheduled: %+v", v)
	}
	s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles/"+sc.ID+"/unpublish", editor, map[string]string{"mode": "notice", "reason": "Hoãn đăng"}).expect(t, http.StatusAccepted, nil)
	if u := s.lastEnvelope(t, "article.unpublished.gone-a").GetArticleUnpublished(); u.GetArticleId() != sc.ID || u.GetReason() != "notice: Hoãn đăng" {
		t.Errorf("cancelling a schedule sent %v", u)
	}
	s.waitForStatusConsumer(t)
	if v := s.view(t, "gone-a", sc.ID, editor); v.Status != "unpublished" || v.ScheduledAt != nil {
		t.Errorf("cancelled schedule: %+v", v)
	}

	// Only published or scheduled articles; bad requests name the field.
	var draft submitResponse
	s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles", editor, newArticle("Chưa đăng")).expect(t, http.StatusAccepted, &draft)
	s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles/"+draft.ID+"/unpublish", editor, map[string]string{"mode": "gone", "reason": "x"}).problem(t, http.StatusConflict)
	for fieldName, req := range map[string]map[string]string{
		"mode":        {"mode": "hide", "reason": "x"},
		"reason":      {"mode": "gone", "reason": strings.Repeat("ư", 1001)},
		"redirect_to": {"mode": "redirect", "reason": "x", "redirect_to": "javascript:alert(1)"},
	} {
		p := s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles/"+target+"/unpublish", editor, req).problem(t, http.StatusUnprocessableEntity)
		if !hasField(p, fieldName) {
			t.Errorf("%v: %+v does not name %s", req, p.Errors, fieldName)
		}
	}
	if f, _ := field(s.do(t, http.MethodPost, "/v1/tenants/gone-a/articles/"+target+"/unpublish", editor,
		map[string]string{"mode": "gone", "reason": strings.Repeat("ư", 1001)}).problem(t, http.StatusUnprocessableEntity), "reason"); fmt.Sprint(f.Limit) != "1000" {
		t.Errorf("reason limit %v", f.Limit)
	}
	if n := s.messages(t, bus.StreamDeadLetter, ">"); n != 0 {
		t.Errorf("%d dead letters", n)
	}
}

func TestArticleListAndMultipart(t *testing.T) {
	s := startStack(t, unlimited())
	editor, _ := s.newTenant(t, "list-a")

	t.Run("list filters and paging", func(t *testing.T) {
		made := map[string]string{}
		for _, a := range []struct{ title, category, author, status string }{
			{"Hội nghị Ban Chấp hành Đảng bộ Khối", "xay-dung-dang", "Lam Hồng", ""},
			{"ĐẢNG BỘ KHỐI tổng kết năm", "tin-tuc", "Trần Thị B", ""},
			{"Chuyển đổi số trong doanh nghiệp", "tin-tuc", "Lam Hồng", "draft"},
			{"Đoàn thanh niên ra quân", "tin-tuc", "Nguyễn Văn A", ""},
			{"Học tập và làm theo tư tưởng", "xay-dung-dang", "Nguyễn Văn A", "draft"},
		} {
			b := newArticle(a.title)
			b["category"], b["author"] = a.category, a.author
			code := http.StatusAccepted
			if a.status != "" {
				b["status"], code = a.status, http.StatusCreated
			}
			var sub submitResponse
			s.do(t, http.MethodPost, "/v1/tenants/list-a/articles", editor, b).expect(t, code, &sub)
			made[sub.ID] = a.title
			time.Sleep(2 * time.Millisecond) // distinct change times
		}
		list := func(query string) listResponse {
			t.Helper()
			var l listResponse
			s.do(t, http.MethodGet, "/v1/tenants/list-a/articles?"+query, editor, nil).expect(t, http.StatusOK, &l)
			return l
		}
		titles := func(l listResponse) []string {
			var out []string
			for _, it := range l.Items {
				out = append(out, it.Title)
			}
			return out
		}
		for query, want := range map[string][]string{
			"q=" + url.QueryEscape("dang bo"):                             {"ĐẢNG BỘ KHỐI tổng kết năm", "Hội nghị Ban Chấp hành Đảng bộ Khối"},
			"q=" + url.QueryEscape("ĐẢNG BỘ"):                             {"ĐẢNG BỘ KHỐI tổng kết năm", "Hội nghị Ban Chấp hành Đảng bộ Khối"},
			"q=" + url.QueryEscape("doan thanh"):                          {"Đoàn thanh niên ra quân"},
			"q=" + url.QueryEscape("chuyen doi"):                          {"Chuyển đổi số trong doanh nghiệp"},
			"status=draft":                                                {"Học tập và làm theo tư tưởng", "Chuyển đổi số trong doanh nghiệp"},
			"category=xay-dung-dang":                                      {"Học tập và làm theo tư tưởng", "Hội nghị Ban Chấp hành Đảng bộ Khối"},
			"author=" + url.QueryEscape("lam hong") + "&status=submitted": {"Hội nghị Ban Chấp hành Đảng bộ Khối"},
			"q=khong+co": nil,
		} {
			if got := titles(list(query)); !slices.Equal(got, want) {
				t.Errorf("%s: %q, want %q", query, got, want)
			}
		}
		// Paging by 2 visits every article once, newest change first.
		var all []string
		cursor := ""
		for pages := 0; ; pages++ {
			l := list("limit=2&cursor=" + url.QueryEscape(cursor))
			if len(l.Items) > 2 || pages > 5 {
				t.Fatalf("page %d: %d items", pages, len(l.Items))
			}
			all = append(all, titles(l)...)
			if cursor = l.NextCursor; cursor == "" {
				break
			}
		}
		whole := list("limit=100")
		full := titles(whole)
		if len(full) != len(made) || !slices.Equal(all, full) || full[0] != "Học tập và làm theo tư tưởng" {
			t.Errorf("paged %q, whole %q", all, full)
		}
		// Each item carries its history, as GET one has it.
		for _, it := range whole.Items {
			if n := len(it.History); n == 0 || it.History[n-1].Status != it.Status || it.History[n-1].Revision != 1 || it.History[n-1].At.IsZero() {
				t.Errorf("%s (%s): history %+v", it.Title, it.Status, it.History)
			}
		}
		for query, f := range map[string]string{"limit=0": "limit", "limit=101": "limit", "cursor=abc": "cursor", "status=online": "status"} {
			if !hasField(s.do(t, http.MethodGet, "/v1/tenants/list-a/articles?"+query, editor, nil).problem(t, http.StatusUnprocessableEntity), f) {
				t.Errorf("%s is not refused naming %s", query, f)
			}
		}
	})

	t.Run("multipart create with a real photo", func(t *testing.T) {
		photo := testkit.Photo(t, "photo2.jpg")
		sum := sha256.Sum256(photo)
		mediaID := hex.EncodeToString(sum[:])
		form := func(article map[string]any, parts map[string][]byte) (*bytes.Buffer, string) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for name, b := range parts { // photos first: the order must not matter
				w, err := mw.CreateFormFile(name, name+".jpg")
				if err != nil {
					t.Fatal(err)
				}
				_, _ = w.Write(b)
			}
			j, _ := json.Marshal(article)
			if err := mw.WriteField("article", string(j)); err != nil {
				t.Fatal(err)
			}
			_ = mw.Close()
			return &buf, mw.FormDataContentType()
		}
		a := newArticle("Bài có ảnh")
		a["body"] = []map[string]string{
			{"type": "paragraph", "text": "Đoạn một"},
			{"type": "image", "media": "file:anh1", "caption": "Toàn cảnh hội nghị", "credit": "Lam Hồng"},
		}
		body, ct := form(a, map[string][]byte{"anh1": photo})
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/list-a/articles", editor, body, "Content-Type", ct, "Idempotency-Key", "mp1").expect(t, http.StatusAccepted, &sub)
		art := s.revisionN(t, "list-a", sub.ID, 1)
		if im := art.GetBody()[1].GetImage(); im.GetMediaId() != mediaID || im.GetCaption() != "Toàn cảnh hội nghị" {
			t.Errorf("image block %v, want media %s", im, mediaID)
		}
		info, err := s.blob.Stat(context.Background(), originalKey("list-a", mediaID))
		if err != nil || info.Size != int64(len(photo)) {
			t.Errorf("stored photo %+v, %v", info, err)
		}
		if n := s.messages(t, bus.StreamMedia, "media.uploaded.list-a"); n != 1 {
			t.Errorf("%d media.uploaded, want 1", n)
		}
		if v := s.view(t, "list-a", sub.ID, editor); len(v.Media) != 1 || v.Media[0].ID != mediaID {
			t.Errorf("view media %+v", v.Media)
		}

		// A reference to a missing part, or a part that is not a photo.
		a["body"] = []map[string]string{{"type": "image", "media": "file:khong-co"}}
		body, ct = form(a, map[string][]byte{"anh1": photo})
		if !hasField(s.do(t, http.MethodPost, "/v1/tenants/list-a/articles", editor, body, "Content-Type", ct).problem(t, http.StatusUnprocessableEntity), "body[0].media") {
			t.Error("a missing part is not named")
		}
		a["body"] = []map[string]string{{"type": "image", "media": "file:tep"}}
		body, ct = form(a, map[string][]byte{"tep": []byte("không phải ảnh")})
		if !hasField(s.do(t, http.MethodPost, "/v1/tenants/list-a/articles", editor, body, "Content-Type", ct).problem(t, http.StatusUnsupportedMediaType), "tep") {
			t.Error("a part that is not a photo is not named")
		}
	})
}

// lastEnvelope decodes the newest event on subject.
func (s *stack) lastEnvelope(t *testing.T, subject string) *eventsv1.Envelope {
	t.Helper()
	m := s.lastMessage(t, bus.StreamArticles, subject)
	var env eventsv1.Envelope
	if err := proto.Unmarshal(m.Data, &env); err != nil {
		t.Fatal(err)
	}
	return &env
}

// countSubject counts the events on subject about one article.
func countSubject(t *testing.T, s *stack, subject, articleID string) int {
	t.Helper()
	st, err := s.js.Stream(context.Background(), bus.StreamArticles)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for seq := uint64(1); ; seq++ {
		m, err := st.GetMsg(context.Background(), seq)
		if err != nil {
			break
		}
		if m.Subject != subject {
			continue
		}
		var env eventsv1.Envelope
		if proto.Unmarshal(m.Data, &env) == nil && env.GetCorrelationId() == articleID {
			n++
		}
	}
	return n
}
