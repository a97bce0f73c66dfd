package editor

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/websession"
)

type harness struct {
	t      *testing.T
	api    *fakeAPI
	srv    *httptest.Server
	render *httptest.Server
	// renderGot is the last body render's fake received.
	renderGot []byte
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, api: newFakeAPI()}
	h.render = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderGot, _ = io.ReadAll(r.Body)
		if r.URL.Path != "/v1/tenants/hungyen/preview" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!DOCTYPE html><html lang="vi"><head><link rel="stylesheet" href="/hungyen/site.css"></head><body><h1>Trang công khai</h1></body></html>`)
	}))
	t.Cleanup(h.render.Close)
	sessions, err := websession.New(websession.Options{Secret: []byte(strings.Repeat("s", 32)), Cookie: "bp_editor",
		LoginCookie: "bp_editor_login", Path: Path, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(Options{API: h.api, Sessions: sessions, RenderURL: h.render.URL, SiteURL: "http://site.example",
		MaxMediaBytes: 1 << 20, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(app.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

// browser keeps cookies and does not follow redirects, so each answer is seen.
type browser struct {
	t *testing.T
	h *harness
	c *http.Client
}

type page struct {
	code     int
	body     string
	location string
	header   http.Header
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: h.t, h: h, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{code: res.StatusCode, body: string(body), location: res.Header.Get("Location"), header: res.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.h.srv.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token on the page (%d): %.300s", p.code, p.body)
	}
	return m[1]
}

func (b *browser) signIn(key string) (page, string) {
	b.t.Helper()
	login := b.get("/editor/login")
	res := b.post("/editor/login", url.Values{"tenant": {"hungyen"}, "key": {key}, "csrf": {csrfOf(b.t, login)}, "next": {"/editor/articles"}})
	if res.code != http.StatusSeeOther || res.location != "/editor/articles" {
		b.t.Fatalf("sign-in: %d → %q: %.400s", res.code, res.location, res.body)
	}
	list := b.get("/editor/articles")
	if list.code != 200 {
		b.t.Fatalf("list after sign-in: %d", list.code)
	}
	return res, csrfOf(b.t, list)
}

func TestSignInSealsTheKeyInAnHTTPOnlyCookie(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	if res := b.get("/editor/articles"); res.code != http.StatusSeeOther || !strings.HasPrefix(res.location, "/editor/login") {
		t.Fatalf("list without a session: %d %q", res.code, res.location)
	}
	login := b.get("/editor/login")
	if res := b.post("/editor/login", url.Values{"tenant": {"hungyen"}, "key": {"bp_editor"}}); res.code != http.StatusForbidden {
		t.Errorf("sign-in without the CSRF token: %d", res.code)
	}
	if res := b.post("/editor/login", url.Values{"tenant": {"hungyen"}, "key": {"bp_wrong"}, "csrf": {csrfOf(t, login)}}); res.code != http.StatusUnauthorized ||
		!strings.Contains(res.body, "Khóa không đúng") || !strings.Contains(res.body, `value="hungyen"`) {
		t.Errorf("wrong key: %d %.300s", res.code, res.body)
	}
	// One call checks the key: the tenant route, not a scan of the article list.
	if n, all := h.api.called("GET /v1/tenants/hungyen/articles"), h.api.called(""); n != 0 || all != 1 {
		t.Errorf("checking a key made %d calls, %d of them to the list", all, n)
	}
	res, _ := b.signIn("bp_editor")
	var sc *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "bp_editor" {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/editor/" || sc.MaxAge != 3600 {
		t.Fatalf("session cookie %+v", sc)
	}
	if strings.Contains(sc.Value, "bp_editor") || strings.Contains(sc.Value, "hungyen") {
		t.Error("the cookie shows the key or the tenant")
	}
	list := b.get("/editor/articles")
	for _, want := range []string{"Bài viết của tôi", "Đảng bộ Khối các cơ quan tỉnh Hưng Yên", `href="/editor/articles/new"`, `lang="vi"`} {
		if !strings.Contains(list.body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	if csp := list.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || list.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", list.header)
	}
}

func TestTamperedCookieSignsOut(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn("bp_editor")
	before := h.api.called("GET")
	u, _ := url.Parse(h.srv.URL + "/editor/")
	cs := b.c.Jar.Cookies(u)
	var v string
	for _, c := range cs {
		if c.Name == "bp_editor" {
			v = c.Value
		}
	}
	flip := "A"
	if v[10] == 'A' {
		flip = "B"
	}
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "bp_editor", Value: v[:10] + flip + v[11:], Path: "/editor/"}})
	if res := b.get("/editor/articles"); res.code != http.StatusSeeOther || !strings.HasPrefix(res.location, "/editor/login") {
		t.Fatalf("tampered cookie: %d %q", res.code, res.location)
	}
	if n := h.api.called("GET"); n != before {
		t.Errorf("the API was called %d times with a tampered session", n-before)
	}
}

func TestPostWithoutOrWithWrongCSRFIsForbidden(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	_, token := b.signIn("bp_editor")
	form := url.Values{"title": {"Tin mới"}, "category": {"tin-tuc"}, "body": {"Một đoạn."}, "action": {"submit"}}
	if res := b.post("/editor/articles", form); res.code != http.StatusForbidden {
		t.Errorf("without the token: %d", res.code)
	}
	form.Set("csrf", token[:len(token)-1]+"x")
	if res := b.post("/editor/articles", form); res.code != http.StatusForbidden || !strings.Contains(res.body, "Yêu cầu không hợp lệ") {
		t.Errorf("with a wrong token: %d", res.code)
	}
	if res := b.post("/editor/logout", url.Values{}); res.code != http.StatusForbidden {
		t.Errorf("logout without the token: %d", res.code)
	}
	// Another browser's valid token does not work with this session.
	other := h.browser()
	_, otherToken := other.signIn("bp_editor")
	form.Set("csrf", otherToken)
	if res := b.post("/editor/articles", form); res.code != http.StatusForbidden {
		t.Errorf("with another session's token: %d", res.code)
	}
	if n := h.api.called("POST"); n != 0 {
		t.Errorf("%d writes reached the API", n)
	}
	form.Set("csrf", token)
	if res := b.post("/editor/articles", form); res.code != http.StatusSeeOther {
		t.Errorf("with the token: %d %.300s", res.code, res.body)
	}
}

func TestValidationErrorKeepsTheInputAndSaysWhyInVietnamese(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	_, token := b.signIn("bp_editor")
	photo := strings.Repeat("ab", 32)
	title := "Hội nghị <b>tổng kết</b> công tác năm 2026 của Đảng bộ Khối"
	res := b.post("/editor/articles", url.Values{"csrf": {token}, "action": {"submit"}, "category": {"xay-dung-dang"},
		"title": {title}, "lead": {"Sáng 23/11, …"}, "body": {"Đoạn một.\n\nĐoạn hai."},
		"photo_media": {photo}, "photo_caption": {""}, "photo_credit": {"Lam Hồng"}, "photo_after": {"1"},
		"author": {"Minh Thu"}, "tags": {"chuyển đổi số, Đảng bộ Khối"}})
	if res.code != http.StatusUnprocessableEntity {
		t.Fatalf("invalid article: %d %.300s", res.code, res.body)
	}
	for _, want := range []string{
		`value="` + html.EscapeString(title) + `"`, // typed text kept, escaped
		"Tối đa 20 ký tự (hiện có 59).",            // next to the title
		`id="e-title"`, `aria-invalid="true"`,
		"Đoạn một.\n\nĐoạn hai.", `value="Lam Hồng"`, `value="Minh Thu"`, `value="chuyển đổi số, Đảng bộ Khối"`,
		`<option value="xay-dung-dang" selected>`,
		`href="#f-photo0">Ảnh 1</a>: Không được để trống.`, // the caption error names the photo
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	if strings.Contains(res.body, "<b>tổng kết</b>") {
		t.Error("the typed title reached the page unescaped")
	}
}

func TestDraftThenSubmitAndStaleEditConflict(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	_, token := b.signIn("bp_editor")
	form := url.Values{"csrf": {token}, "action": {"draft"}, "category": {"tin-tuc"}, "title": {"Tin nháp"}, "body": {"Đoạn một."},
		"scheduled_at": {"2026-12-01T08:00"}, "idem": {"form-1"}}
	res := b.post("/editor/articles", form)
	if res.code != http.StatusSeeOther || res.location != "/editor/articles/a000000000000001/edit?saved=1" {
		t.Fatalf("draft: %d %q %.300s", res.code, res.location, res.body)
	}
	var sent articleDocument
	_ = json.Unmarshal(h.api.lastBody, &sent)
	if sent.Status != "draft" || sent.ScheduledAt != "2026-12-01T08:00" || sent.TimeZone != "Asia/Ho_Chi_Minh" || len(sent.Body) != 1 {
		t.Errorf("draft sent %+v", sent)
	}
	edit := b.get(res.location)
	if !strings.Contains(edit.body, "Đã lưu bản nháp (phiên bản 1).") || !strings.Contains(edit.body, `name="base_revision" value="1"`) ||
		!strings.Contains(edit.body, `value="2026-12-01T08:00"`) || !strings.Contains(edit.body, "Gửi bài") {
		t.Errorf("edit page after saving: %.2000s", edit.body)
	}

	// Someone else saves revision 2 meanwhile; this browser still edits 1.
	h.api.mu.Lock()
	h.api.articles["a000000000000001"].rev = 2
	h.api.mu.Unlock()
	stale := url.Values{"csrf": {token}, "action": {"submit"}, "id": {"a000000000000001"}, "base_revision": {"1"}, "draft": {"1"},
		"category": {"tin-tuc"}, "title": {"Tin của tôi"}, "body": {"Bản sửa của tôi."}}
	res = b.post("/editor/articles", stale)
	if res.code != http.StatusConflict || !strings.Contains(res.body, "Bài viết đã được người khác sửa") ||
		!strings.Contains(res.body, `href="/editor/articles/a000000000000001/edit"`) || !strings.Contains(res.body, "Bản sửa của tôi.") {
		t.Fatalf("stale edit: %d %.1500s", res.code, res.body)
	}
	stale.Set("base_revision", "2")
	res = b.post("/editor/articles", stale)
	if res.code != http.StatusSeeOther || res.location != "/editor/articles/a000000000000001?submitted=1" {
		t.Fatalf("submit: %d %q", res.code, res.location)
	}
	sent = articleDocument{}
	_ = json.Unmarshal(h.api.lastBody, &sent)
	if sent.Status != "" || sent.BaseRevision != 2 {
		t.Errorf("submitted %+v", sent)
	}
	follow := b.get(res.location)
	if !strings.Contains(follow.body, "Đã gửi bài.") || !strings.Contains(follow.body, `data-status-url="/editor/articles/a000000000000001/status"`) ||
		!strings.Contains(follow.body, `http-equiv="refresh"`) {
		t.Errorf("follow page: %.1500s", follow.body)
	}
}

func TestReviewerSignsInReadOnly(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	_, token := b.signIn("bp_reviewer")
	list := b.get("/editor/articles")
	if strings.Contains(list.body, `href="/editor/articles/new"`) || !strings.Contains(list.body, "chỉ xem") {
		t.Error("a reviewer's list offers writing")
	}
	if res := b.get("/editor/articles/new"); res.code != http.StatusForbidden {
		t.Errorf("reviewer opening the form: %d", res.code)
	}
	if res := b.post("/editor/articles", url.Values{"csrf": {token}, "title": {"x"}}); res.code != http.StatusForbidden {
		t.Errorf("reviewer posting: %d", res.code)
	}
}

func TestScriptUploadForwardsThePhoto(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	_, token := b.signIn("bp_editor")
	upload := func(token string) page {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "anh.jpg")
		_, _ = fw.Write([]byte("\xff\xd8\xff not really a jpeg"))
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/editor/media", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if token != "" {
			req.Header.Set("X-CSRF-Token", token)
		}
		return b.do(req)
	}
	if res := upload(""); res.code != http.StatusForbidden {
		t.Errorf("upload without a token: %d", res.code)
	}
	if res := upload("nope"); res.code != http.StatusForbidden {
		t.Errorf("upload with a wrong token: %d", res.code)
	}
	res := upload(token)
	var got struct{ ID, Thumb string }
	if res.code != http.StatusCreated || json.Unmarshal([]byte(res.body), &got) != nil || len(got.ID) != 64 ||
		got.Thumb != "http://site.example/hungyen/media/"+got.ID+"/320.jpg" {
		t.Fatalf("upload: %d %s", res.code, res.body)
	}
	if !h.api.media[got.ID] {
		t.Error("the photo did not reach the API")
	}
}

func TestPreviewShowsRenderPageAndSurvivesRenderDown(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	_, token := b.signIn("bp_editor")
	photo := strings.Repeat("cd", 32)
	form := url.Values{"csrf": {token}, "action": {"preview"}, "category": {"tin-tuc"}, "title": {"Xem trước"}, "body": {"Đoạn một.\n\nĐoạn hai."},
		"photo_media": {photo}, "photo_caption": {"Quang cảnh"}, "photo_credit": {"Lam Hồng"}, "photo_after": {"1"},
		"scheduled_at": {"2026-12-01T08:00"}}
	res := b.post("/editor/articles", form)
	if res.code != 200 || !strings.Contains(res.body, `<iframe id="preview" sandbox="allow-same-origin" srcdoc="`) ||
		!strings.Contains(res.body, html.EscapeString(`<head><base href="http://site.example/">`)) ||
		!strings.Contains(res.body, html.EscapeString("<h1>Trang công khai</h1>")) || !strings.Contains(res.body, `value="Quang cảnh"`) {
		t.Fatalf("preview: %d %.2000s", res.code, res.body)
	}
	var art map[string]any
	if err := json.Unmarshal(h.renderGot, &art); err != nil {
		t.Fatalf("render got %s", h.renderGot)
	}
	body, _ := art["body"].([]any)
	img, _ := body[1].(map[string]any)["image"].(map[string]any)
	if art["id"] != nil || art["title"] != "Xem trước" || len(body) != 3 || img["media_id"] != photo || art["scheduled_at"] != "2026-12-01T01:00:00Z" {
		t.Errorf("render got %s", h.renderGot)
	}
	if n := h.api.called("POST"); n != 0 {
		t.Errorf("a preview wrote %d times", n)
	}
	h.render.Close()
	res = b.post("/editor/articles", form)
	if res.code != 200 || !strings.Contains(res.body, "dịch vụ dựng trang (render) đang không trả lời") || !strings.Contains(res.body, `value="Xem trước"`) {
		t.Errorf("render down: %d %.1500s", res.code, res.body)
	}
}

