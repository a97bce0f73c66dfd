package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
)

func TestReviewDeskAPI(t *testing.T) {
	tn := newTenant("hung-yen")
	tn.Moderation = &tenant.Moderation{Policy: tenant.PolicyReview, Blocklist: []tenant.BlockedTerm{{Term: "phản động"}}}
	h := start(t, tn, newTenant("nam-dinh"))
	reviewer := h.key(t, "hung-yen", apikey.RoleReviewer)
	second := h.key(t, "hung-yen", apikey.RoleReviewer)
	editor := h.key(t, "hung-yen", apikey.RoleEditor)
	stranger := h.key(t, "nam-dinh", apikey.RoleReviewer)

	first := cleanArticle(t, "c000000000000001", 1)
	first.Lead = "Cảnh giác với luận điệu phan dong trên mạng."
	h.reasons(t, "hung-yen", submitted(t, h, "hung-yen", first), bus.TypeArticleHeld)
	later := cleanArticle(t, "c000000000000002", 1)
	h.reasons(t, "hung-yen", submitted(t, h, "hung-yen", later), bus.TypeArticleHeld)

	type queue struct {
		Tenant   string
		Articles []queueItem
	}
	var q queue
	for _, c := range []struct {
		key  string
		code int
	}{{"", 401}, {"bp_nope", 401}, {editor, 403}, {stranger, 403}, {reviewer, 200}} {
		if code := h.api(t, "GET", "/v1/tenants/hung-yen/review/queue", c.key, nil, &q); code != c.code {
			t.Errorf("queue with key %.8q: %d, want %d", c.key, code, c.code)
		}
	}
	if code := h.api(t, "GET", "/v1/tenants/hung.yen/review/queue", reviewer, nil, nil); code != 400 {
		t.Errorf("bad tenant id: %d", code)
	}
	ids := func(q queue) []string {
		var out []string
		for _, a := range q.Articles {
			out = append(out, a.Article)
		}
		return out
	}
	if got := ids(q); !slices.Equal(got, []string{"c000000000000001", "c000000000000002"}) || q.Articles[0].Findings["hold"] != 1 {
		t.Fatalf("queue %+v, want the two held articles oldest first", q)
	}

	var art verdictView
	if code := h.api(t, "GET", "/v1/tenants/hung-yen/review/articles/c000000000000001", reviewer, nil, &art); code != 200 {
		t.Fatalf("article: %d", code)
	}
	f := art.Verdict.Findings[0]
	lead := art.Fields[slices.IndexFunc(art.Fields, func(f fieldText) bool { return f.Field == "lead" })].Text
	if f.Rule != ruleBlocklistFold || f.Field != "lead" || string([]rune(lead)[f.Start:f.End]) != "phan dong" || art.Verdict.Policy != "review" {
		t.Errorf("article view %+v", art)
	}
	if len(art.Audit) != 1 || art.Audit[0].Actor != actorAuto || art.Audit[0].Decision != "hold" {
		t.Errorf("audit %+v", art.Audit)
	}

	// A restart keeps the queue: it is in NATS, not in memory.
	h.restart(t)
	if h.api(t, "GET", "/v1/tenants/hung-yen/review/queue", reviewer, nil, &q); len(q.Articles) != 2 {
		t.Fatalf("queue after restart: %+v", q)
	}

	decide := func(key, id string, body map[string]any) int {
		return h.api(t, "POST", "/v1/tenants/hung-yen/review/articles/"+id+"/decision", key, body, nil)
	}
	if code := decide(reviewer, "c000000000000001", map[string]any{"decision": "reject"}); code != 422 {
		t.Errorf("rejection without a note: %d", code)
	}
	if code := decide(reviewer, "c000000000000001", map[string]any{"decision": "publish"}); code != 422 {
		t.Errorf("unknown decision: %d", code)
	}
	if code := decide(reviewer, "c000000000000001", map[string]any{"decision": "approve", "revision": 2}); code != 409 {
		t.Errorf("decision on another revision: %d", code)
	}
	if code := decide(editor, "c000000000000001", map[string]any{"decision": "approve"}); code != 403 {
		t.Errorf("decision with an editor key: %d", code)
	}
	if code := decide(reviewer, "c000000000000001", map[string]any{"decision": "approve", "note": "Đã xác minh: trích dẫn để phản bác.", "revision": 1}); code != 200 {
		t.Fatalf("approval: %d", code)
	}
	approved := h.approved(t, "hung-yen", first)
	if !containsAll(approved.GetNotes(), "Người duyệt khóa "+apikey.ID(reviewer), "Đã xác minh") {
		t.Errorf("notes %q", approved.GetNotes())
	}
	if code := decide(second, "c000000000000001", map[string]any{"decision": "reject", "note": "muộn"}); code != 409 {
		t.Errorf("a second decision: %d", code)
	}

	// Two reviewers decide at once: one wins.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, d := range []map[string]any{{"decision": "approve"}, {"decision": "reject", "note": "Trùng lặp nội dung"}} {
		key := []string{reviewer, second}[i]
		wg.Go(func() { codes[i] = decide(key, "c000000000000002", d) })
	}
	wg.Wait()
	slices.Sort(codes)
	if !slices.Equal(codes, []int{200, 409}) {
		t.Errorf("concurrent decisions answered %v, want one 200 and one 409", codes)
	}
	outcomes := h.events(t, "hung-yen", later, bus.TypeArticleApproved, bus.TypeArticleRejected)
	if len(outcomes) != 1 {
		t.Errorf("%d outcomes published for one decision", len(outcomes))
	}
	if h.api(t, "GET", "/v1/tenants/hung-yen/review/queue", reviewer, nil, &q); len(q.Articles) != 0 {
		t.Errorf("queue after the decisions: %+v", q)
	}

	// The audit trail, per article and per reviewer.
	var list struct{ Entries []auditEntry }
	if code := h.api(t, "GET", "/v1/tenants/hung-yen/review/audit?article=c000000000000001", reviewer, nil, &list); code != 200 {
		t.Fatalf("audit: %d", code)
	}
	if len(list.Entries) != 2 || list.Entries[0].Actor != apikey.ID(reviewer) || list.Entries[0].Decision != "approve" ||
		list.Entries[0].Note != "Đã xác minh: trích dẫn để phản bác." || len(list.Entries[0].Findings) != 1 || list.Entries[1].Actor != actorAuto {
		t.Errorf("article audit %+v", list.Entries)
	}
	h.api(t, "GET", "/v1/tenants/hung-yen/review/audit?reviewer="+apikey.ID(reviewer), reviewer, nil, &list)
	wantMine := 1
	if outcomes[0].GetType() == bus.TypeArticleApproved {
		wantMine = 2
	}
	if len(list.Entries) != wantMine {
		t.Errorf("reviewer audit has %d entries, want %d: %+v", len(list.Entries), wantMine, list.Entries)
	}
	if code := h.api(t, "GET", "/v1/tenants/hung-yen/review/audit?reviewer=x*", reviewer, nil, nil); code != 400 {
		t.Errorf("bad reviewer id: %d", code)
	}
	if code := h.api(t, "GET", "/v1/tenants/nam-dinh/review/audit?article=c000000000000001", stranger, nil, &list); code != 200 || len(list.Entries) != 0 {
		t.Errorf("another tenant's audit: %d %+v", code, list.Entries)
	}

	// The trail cannot be edited through JetStream.
	ctx := context.Background()
	stream, err := h.bus.JetStream().Stream(ctx, bus.StreamAudit)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.DeleteMsg(ctx, 1); err == nil {
		t.Error("an audit entry was deleted")
	}
	if err := stream.Purge(ctx); err == nil {
		t.Error("the audit trail was purged")
	}
}

