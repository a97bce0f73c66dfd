// Package editor is the editors' web app that ingest serves under /editor/:
// server-rendered Vietnamese pages to sign in with an API key, list one's
// articles, write and edit them with photos, preview them as the public page
// will look, submit them and follow them to publication.
//
// The app is a client of ingest's public API (docs/ingest-api.md), called
// in-process through the API's http.Handler with the signed-in editor's key
// as Bearer: it can do exactly what the key may do through the API and never
// touches ingest's buckets itself. The key is kept in the session cookie,
// sealed with AES-GCM (libs/websession), so the server can recover it on
// every request while the browser cannot read it.
//
// Pages work without JavaScript; a small same-origin script adds drag and
// drop, upload progress and the live timeline. Decisions worth knowing:
//
//   - Without the script, photos travel with the form (multipart); they are
//     uploaded first and the form comes back with a row for each photo's
//     caption and credit, so nothing is submitted uncaptioned by surprise.
//     With it, each photo goes at once to POST /editor/media (CSRF token in
//     X-CSRF-Token), which forwards it to the API's POST …/media.
//   - The body is one textarea, paragraphs split on blank lines; each photo
//     says after which paragraph it stands, so an edited article keeps its
//     photos where they were.
//   - The preview is render's own page (POST {render}/v1/tenants/{t}/preview
//     with the protojson of the eventsv1.Article ingest would publish), shown
//     in an iframe's srcdoc sandboxed without scripts: it looks exactly like
//     the public page and cannot count a view or touch the editor's page.
//   - Categories, the tenant's name and the key's role come from
//     GET /v1/tenants/{t}, a read-only route for any key of the tenant that
//     ingest mounts next to this app (services/ingest/editor.go).
//   - API validation errors (English, naming field and limit) are shown in
//     Vietnamese next to the field they name; a 409 on a stale
//     base_revision keeps what was typed and offers to reload.
package editor

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // times are shown in Vietnam's zone even where the system has no zoneinfo

	"github.com/blocpress/blocpress/libs/websession"
)

// Path is where the app is mounted.
const Path = "/editor/"

// Zone is the newsroom's time zone: schedule times are typed and shown in it.
const Zone = "Asia/Ho_Chi_Minh"

// maxFormBytes bounds a form without files; photo uploads have their own limit.
const maxFormBytes = 2 << 20

//go:embed templates/*.html static/*
var assets embed.FS

// Options configure the app.
type Options struct {
	// API is ingest's public API handler; the app calls it in-process.
	API http.Handler
	// Sessions seals the session cookie; its path must be Path.
	Sessions *websession.Manager
	// RenderURL is render's internal base URL, for previews.
	RenderURL string
	// SiteURL is the public site's base URL, for photo thumbnails.
	SiteURL string
	// HTTPClient calls render; nil means a client with a 15 s timeout.
	HTTPClient *http.Client
	// MaxMediaBytes is the largest photo the app forwards.
	MaxMediaBytes int64
	Logger        *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// App is the editor web app.
type App struct {
	opts   Options
	pages  map[string]*template.Template
	static http.Handler
	zone   *time.Location
	now    func() time.Time
	client *http.Client
}

// New parses the templates and checks the options.
func New(o Options) (*App, error) {
	if o.API == nil || o.Sessions == nil || o.Logger == nil {
		return nil, errors.New("editor: API, Sessions and Logger are required")
	}
	if o.MaxMediaBytes <= 0 {
		return nil, errors.New("editor: MaxMediaBytes must be positive")
	}
	zone, err := time.LoadLocation(Zone)
	if err != nil {
		return nil, fmt.Errorf("editor: loading %s: %w", Zone, err)
	}
	a := &App{opts: o, zone: zone, now: o.Now, client: o.HTTPClient, pages: map[string]*template.Template{}}
	if a.now == nil {
		a.now = time.Now
	}
	if a.client == nil {
		a.client = &http.Client{Timeout: 15 * time.Second}
	}
	a.opts.RenderURL = strings.TrimRight(o.RenderURL, "/")
	a.opts.SiteURL = strings.TrimRight(o.SiteURL, "/")
	funcs := template.FuncMap{
		"status": statusLabel, "when": a.when, "field": fieldLabel,
		"thumb": a.thumb, "add": func(a, b int) int { return a + b },
	}
	for _, name := range []string{"login", "list", "form", "follow", "message"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("editor: parsing the %s page: %w", name, err)
		}
		a.pages[name] = t
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("editor: static files: %w", err)
	}
	a.static = http.StripPrefix(Path+"static/", http.FileServerFS(static))
	return a, nil
}