func TestFollowTimelineOfAPublishedArticle(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn("bp_editor")
	at := time.Date(2026, 11, 23, 7, 5, 0, 0, time.UTC)
	h.api.articles["b000000000000001"] = &fakeArticle{status: "published", rev: 1, doc: articleDocument{Title: "Đã lên trang"},
		history: []historyEntry{{Status: "submitted", At: at}, {Status: "held", At: at.Add(time.Minute)},
			{Status: "approved", At: at.Add(2 * time.Minute)}, {Status: "published", At: at.Add(3 * time.Minute)}}}
	res := b.get("/editor/articles/b000000000000001/status")
	var tl timeline
	if err := json.Unmarshal([]byte(res.body), &tl); err != nil {
		t.Fatalf("%d %s", res.code, res.body)
	}
	want := []string{"Đã nhận done Thứ Hai, 23/11/2026, 14:05", "Ảnh đã xử lý skipped ", "Đã duyệt done Thứ Hai, 23/11/2026, 14:07", "Đã đăng done Thứ Hai, 23/11/2026, 14:08"}
	var got []string
	for _, s := range tl.Steps {
		got = append(got, s.Label+" "+s.State+" "+s.At)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") || !tl.Final || tl.StatusLabel != "Đã đăng" || !strings.HasSuffix(tl.PublicURL, "b000000000000001.html") {
		t.Errorf("timeline %q %+v", got, tl)
	}
	page := b.get("/editor/articles/b000000000000001")
	if !strings.Contains(page.body, `id="public-link" class="primary button" href="http://site.example/hungyen/bai-viet/x-b000000000000001.html"`) ||
		strings.Contains(page.body, `http-equiv="refresh"`) {
		t.Errorf("follow page: %.2000s", page.body)
	}
}