// A decision whose effects could not be written (a crash between the
// compare-and-set and the publish) is finished by the reconciler.
func TestReconcilerFinishesPendingDecisions(t *testing.T) {
	tn := newTenant("hung-yen")
	tn.Moderation = &tenant.Moderation{Policy: tenant.PolicyReview}
	h := start(t, tn)
	a := cleanArticle(t, "d000000000000001", 1)
	h.reasons(t, "hung-yen", submitted(t, h, "hung-yen", a), bus.TypeArticleHeld)

	ctx := ctxFor(t)
	s := &service{records: mustKV(t, h, bus.BucketModeration)}
	rec, rev, err := s.getRecord(ctx, "hung-yen", a.GetId())
	if err != nil {
		t.Fatal(err)
	}
	// What decideReview writes before its effects.
	// Decided a while ago, so that the reconciler does not wait for it to settle.
	rec.Review = &review{Decision: decisionApprove, Reviewer: "0123456789ab", At: rec.VerdictAt.Add(-time.Minute)}
	rec.State, rec.Done = stateApproved, false
	if _, err := s.records.Put(ctx, pendingKey("hung-yen", a.GetId()), []byte(fmt.Sprint(rev))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.putRecord(ctx, rec, rev); err != nil {
		t.Fatal(err)
	}
	h.restart(t) // the reconciler runs at start
	h.approved(t, "hung-yen", a)
	h.logs.waitFor(t, "finished a pending decision", "d000000000000001")
	if _, err := s.records.Get(ctx, pendingKey("hung-yen", a.GetId())); err == nil {
		t.Error("the pending marker is still there")
	}
	if got := auditEntries(t, h, "hung-yen", a.GetId()); len(got) != 2 || got[0].Actor != "0123456789ab" {
		t.Errorf("audit %+v", got)
	}
}

func mustKV(t *testing.T, h *harness, bucket string) jetstream.KeyValue {
	t.Helper()
	kv, err := h.bus.KV(ctxFor(t), bucket)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func TestDeskPages(t *testing.T) {
	tn := newTenant("hung-yen")
	tn.Moderation = &tenant.Moderation{Blocklist: []tenant.BlockedTerm{{Term: "phản động"}}}
	h := start(t, tn)
	reviewer := h.key(t, "hung-yen", apikey.RoleReviewer)
	editor := h.key(t, "hung-yen", apikey.RoleEditor)
	a := cleanArticle(t, "e000000000000001", 1)
	a.Body[0].GetParagraph().Text = "Đấu tranh với các luận điệu phan dong <script>alert(1)</script> trên mạng."
	h.reasons(t, "hung-yen", submitted(t, h, "hung-yen", a), bus.TypeArticleHeld)

	b := newBrowserlessClient(t, h)
	if res := b.get("/desk/"); res.code != http.StatusOK || !strings.Contains(res.url, "/desk/login") {
		t.Fatalf("the queue without a session: %d at %s", res.code, res.url)
	}
	if res := b.post("/desk/login", map[string]string{"key": reviewer}); res.code != http.StatusForbidden {
		t.Errorf("sign-in without the CSRF token: %d", res.code)
	}
	if res := b.login(editor); res.code != http.StatusUnauthorized || !strings.Contains(res.body, "không phải khóa của người duyệt") {
		t.Errorf("sign-in with an editor key: %d", res.code)
	}
	res := b.login(reviewer)
	if res.code != http.StatusOK || !strings.Contains(res.body, "Bài chờ duyệt") || !strings.Contains(res.body, a.GetTitle()) {
		t.Fatalf("queue after sign-in: %d %s", res.code, res.body)
	}
	if c := b.cookie(sessionCookie); c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || strings.Contains(c.Value, reviewer) {
		t.Errorf("session cookie %+v", c)
	}
	page := b.get("/desk/articles/e000000000000001")
	for _, want := range []string{
		`<mark class="sev-hold" id="f-1"`, `>phan dong</mark>`, `&lt;script&gt;alert(1)&lt;/script&gt;`, "Giống từ bị cấm",
		`name="csrf" value="` + b.csrf(page.body) + `"`, `id="approve"`, `lang="vi"`, "Xem trước trang bài viết", "Nhật ký duyệt bài này",
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("article page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "<script>") {
		t.Error("editor text reached the page unescaped")
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if res := b.post("/desk/articles/e000000000000001/decision", map[string]string{"decision": "approve"}); res.code != http.StatusForbidden {
		t.Errorf("decision without the CSRF token: %d", res.code)
	}
	res = b.post("/desk/articles/e000000000000001/decision", map[string]string{"decision": "reject", "csrf": b.csrf(page.body), "revision": "1"})
	if res.code != http.StatusUnprocessableEntity || !strings.Contains(res.body, "ghi rõ lý do") {
		t.Errorf("rejection without a note: %d", res.code)
	}
	res = b.post("/desk/articles/e000000000000001/decision", map[string]string{
		"decision": "reject", "note": "Đề nghị viết lại đoạn 1.", "csrf": b.csrf(page.body), "revision": "1"})
	if res.code != http.StatusOK || !strings.Contains(res.body, "Đã từ chối bài") || !strings.Contains(res.url, "decided=e000000000000001") {
		t.Errorf("after the decision: %d %s", res.code, res.url)
	}
	if got := h.reasons(t, "hung-yen", a, bus.TypeArticleRejected); !containsAll(got, "từ chối: Đề nghị viết lại đoạn 1.") {
		t.Errorf("rejection reasons %q", got)
	}
	again := b.post("/desk/articles/e000000000000001/decision", map[string]string{"decision": "approve", "csrf": b.csrf(page.body), "revision": "1"})
	if again.code != http.StatusConflict || !strings.Contains(again.body, "đã được từ chối") {
		t.Errorf("a second decision: %d", again.code)
	}
	audit := b.get("/desk/audit")
	if !strings.Contains(audit.body, "Đề nghị viết lại đoạn 1.") || !strings.Contains(audit.body, "Nhật ký duyệt của tôi") {
		t.Errorf("my audit page lacks the decision")
	}
	for _, p := range []string{"/desk/", "/desk/articles/e000000000000001", "/desk/audit", "/desk/login"} {
		if body := b.get(p).body; !isNFC(body) {
			t.Errorf("%s is not NFC", p)
		}
	}
	if res := b.post("/desk/logout", map[string]string{"csrf": b.csrf(page.body)}); !strings.Contains(res.url, "/desk/login") {
		t.Errorf("after sign-out: %s", res.url)
	}
	if res := b.get("/desk/"); !strings.Contains(res.url, "/desk/login") {
		t.Errorf("the queue after sign-out: %s", res.url)
	}
}