// Handler serves every page under Path.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path+"{$}", a.handleHome)
	mux.Handle("GET "+Path+"static/", a.staticHandler())
	mux.HandleFunc("GET "+Path+"login", a.handleLoginPage)
	mux.HandleFunc("POST "+Path+"login", a.handleLogin)
	mux.HandleFunc("POST "+Path+"logout", a.page(a.handleLogout))
	mux.HandleFunc("GET "+Path+"articles", a.page(a.handleList))
	mux.HandleFunc("GET "+Path+"articles/new", a.page(a.writer(a.handleNew)))
	mux.HandleFunc("POST "+Path+"articles", a.page(a.writer(a.handleSave)))
	mux.HandleFunc("GET "+Path+"articles/{id}", a.page(a.handleFollow))
	mux.HandleFunc("GET "+Path+"articles/{id}/status", a.page(a.handleFollowJSON))
	mux.HandleFunc("GET "+Path+"articles/{id}/edit", a.page(a.writer(a.handleEdit)))
	mux.HandleFunc("GET "+Path+"articles/{id}/preview", a.page(a.handlePreviewSaved))
	mux.HandleFunc("POST "+Path+"articles/{id}/unpublish", a.page(a.writer(a.handleUnpublish)))
	mux.HandleFunc("POST "+Path+"media", a.page(a.writer(a.handleUpload)))
	return mux
}

func (a *App) staticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		a.static.ServeHTTP(w, r)
	})
}

// sessionData is what the sealed cookie holds. Key is the editor's API
// key: the cookie is encrypted, so only the server reads it back.
type sessionData struct {
	Tenant string `json:"t"`
	Key    string `json:"k"`
	Role   string `json:"r"`
	Name   string `json:"n"`
	CSRF   string `json:"c"`
}

// user is a signed-in editor (or a reviewer, read-only).
type user struct {
	sessionData
	api *apiClient
}

// ReadOnly is true for reviewer keys: they may look, not write.
func (u *user) ReadOnly() bool { return u.Role == "reviewer" }

// TenantName is for the header.
func (u *user) TenantName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Tenant
}

// pageData is what every page gets.
type pageData struct {
	Title  string
	User   *user
	CSRF   string
	Error  string
	Flash  string
	Body   any
	Script bool
	// Refresh, when set, refreshes the page for browsers without JavaScript.
	Refresh int
}

// render writes a page with headers that allow only this origin's script
// and style, photos from the site, and no framing.
func (a *App) render(w http.ResponseWriter, code int, name string, d pageData) {
	if d.User != nil && d.CSRF == "" {
		d.CSRF = d.User.CSRF
	}
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		a.opts.Logger.Error("rendering an editor page", "page", name, "err", err)
		http.Error(w, "Lỗi hiển thị trang", http.StatusInternalServerError)
		return
	}
	site := a.opts.SiteURL
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The preview frame (srcdoc) inherits this policy: the public page's
	// stylesheets and photos load from the site; its scripts (the view
	// beacon) do not run, so previews count no views.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; "+
		"style-src 'self' 'unsafe-inline' "+site+"; img-src 'self' data: "+site+"; font-src 'self' "+site+
		"; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self' "+site)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func (a *App) message(w http.ResponseWriter, code int, u *user, title, msg string) {
	a.render(w, code, "message", pageData{Title: title, User: u, Body: msg})
}

var errNoSession = websession.ErrNoSession

func (a *App) currentUser(r *http.Request) (*user, error) {
	var s sessionData
	if err := a.opts.Sessions.Read(r, a.now(), &s); err != nil {
		return nil, err
	}
	if s.Tenant == "" || s.Key == "" || s.CSRF == "" {
		return nil, errNoSession
	}
	return &user{sessionData: s, api: &apiClient{h: a.opts.API, tenant: s.Tenant, key: s.Key}}, nil
}