func TestFormBuildsBlocksInOrder(t *testing.T) {
	f := articleForm{Body: "Một\ndòng gãy.\r\n\n  \nHai.\n\n\nBa.", Photos: []photoField{
		{Media: "a", After: 0}, {Media: "b", After: 2}, {Media: "c", After: 9}}, Tags: " x , ,y ", SourceURL: "https://a.vn"}
	doc, origins := f.document(Zone)
	var got []string
	for _, b := range doc.Body {
		got = append(got, b.Type[:1]+b.Text+b.Media)
	}
	if strings.Join(got, "|") != "ia|pMột dòng gãy.|pHai.|ib|pBa.|ic" || origins[3].field != "photo1" || strings.Join(doc.Tags, ",") != "x,y" || doc.Source.URL != "https://a.vn" {
		t.Errorf("blocks %q origins %v tags %q", got, origins, doc.Tags)
	}
	if fieldOf("body[5].caption", origins) != "photo2" || fieldOf("source.url", origins) != "source_url" || fieldOf("body[99].text", origins) != "body" {
		t.Error("field mapping")
	}
	back := formFromDocument("x", 1, &doc, false)
	if back.Body != "Một dòng gãy.\n\nHai.\n\nBa." || back.Photos[1].After != 2 || back.Photos[2].After != 3 {
		t.Errorf("round trip %+v", back)
	}
}

