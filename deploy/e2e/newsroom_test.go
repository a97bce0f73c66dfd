package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A scheduled article is not online before its time, publishes on time
// although ingest, moderation and render were all stopped over the moment it
// was due, and a takedown then takes it out of the home page, its category
// page and the feed, answering 410 at its address.
func TestScheduledArticleSurvivesRestartsAndTakedownLeavesLists(t *testing.T) {
	ctx := waitCtx(t, 4*time.Minute)
	ed := editor("hungyen")
	title := "Bài viết hẹn giờ " + time.Now().Format("150405.000")
	due := time.Now().Add(20 * time.Second).Truncate(time.Second)
	sub, err := ed.SubmitArticle(ctx, "hungyen", map[string]any{
		"category":     "tin-tuc-su-kien",
		"title":        title,
		"lead":         "Bài viết được hẹn giờ đăng và phải lên trang đúng giờ.",
		"body":         []map[string]any{{"type": "paragraph", "text": "Nội dung bài viết hẹn giờ, đăng sau khi các dịch vụ khởi động lại."}},
		"author":       "Ban Tuyên giáo",
		"tags":         []string{"hẹn giờ"},
		"scheduled_at": due.Format(time.RFC3339),
	}, "")
	if err != nil {
		t.Fatal(err)
	}

	// Approved, then held back by render until its time.
	waitStatus(t, ctx, "hungyen", sub.ID, "scheduled")
	if time.Now().After(due) {
		t.Fatal("the article became scheduled only after its time; the test needs a later time")
	}
	site := platform.URL("site") + "/hungyen/"
	if _, home := fetch(t, site); strings.Contains(string(home), title) {
		t.Fatal("a scheduled article is on the home page before its time")
	}

	// Every service that touches it is down when it falls due.
	for _, name := range []string{"render", "moderation", "ingest"} {
		platform.Service(name).Stop()
	}
	time.Sleep(time.Until(due) + 2*time.Second)
	for _, name := range []string{"ingest", "moderation", "render"} {
		if err := platform.Service(name).Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	deadline, cancel := context.WithDeadline(ctx, due.Add(time.Minute))
	defer cancel()
	st, err := ed.WaitPublished(deadline, "hungyen", sub.ID)
	if err != nil {
		t.Fatalf("not published within a minute of its time after the restarts: %v", err)
	}
	if resp, page := fetch(t, st.PublicURL); resp.StatusCode != http.StatusOK || !strings.Contains(string(page), title) {
		t.Fatalf("published page: %d, title found %v", resp.StatusCode, strings.Contains(string(page), title))
	}
	lists := []string{site, site + "tin-tuc-su-kien/", site + "rss.xml"}
	for _, u := range lists {
		if _, b := fetch(t, u); !strings.Contains(string(b), title) {
			t.Errorf("%s does not list the published article", u)
		}
	}

	// Takedown as 410 Gone.
	var out map[string]any
	if err := ed.Do(ctx, http.MethodPost, "/v1/tenants/hungyen/articles/"+sub.ID+"/unpublish", nil,
		map[string]string{"mode": "gone", "reason": "Đăng nhầm chuyên mục"}, &out); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ctx, "hungyen", sub.ID, "unpublished")
	for {
		resp, _ := fetch(t, st.PublicURL)
		if resp.StatusCode == http.StatusGone {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the article still answers %d after its takedown", resp.StatusCode)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, u := range lists {
		if _, b := fetch(t, u); strings.Contains(string(b), title) {
			t.Errorf("%s still lists the article after its takedown", u)
		}
	}
}

// waitStatus polls the article's status until it is want.
func waitStatus(t *testing.T, ctx context.Context, tenant, id, want string) {
	t.Helper()
	ed := editor(tenant)
	var last string
	for {
		st, err := ed.ArticleStatus(ctx, tenant, id)
		if err == nil {
			last = st.Status
			if st.Status == want {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("article %s: status %q, want %q (%v)", id, last, want, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