// page guards a page: a valid session, and on POST the session's CSRF
// token (compared in constant time). Without a session a GET goes to the
// sign-in page; a key revoked meanwhile is noticed by the API (401) and
// also ends the session.
func (a *App) page(h func(http.ResponseWriter, *http.Request, *user)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := a.currentUser(r)
		if err != nil {
			a.opts.Sessions.Clear(w, r)
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/status") {
				http.Redirect(w, r, Path+"login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			a.message(w, http.StatusUnauthorized, nil, "Phiên đã hết hạn",
				"Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại; nội dung chưa lưu cần nhập lại.")
			return
		}
		if r.Method == http.MethodPost {
			if !a.checkCSRF(w, r, u.CSRF) {
				a.message(w, http.StatusForbidden, u, "Yêu cầu không hợp lệ",
					"Biểu mẫu đã cũ hoặc không đến từ trang soạn bài. Vui lòng tải lại trang và thử lại.")
				return
			}
		}
		h(w, r, u)
	}
}

// checkCSRF parses the form (multipart or not, within its limit) and
// compares its csrf field, or the X-CSRF-Token header of a script's
// upload, with the session's token.
func (a *App) checkCSRF(w http.ResponseWriter, r *http.Request, want string) bool {
	if got := r.Header.Get("X-CSRF-Token"); got != "" {
		return websession.SameToken(got, want)
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, a.opts.MaxMediaBytes*int64(maxFormPhotos)+maxFormBytes)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return false
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return false
		}
	}
	return websession.SameToken(r.PostFormValue("csrf"), want)
}

// writer guards the pages that write: a reviewer's key signs in read-only.
func (a *App) writer(h func(http.ResponseWriter, *http.Request, *user)) func(http.ResponseWriter, *http.Request, *user) {
	return func(w http.ResponseWriter, r *http.Request, u *user) {
		if u.ReadOnly() {
			a.message(w, http.StatusForbidden, u, "Chỉ được xem",
				"Khóa của người duyệt bài chỉ được xem bài, không được viết hay sửa. Hãy đăng nhập bằng khóa biên tập viên.")
			return
		}
		h(w, r, u)
	}
}

// apiFailed shows an API failure that is not the form's fault; a 401 (the
// key was revoked) ends the session.
func (a *App) apiFailed(w http.ResponseWriter, r *http.Request, u *user, doing string, err error) {
	switch statusOf(err) {
	case http.StatusUnauthorized:
		a.opts.Sessions.Clear(w, r)
		a.message(w, http.StatusUnauthorized, nil, "Khóa không còn hiệu lực", "Khóa đăng nhập đã bị thu hồi hoặc không còn hiệu lực. Vui lòng đăng nhập lại bằng khóa mới.")
	case http.StatusForbidden:
		a.message(w, http.StatusForbidden, u, "Không được phép", "Khóa này không được phép "+doing+".")
	case http.StatusNotFound:
		a.message(w, http.StatusNotFound, u, "Không tìm thấy", "Không tìm thấy bài viết hoặc đơn vị này.")
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		a.message(w, http.StatusNotImplemented, u, "Chưa hỗ trợ", "Máy chủ chưa hỗ trợ "+doing+". Vui lòng báo quản trị viên.")
	case http.StatusTooManyRequests:
		a.message(w, http.StatusTooManyRequests, u, "Quá nhiều yêu cầu", "Bạn gửi quá nhiều yêu cầu trong thời gian ngắn. Vui lòng đợi một lát rồi thử lại.")
	default:
		a.opts.Logger.Error("editor: API call failed", "doing", doing, "tenant", u.Tenant, "err", err)
		a.message(w, http.StatusBadGateway, u, "Tạm thời gián đoạn", "Không thể "+doing+" lúc này. Vui lòng thử lại sau ít phút.")
	}
}