// Without JavaScript the photos come with the form: they are uploaded, and
// the form comes back with a row for each photo's caption and credit.
func TestFormWithPhotosWorksWithoutJavaScript(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	_, token := b.signIn("bp_editor")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"csrf": token, "action": "submit", "category": "tin-tuc", "title": "Có ảnh", "body": "Đoạn một.\n\nĐoạn hai."} {
		_ = mw.WriteField(k, v)
	}
	for _, name := range []string{"a.jpg", "b.jpg"} {
		fw, _ := mw.CreateFormFile("photos", name)
		_, _ = fw.Write([]byte("\xff\xd8\xff photo " + name))
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/editor/articles", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res := b.do(req)
	if res.code != 200 || !strings.Contains(res.body, "Đã tải lên 2 ảnh.") || strings.Count(res.body, `name="photo_caption"`) != 3 || // two rows and the script's template
		!strings.Contains(res.body, `value="Có ảnh"`) {
		t.Fatalf("form with photos: %d %.2000s", res.code, res.body)
	}
	if len(h.api.media) != 2 || h.api.called("POST /v1/tenants/hungyen/articles") != 0 {
		t.Errorf("media %d, articles created %d: the article waits for its captions", len(h.api.media), h.api.called("POST /v1/tenants/hungyen/articles"))
	}
}

