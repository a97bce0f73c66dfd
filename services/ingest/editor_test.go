package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/testkit"
)

// Any key of a tenant reads its name, categories and its own role; other
// tenants' keys and no key do not.
func TestTenantInfoForKeyHolders(t *testing.T) {
	s := startStack(t, nil)
	editor, _ := s.newTenant(t, "hung-yen")
	other, _ := s.newTenant(t, "nam-dinh")
	var info tenantInfo
	s.do(t, http.MethodGet, "/v1/tenants/hung-yen", editor, nil).expect(t, http.StatusOK, &info)
	if info.Name != "Đảng bộ Khối hung-yen" || info.Role != "editor" || len(info.Categories) != 2 || info.Categories[1].Name != "Xây dựng Đảng" {
		t.Errorf("tenant info %+v", info)
	}
	if r := s.do(t, http.MethodGet, "/v1/tenants/hung-yen", other, nil); r.code != http.StatusForbidden {
		t.Errorf("another tenant's key: %d", r.code)
	}
	if r := s.do(t, http.MethodGet, "/v1/tenants/hung-yen", "", nil); r.code != http.StatusUnauthorized {
		t.Errorf("no key: %d", r.code)
	}
}

// The editor app drives the real API in-process: an editor signs in, a
// photo is uploaded the way the page's script does, the article is saved
// as a draft (nothing announced) and comes back whole in the edit form, is
// submitted from it with the revision it edited and announced on the bus,
// its follow page reads its status, and the same stale form gets a 409.
func TestEditorAppSubmitsThroughTheAPI(t *testing.T) {
	s := startStack(t, map[string]string{"INGEST_SESSION_SECRET": strings.Repeat("e", 32)})
	editor, _ := s.newTenant(t, "hung-yen")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	get := func(path string) (int, string) {
		t.Helper()
		res, err := c.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	token := func(page string) string {
		t.Helper()
		m := csrf.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token in %.500s", page)
		}
		return m[1]
	}

	_, login := get("/editor/login")
	res, err := c.PostForm(s.url+"/editor/login", url.Values{"tenant": {"hung-yen"}, "key": {editor}, "csrf": {token(login)}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	code, form := get("/editor/articles/new")
	if code != http.StatusOK || !strings.Contains(form, `<option value="xay-dung-dang">Xây dựng Đảng</option>`) {
		t.Fatalf("the write page after signing in: %d %.800s", code, form)
	}
	tok := token(form)

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "photo1.jpg")
	_, _ = fw.Write(testkit.Photo(t, "photo1.jpg"))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/editor/media", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", tok)
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ ID string }
	_ = json.NewDecoder(res.Body).Decode(&up)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || len(up.ID) != 64 {
		t.Fatalf("upload: %d %+v", res.StatusCode, up)
	}

	article := url.Values{"csrf": {tok}, "action": {"draft"}, "idem": {"form-1"},
		"category": {"xay-dung-dang"}, "title": {"Hội nghị sơ kết"}, "lead": {"Sáng 23/11, …"}, "body": {"Đoạn một.\n\nĐoạn hai."},
		"author": {"Thu Hà"}, "tags": {"sơ kết, Đảng bộ Khối"}, "photo_media": {up.ID}, "photo_caption": {"Quang cảnh"}, "photo_credit": {"Lam Hồng"}, "photo_after": {"1"}}
	post := func() (*http.Response, string) {
		t.Helper()
		res, err := c.PostForm(s.url+"/editor/articles", article)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	// A draft: stored, announced to nobody, and its edit page shows it again.
	res, edit := post()
	if res.StatusCode != http.StatusOK || !strings.HasSuffix(res.Request.URL.Path, "/edit") {
		t.Fatalf("draft: %d at %s: %.1500s", res.StatusCode, res.Request.URL, edit)
	}
	for _, want := range []string{"Đã lưu bản nháp (phiên bản 1).", `name="base_revision" value="1"`, `value="Hội nghị sơ kết"`,
		`value="Quang cảnh"`, `value="Lam Hồng"`, `value="sơ kết, Đảng bộ Khối"`, "Đoạn một.\n\nĐoạn hai.", `id="btn-draft"`} {
		if !strings.Contains(edit, want) {
			t.Errorf("the draft's edit page lacks %q", want)
		}
	}
	if n := s.messages(t, bus.StreamArticles, "article.submitted.hung-yen"); n != 0 {
		t.Errorf("a draft sent %d article.submitted messages", n)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(res.Request.URL.Path, "/editor/articles/"), "/edit")

	// Submitted from the edit form, with the revision it edited.
	article.Set("id", id)
	article.Set("base_revision", "1")
	article.Set("draft", "1")
	article.Set("action", "submit")
	res, body := post()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/editor/articles/"+id || !strings.Contains(body, "Hội nghị sơ kết") {
		t.Fatalf("submit: %d at %s: %.1500s", res.StatusCode, res.Request.URL, body)
	}
	if n := s.messages(t, bus.StreamArticles, "article.submitted.hung-yen"); n != 1 {
		t.Errorf("%d article.submitted messages, want 1", n)
	}
	code, status := get("/editor/articles/" + id + "/status")
	if code != http.StatusOK || !strings.Contains(status, `"status":"submitted"`) || !strings.Contains(status, `"label":"Đã nhận","state":"done"`) {
		t.Errorf("status JSON: %d %s", code, status)
	}

	// The same form sent again edits a revision that is no longer current.
	article.Set("title", "Hội nghị sơ kết (sửa)")
	res, body = post()
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "Bài viết đã được người khác sửa") || !strings.Contains(body, `value="Hội nghị sơ kết (sửa)"`) {
		t.Errorf("stale edit: %d %.1500s", res.StatusCode, body)
	}
}