func (a *App) handleHome(w http.ResponseWriter, r *http.Request) {
	if _, err := a.currentUser(r); err != nil {
		http.Redirect(w, r, Path+"login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Path+"articles", http.StatusSeeOther)
}

var tenantIDForm = regexp.MustCompile(`^[a-z0-9-]{2,32}$`)

type loginBody struct {
	Token  string
	Tenant string
	Next   string
}

// safeNext keeps a post-sign-in redirect inside the app.
func safeNext(next string) string { return websession.SafeNext(next, Path, Path+"articles") }

func (a *App) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := a.currentUser(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	tenant := r.URL.Query().Get("tenant")
	if !tenantIDForm.MatchString(tenant) {
		tenant = ""
	}
	a.render(w, http.StatusOK, "login", pageData{Title: "Đăng nhập",
		Body: loginBody{Token: a.opts.Sessions.LoginToken(w, r), Tenant: tenant, Next: safeNext(r.URL.Query().Get("next"))}})
}

// handleLogin checks the key the way the brief of the API allows: by
// listing the tenant's articles with it. Then the tenant's name and the
// key's role are read, and the key is sealed in the session cookie.
func (a *App) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	token := a.opts.Sessions.LoginToken(w, r)
	if err := r.ParseForm(); err != nil || !websession.SameToken(r.PostFormValue("csrf"), token) {
		a.render(w, http.StatusForbidden, "login", pageData{Title: "Đăng nhập",
			Error: "Biểu mẫu đã cũ. Vui lòng nhập lại.", Body: loginBody{Token: token, Next: Path + "articles"}})
		return
	}
	tenant := strings.ToLower(strings.TrimSpace(r.PostFormValue("tenant")))
	key := strings.TrimSpace(r.PostFormValue("key"))
	body := loginBody{Token: token, Tenant: tenant, Next: safeNext(r.PostFormValue("next"))}
	fail := func(code int, msg string) {
		a.render(w, code, "login", pageData{Title: "Đăng nhập", Error: msg, Body: body})
	}
	if !tenantIDForm.MatchString(tenant) {
		fail(http.StatusUnprocessableEntity, "Mã đơn vị gồm 2–32 chữ thường không dấu, chữ số hoặc dấu gạch ngang, ví dụ: hungyen.")
		return
	}
	if key == "" || len(key) > 200 {
		fail(http.StatusUnprocessableEntity, "Hãy nhập khóa truy cập được cấp cho bạn.")
		return
	}
	api := &apiClient{h: a.opts.API, tenant: tenant, key: key}
	// The tenant route checks the key (401), its tenant (403) and the
	// tenant (404), and tells the key's role and the tenant's name.
	info, err := api.tenantInfo(r.Context())
	if err != nil {
		switch statusOf(err) {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			a.opts.Logger.Info("editor sign-in refused", "tenant", tenant, "status", statusOf(err))
			fail(http.StatusUnauthorized, "Khóa không đúng, đã bị thu hồi, hoặc không thuộc đơn vị này.")
		case http.StatusTooManyRequests:
			fail(http.StatusTooManyRequests, "Quá nhiều lần thử. Vui lòng đợi một lát rồi thử lại.")
		default:
			a.opts.Logger.Error("editor sign-in: checking the key", "tenant", tenant, "err", err)
			fail(http.StatusServiceUnavailable, "Không kiểm tra được khóa lúc này. Vui lòng thử lại sau ít phút.")
		}
		return
	}
	s := sessionData{Tenant: tenant, Key: key, Role: info.Role, Name: info.Name, CSRF: websession.Token()}
	if err := a.opts.Sessions.Set(w, r, s, a.now()); err != nil {
		a.opts.Logger.Error("editor sign-in: sealing the session", "err", err)
		fail(http.StatusInternalServerError, "Không tạo được phiên làm việc. Vui lòng thử lại.")
		return
	}
	a.opts.Logger.Info("editor signed in", "tenant", tenant, "role", info.Role)
	next := body.Next
	if s.Role == "reviewer" && strings.Contains(next, "/new") {
		next = Path + "articles"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (a *App) handleLogout(w http.ResponseWriter, r *http.Request, _ *user) {
	a.opts.Sessions.Clear(w, r)
	http.Redirect(w, r, Path+"login", http.StatusSeeOther)
}

// tenantInfo reads the tenant's categories for a form; on failure the form
// still works with the category typed as a slug.
func (a *App) categories(ctx context.Context, u *user) []category {
	info, err := u.api.tenantInfo(ctx)
	if err != nil {
		a.opts.Logger.Warn("editor: reading the tenant's categories", "tenant", u.Tenant, "err", err)
		return nil
	}
	return info.Categories
}

// thumb is a photo's smallest rendition on the site.
func (a *App) thumb(tenant, media string) string {
	return a.opts.SiteURL + "/" + tenant + "/media/" + media + "/320.jpg"
}