func TestPreviewRefusedByRenderSaysWhy(t *testing.T) {
	err := &previewRefused{status: 422, reasons: []string{"chuyên mục không có trong cấu hình của đơn vị"}}
	if got := previewMessage(err); got != "Chưa xem trước được: chuyên mục không có trong cấu hình của đơn vị." {
		t.Errorf("message %q", got)
	}
	if got := withBase(`<html><head><base href="http://x/"></head></html>`, "http://y/"); strings.Contains(got, "http://y/") {
		t.Error("a second <base> was added")
	}
}

func TestListShowsStatesReasonsFiltersAndPages(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn("bp_editor")
	at := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	h.api.mu.Lock()
	h.api.articles["c000000000000001"] = &fakeArticle{status: "rejected", rev: 1, doc: articleDocument{Title: "Bài bị từ chối", Category: "tin-tuc"},
		reasons: []string{"Có từ bị cấm: «cờ bạc»"}, history: []historyEntry{{Status: "submitted", At: at}, {Status: "rejected", At: at.Add(time.Minute)}}}
	h.api.mu.Unlock()
	res := b.get("/editor/articles?status=rejected&category=tin-tuc&q=b%C3%A0i&author=Thu+H%C3%A0")
	for _, want := range []string{
		`<span class="badge state-rejected">Bị từ chối</span>`, "Bài bị từ chối", "Tin tức",
		"Lý do từ chối", "Có từ bị cấm: «cờ bạc»", "Đã gửi — Thứ Hai, 23/11/2026, 08:00", "Bị từ chối — Thứ Hai, 23/11/2026, 08:01",
		`<option value="rejected" selected>Bị từ chối</option>`, `value="Thu Hà"`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	// The changes come with the list: one page is one list call, not a GET per article.
	if n := h.api.called("GET /v1/tenants/hungyen/articles/"); n != 0 {
		t.Errorf("the list page read %d articles one by one", n)
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">Trang sau »</a>`).FindStringSubmatch(res.body)
	if next == nil || html.UnescapeString(next[1]) != "/editor/articles?author=Thu+H%C3%A0&category=tin-tuc&cursor=opaque-2&q=b%C3%A0i&status=rejected" {
		t.Errorf("next page link %q", next)
	}
	h.api.mu.Lock()
	q := h.api.query
	h.api.mu.Unlock()
	if q.Get("status") != "rejected" || q.Get("category") != "tin-tuc" || q.Get("q") != "bài" || q.Get("author") != "Thu Hà" || q.Get("limit") != "20" {
		t.Errorf("API query %v", q)
	}
	b.get("/editor/articles?cursor=opaque-2")
	h.api.mu.Lock()
	defer h.api.mu.Unlock()
	if h.api.query.Get("cursor") != "opaque-2" {
		t.Errorf("second page's query %v", h.api.query)
	}
}

func TestTakedownFromTheFollowPage(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	_, token := b.signIn("bp_editor")
	h.api.mu.Lock()
	h.api.articles["d000000000000001"] = &fakeArticle{status: "published", rev: 1, doc: articleDocument{Title: "Sẽ gỡ"}}
	h.api.mu.Unlock()
	follow := b.get("/editor/articles/d000000000000001")
	if !strings.Contains(follow.body, `action="/editor/articles/d000000000000001/unpublish"`) {
		t.Fatal("no takedown form on a published article's page")
	}
	res := b.post("/editor/articles/d000000000000001/unpublish", url.Values{"csrf": {token}, "mode": {"redirect"}, "reason": {"Trùng bài"}, "redirect_to": {"bài khác"}})
	if res.code != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Chưa gỡ được bài") || !strings.Contains(res.body, `value="Trùng bài"`) {
		t.Errorf("refused takedown: %d %.1000s", res.code, res.body)
	}
	if res := b.post("/editor/articles/d000000000000001/unpublish", url.Values{"csrf": {token}, "mode": {"gone"}}); res.code != http.StatusUnprocessableEntity ||
		!strings.Contains(res.body, "Hãy ghi lý do gỡ bài.") {
		t.Errorf("takedown without a reason: %d", res.code)
	}
	res = b.post("/editor/articles/d000000000000001/unpublish", url.Values{"csrf": {token}, "mode": {"gone"}, "reason": {"Thông tin chưa chính xác"}})
	if res.code != http.StatusSeeOther || res.location != "/editor/articles/d000000000000001?unpublished=1" {
		t.Fatalf("takedown: %d %q", res.code, res.location)
	}
	var req unpublishRequest
	_ = json.Unmarshal(h.api.lastBody, &req)
	if req != (unpublishRequest{Mode: "gone", Reason: "Thông tin chưa chính xác"}) {
		t.Errorf("sent %+v", req)
	}
	page := b.get(res.location)
	if !strings.Contains(page.body, "Đã yêu cầu gỡ bài.") || !strings.Contains(page.body, `<span class="label">Đã gỡ</span>`) {
		t.Errorf("after the takedown: %.1500s", page.body)
	}
}

// The pages about one article (follow, edit, preview) answer a malformed
// id, an unknown article and a revoked key alike.
func TestArticlePagesRefuseBadIDsUnknownArticlesAndRevokedKeys(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn("bp_editor")
	for _, suffix := range []string{"", "/edit", "/preview"} {
		if res := b.get("/editor/articles/NOT-AN-ID" + suffix); res.code != http.StatusNotFound || !strings.Contains(res.body, "Mã bài viết không hợp lệ.") {
			t.Errorf("malformed id%s: %d %.300s", suffix, res.code, res.body)
		}
		if res := b.get("/editor/articles/e000000000000001" + suffix); res.code != http.StatusNotFound || !strings.Contains(res.body, "Không tìm thấy bài viết") {
			t.Errorf("unknown article%s: %d %.300s", suffix, res.code, res.body)
		}
	}
	h.api.mu.Lock()
	delete(h.api.keys, "bp_editor")
	h.api.mu.Unlock()
	if res := b.get("/editor/articles/e000000000000001/edit"); res.code != http.StatusUnauthorized || !strings.Contains(res.body, "Khóa không còn hiệu lực") {
		t.Errorf("revoked key: %d %.300s", res.code, res.body)
	}
	if res := b.get("/editor/articles"); res.code != http.StatusSeeOther || !strings.HasPrefix(res.location, "/editor/login") {
		t.Errorf("after a revoked key the session still opens the list: %d %q", res.code, res.location)
	}
}
