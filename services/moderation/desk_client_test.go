package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func isNFC(s string) bool { return norm.NFC.IsNormalString(s) }

// browserlessClient drives the desk's pages with a cookie jar, as a
// browser without scripts would.
type browserlessClient struct {
	t       *testing.T
	base    string
	c       *http.Client
	cookies map[string]*http.Cookie // as the server last set them, attributes and all
}

type pageResponse struct {
	code   int
	body   string
	url    string
	header http.Header
}

func newBrowserlessClient(t *testing.T, h *harness) *browserlessClient {
	jar, _ := cookiejar.New(nil)
	b := &browserlessClient{t: t, base: "http://" + h.httpAddr, cookies: map[string]*http.Cookie{}}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		b.keep(req.Response)
		return nil
	}}
	return b
}

func (b *browserlessClient) keep(res *http.Response) {
	if res == nil {
		return
	}
	for _, c := range res.Cookies() {
		b.cookies[c.Name] = c
	}
}

func (b *browserlessClient) do(req *http.Request) pageResponse {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	b.keep(res)
	body, _ := io.ReadAll(res.Body)
	return pageResponse{code: res.StatusCode, body: string(body), url: res.Request.URL.String(), header: res.Header}
}

func (b *browserlessClient) get(path string) pageResponse {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *browserlessClient) post(path string, form map[string]string) pageResponse {
	v := url.Values{}
	for k, x := range form {
		v.Set(k, x)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, b.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browserlessClient) csrf(page string) string {
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatal("no CSRF token on the page")
	}
	return m[1]
}

func (b *browserlessClient) login(key string) pageResponse {
	page := b.get("/desk/login")
	return b.post("/desk/login", map[string]string{"key": key, "name": "Nguyễn Thị Hoà", "csrf": b.csrf(page.body), "next": "/desk/"})
}

func (b *browserlessClient) cookie(name string) *http.Cookie { return b.cookies[name] }
