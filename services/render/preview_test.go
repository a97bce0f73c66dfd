package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/blocpress/blocpress/libs/httpx"
)

var listeningAddr = regexp.MustCompile(`msg="http listening".* addr=(\S+)`)

// httpBase is render's internal HTTP address, from its log.
func (h *harness) httpBase() string {
	h.t.Helper()
	var m []string
	h.waitFor("render's HTTP server", func() bool {
		m = listeningAddr.FindStringSubmatch(h.logs.String())
		return m != nil
	})
	return "http://" + m[1]
}

func postPreview(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestPreview(t *testing.T) {
	h := start(t)
	base := h.httpBase() + "/v1/tenants/hungyen/preview"
	photo := h.putPhoto("preview-photo")
	pending := mediaID("not-resized-yet")
	body := `{"id":"prev000000000001","category":"tin-tuc","title":"Hội nghị <b>xem trước</b>",
		"lead":"Tóm tắt bài.","author":"Lam Hồng","source":{"name":"baonamdinh.vn","url":"https://baonamdinh.vn"},
		"published_at":"2024-07-22T03:00:00Z",
		"body":[{"image":{"media_id":"` + photo + `","caption":"Quang cảnh hội nghị","credit":"Lam Hồng"}},
		{"paragraph":{"text":"Đoạn một."}},
		{"image":{"media_id":"` + pending + `","caption":"Ảnh đang xử lý","credit":"Minh Thu"}}]}`
	resp, doc := postPreview(t, base, body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("preview answered %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), doc)
	}
	media := "/hungyen/media/" + photo + "/"
	mustContain(t, "preview", doc,
		`<base href="`+testSiteURL+`/">`, `<meta name="robots" content="noindex">`,
		"<h1>Hội nghị &lt;b&gt;xem trước&lt;/b&gt;</h1>", "Thứ Hai, 22/07/2024, 10:00", "<p>Đoạn một.</p>",
		`<figure><img src="`+media+`1024.jpg" srcset="`+media+`320.jpg 320w`,
		`<span class="credit">Ảnh: Lam Hồng</span>`,
		`<figure><figcaption>Ảnh đang xử lý <span class="credit">Ảnh: Minh Thu</span></figcaption></figure>`,
		`Theo: <a href="https://baonamdinh.vn" rel="noopener">baonamdinh.vn</a>`, "Cỡ chữ:")
	mustNotContain(t, "preview", doc, testViewsURL, "<b>xem", pending+"/")
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	if h.exists("bai-viet/hoi-nghi-b-xem-truoc-b-prev000000000001.html") {
		t.Error("the preview wrote a page")
	}

	for _, c := range []struct {
		name, url, body string
		status          int
		field           string
	}{
		{"bad tenant", h.httpBase() + "/v1/tenants/Hung.Yen/preview", `{}`, 400, "tenant"},
		{"not JSON", base, `{"title":`, 400, "body"},
		{"unknown field", base, `{"headline":"x"}`, 400, "body"},
		{"no title", base, `{"category":"tin-tuc"}`, 422, "title"},
		{"unknown category", base, `{"category":"the-thao","title":"Bóng đá"}`, 422, "category"},
		{"bad media id", base, `{"category":"tin-tuc","title":"Ảnh","body":[{"image":{"media_id":"../x"}}]}`, 422, "body[0].image.media_id"},
		{"too big", base, `{"title":"` + strings.Repeat("a", previewMaxBytes) + `"}`, 413, "body"},
	} {
		resp, doc := postPreview(t, c.url, c.body)
		var p httpx.Problem
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			t.Errorf("%s: not problem JSON: %s", c.name, doc)
			continue
		}
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json; charset=utf-8" ||
			len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: %d %+v, want %d naming %s", c.name, resp.StatusCode, p, c.status, c.field)
		}
	}
}
