package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the desk shows times in Vietnam's zone even where the system has no zoneinfo

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/libs/websession"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
	"github.com/blocpress/blocpress/services/moderation/internal/vntext"
)

//go:embed templates/*.html templates/desk.css
var templateFS embed.FS

// pages are the review desk's templates, each a page with the layout.
type pages struct {
	byName map[string]*template.Template
	css    []byte
}

func parsePages() (*pages, error) {
	funcs := template.FuncMap{
		"sev": severityLabel, "rule": ruleLabel, "field": fieldLabel, "state": stateLabel,
		"when": dateTimeVN, "decision": decisionLabel,
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range []string{"login", "queue", "article", "audit", "message"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing the %s page: %w", name, err)
		}
		p.byName[name] = t
	}
	css, err := templateFS.ReadFile("templates/desk.css")
	if err != nil {
		return nil, fmt.Errorf("reading the desk's stylesheet: %w", err)
	}
	p.css = css
	return p, nil
}

// deskUser is a signed-in reviewer.
type deskUser struct {
	tenant  *tenant.Tenant
	keyID   string
	name    string
	csrf    string
	session session
}

// pageData is what every page gets.
type pageData struct {
	Title string
	User  *deskUser
	CSRF  string
	Error string
	Flash string
	Body  any
}

// render writes a page; the security headers allow no script, images
// only from this service and the site, and no framing.
func (s *service) render(w http.ResponseWriter, code int, name string, d pageData) {
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("rendering a desk page", "page", name, "err", err)
		http.Error(w, "Lỗi hiển thị trang", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' "+s.cfg.SiteURL+
		"; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func (s *service) handleCSS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.pages.css)
}

// page guards a desk page: a valid session whose key still exists and is
// still a reviewer's of the session's tenant, and on POST the session's
// CSRF token. Without one it sends the browser to the sign-in page.
func (s *service) page(h func(http.ResponseWriter, *http.Request, *deskUser)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := s.deskUser(r)
		if errors.Is(err, errNoSession) {
			s.sessions.clear(w, r)
			if r.Method == http.MethodGet {
				http.Redirect(w, r, deskPath+"login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.render(w, http.StatusUnauthorized, "message", pageData{Title: "Phiên đã hết hạn",
				Error: "Phiên làm việc đã hết hạn hoặc khóa không còn hiệu lực. Vui lòng đăng nhập lại."})
			return
		}
		if err != nil {
			s.log.Error("checking a desk session", "err", err)
			s.render(w, http.StatusServiceUnavailable, "message", pageData{Title: "Tạm thời gián đoạn",
				Error: "Không đọc được dữ liệu lúc này. Vui lòng thử lại sau ít phút."})
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil || !sameToken(r.PostFormValue("csrf"), u.csrf) {
				s.render(w, http.StatusForbidden, "message", pageData{Title: "Yêu cầu không hợp lệ", User: u, CSRF: u.csrf,
					Error: "Biểu mẫu đã cũ hoặc không đến từ bàn duyệt. Vui lòng tải lại trang và thử lại."})
				return
			}
		}
		h(w, r, u)
	}
}

// TenantName and Name are for the pages' header.
func (u *deskUser) TenantName() string { return u.tenant.Name }
func (u *deskUser) Name() string       { return u.name }

var errNoSession = errors.New("no valid session")

func (s *service) deskUser(r *http.Request) (*deskUser, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, errNoSession
	}
	sess, ok := s.sessions.decode(c.Value, s.now())
	if !ok {
		return nil, errNoSession
	}
	rec, err := s.keys.LookupHash(r.Context(), sess.KeyHash)
	if errors.Is(err, apikey.ErrUnknown) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	if rec.Tenant != sess.Tenant || rec.Role != apikey.RoleReviewer {
		return nil, errNoSession
	}
	t, err := s.tenants.Get(r.Context(), sess.Tenant)
	if errors.Is(err, tenant.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	return &deskUser{tenant: t, keyID: apikey.IDOf(sess.KeyHash), name: sess.Name, csrf: sess.CSRF, session: sess}, nil
}

type loginBody struct {
	Token string
	Next  string
	Name  string
}

// safeNext keeps a post-sign-in redirect on the desk.
func safeNext(next string) string { return websession.SafeNext(next, deskPath, deskPath) }

func (s *service) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := s.deskUser(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "login", pageData{Title: "Đăng nhập bàn duyệt bài",
		Body: loginBody{Token: s.sessions.loginToken(w, r), Next: safeNext(r.URL.Query().Get("next"))}})
}

// handleLogin signs a reviewer in with their key: the key is checked, then
// forgotten; the session keeps its hash.
func (s *service) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	token := s.sessions.loginToken(w, r)
	if err := r.ParseForm(); err != nil || !sameToken(r.PostFormValue("csrf"), token) {
		s.render(w, http.StatusForbidden, "login", pageData{Title: "Đăng nhập bàn duyệt bài",
			Error: "Biểu mẫu đã cũ. Vui lòng nhập lại.", Body: loginBody{Token: token, Next: deskPath}})
		return
	}
	key := strings.TrimSpace(r.PostFormValue("key"))
	name := vntext.NFC(strings.TrimSpace(r.PostFormValue("name")))
	if len([]rune(name)) > 80 {
		name = string([]rune(name)[:80])
	}
	body := loginBody{Token: token, Next: safeNext(r.PostFormValue("next")), Name: name}
	rec, err := s.keys.Lookup(r.Context(), key)
	if err != nil && !errors.Is(err, apikey.ErrUnknown) {
		s.log.Error("checking a reviewer key", "err", err)
		s.render(w, http.StatusServiceUnavailable, "login", pageData{Title: "Đăng nhập bàn duyệt bài",
			Error: "Không kiểm tra được khóa lúc này. Vui lòng thử lại sau ít phút.", Body: body})
		return
	}
	if err != nil || rec.Role != apikey.RoleReviewer {
		s.log.Info("desk sign-in refused", "known_key", err == nil, "role", rec.Role)
		s.render(w, http.StatusUnauthorized, "login", pageData{Title: "Đăng nhập bàn duyệt bài",
			Error: "Khóa không đúng hoặc không phải khóa của người duyệt bài.", Body: body})
		return
	}
	now := s.now()
	sess := session{Tenant: rec.Tenant, KeyHash: apikey.Hash(key), Name: name, Expires: now.Add(s.cfg.SessionTTL).Unix(), CSRF: randomToken()}
	s.sessions.set(w, r, sess, now)
	s.log.Info("reviewer signed in", "tenant", rec.Tenant, "key_id", apikey.ID(key))
	http.Redirect(w, r, body.Next, http.StatusSeeOther)
}

func (s *service) handleLogout(w http.ResponseWriter, r *http.Request, _ *deskUser) {
	s.sessions.clear(w, r)
	http.Redirect(w, r, deskPath+"login", http.StatusSeeOther)
}

type queueBody struct {
	Items []*indexEntry
}

func (s *service) handleQueuePage(w http.ResponseWriter, r *http.Request, u *deskUser) {
	d := pageData{Title: "Bài chờ duyệt", User: u, CSRF: u.csrf, Body: queueBody{Items: s.index.queue(u.tenant.ID)}}
	if id := r.URL.Query().Get("decided"); articleIDPattern.MatchString(id) {
		if rec, _, err := s.getRecord(r.Context(), u.tenant.ID, id); err == nil && rec.Review != nil {
			d.Flash = fmt.Sprintf("Đã %s bài «%s».", decisionLabel(rec.Review.Decision), rec.Title)
		}
	}
	s.render(w, http.StatusOK, "queue", d)
}

// findingView is a finding numbered for the page.
type findingView struct {
	Finding
	N int
}

// articleBody is the article page: the findings, the page preview with
// the findings marked in place (or not, with ?clean=1), the decision form
// and the article's audit trail.
type articleBody struct {
	Rec       *record
	Findings  []findingView
	Preview   preview
	Clean     bool
	CanDecide bool
	Audit     []auditEntry
	Note      string
}

func (s *service) handleArticlePage(w http.ResponseWriter, r *http.Request, u *deskUser) {
	s.articlePage(w, r, u, http.StatusOK, "", "")
}

func (s *service) articlePage(w http.ResponseWriter, r *http.Request, u *deskUser, code int, errMsg, note string) {
	id := r.PathValue("id")
	if !articleIDPattern.MatchString(id) {
		s.render(w, http.StatusNotFound, "message", pageData{Title: "Không tìm thấy bài", User: u, CSRF: u.csrf, Error: "Mã bài không hợp lệ."})
		return
	}
	rec, _, err := s.getRecord(r.Context(), u.tenant.ID, id)
	if errors.Is(err, errNoRecord) {
		s.render(w, http.StatusNotFound, "message", pageData{Title: "Không tìm thấy bài", User: u, CSRF: u.csrf, Error: "Không có bài này trong hệ thống duyệt."})
		return
	}
	var a *eventsv1.Article
	var audit []auditEntry
	if err == nil {
		a, err = s.submitted(r.Context(), rec)
	}
	if err == nil {
		audit, err = s.auditOfArticle(r.Context(), u.tenant.ID, id)
	}
	if err != nil {
		s.log.Error("reading an article for the desk", "article", id, "err", err)
		s.render(w, http.StatusServiceUnavailable, "message", pageData{Title: "Tạm thời gián đoạn", User: u, CSRF: u.csrf,
			Error: "Không đọc được bài lúc này. Vui lòng thử lại sau ít phút."})
		return
	}
	clean := r.URL.Query().Get("clean") == "1"
	body := articleBody{Rec: rec, Clean: clean, CanDecide: rec.State == stateHeld, Audit: audit, Note: note}
	for i, f := range rec.Verdict.Findings {
		body.Findings = append(body.Findings, findingView{Finding: f, N: i + 1})
	}
	body.Preview = s.preview(u.tenant, a, rec.Verdict.Findings, clean)
	s.render(w, code, "article", pageData{Title: rec.Title, User: u, CSRF: u.csrf, Error: errMsg, Body: body})
}

func (s *service) handleDecisionForm(w http.ResponseWriter, r *http.Request, u *deskUser) {
	id := r.PathValue("id")
	rev, _ := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
	req := decisionRequest{Decision: r.PostFormValue("decision"), Note: r.PostFormValue("note"), Revision: rev}
	if errs := req.check(); len(errs) > 0 || !articleIDPattern.MatchString(id) {
		msg := "Quyết định không hợp lệ."
		if len(errs) > 0 && errs[0].Field == "note" {
			msg = "Khi từ chối, hãy ghi rõ lý do để biên tập viên sửa bài (tối đa 2000 ký tự)."
		}
		s.articlePage(w, r, u, http.StatusUnprocessableEntity, msg, req.Note)
		return
	}
	rec, err := s.decideReview(r.Context(), u.tenant.ID, id, req.Revision, req.Decision, req.Note, reviewer{keyID: u.keyID, name: u.name})
	switch {
	case errors.Is(err, errNoRecord):
		s.render(w, http.StatusNotFound, "message", pageData{Title: "Không tìm thấy bài", User: u, CSRF: u.csrf, Error: "Không có bài này trong hệ thống duyệt."})
	case errors.Is(err, errDecided):
		msg := "Bài này không còn chờ duyệt (" + stateLabelLower(rec.State) + ")."
		if rec.Review != nil {
			msg = fmt.Sprintf("Bài này đã được %s lúc %s bởi %s.", decisionLabel(rec.Review.Decision), dateTimeVN(rec.Review.At), reviewerLabel(rec.Review.Name, rec.Review.Reviewer))
		}
		s.articlePage(w, r, u, http.StatusConflict, msg, "")
	case errors.Is(err, errStale):
		s.articlePage(w, r, u, http.StatusConflict, "Bài vừa có phiên bản mới; hãy xem lại trước khi quyết định.", req.Note)
	case err != nil:
		s.log.Error("recording a decision", "article", id, "err", err)
		s.articlePage(w, r, u, http.StatusServiceUnavailable, "Chưa ghi được quyết định. Vui lòng thử lại sau ít phút.", req.Note)
	default:
		http.Redirect(w, r, deskPath+"?decided="+id, http.StatusSeeOther)
	}
}

type auditBody struct {
	Heading string
	Entries []auditEntry
}

// handleAuditPage lists the audit trail of an article (?article=) or a
// reviewer (?reviewer=; by default the signed-in reviewer).
func (s *service) handleAuditPage(w http.ResponseWriter, r *http.Request, u *deskUser) {
	q := r.URL.Query()
	var body auditBody
	var err error
	switch article, rev := q.Get("article"), q.Get("reviewer"); {
	case articleIDPattern.MatchString(article):
		body.Heading = "Nhật ký duyệt bài " + article
		body.Entries, err = s.auditOfArticle(r.Context(), u.tenant.ID, article)
	case keyIDPattern.MatchString(rev):
		body.Heading = "Nhật ký của " + reviewerLabel("", rev)
		body.Entries, err = s.auditOfActor(r.Context(), u.tenant.ID, rev)
	default:
		body.Heading = "Nhật ký duyệt của tôi"
		body.Entries, err = s.auditOfActor(r.Context(), u.tenant.ID, u.keyID)
	}
	if err != nil {
		s.log.Error("reading the audit trail", "err", err)
		s.render(w, http.StatusServiceUnavailable, "message", pageData{Title: "Tạm thời gián đoạn", User: u, CSRF: u.csrf,
			Error: "Không đọc được nhật ký lúc này."})
		return
	}
	s.render(w, http.StatusOK, "audit", pageData{Title: body.Heading, User: u, CSRF: u.csrf, Body: body})
}

// Labels in Vietnamese.

func stateLabel(state string) string {
	switch state {
	case stateApproved:
		return "Đã duyệt"
	case stateHeld:
		return "Chờ duyệt"
	case stateRejected:
		return "Bị từ chối"
	}
	return state
}

func stateLabelLower(state string) string {
	switch state {
	case stateApproved:
		return "đã được duyệt"
	case stateHeld:
		return "đang chờ duyệt"
	case stateRejected:
		return "đã bị từ chối"
	}
	return state
}

func decisionLabel(d string) string {
	switch d {
	case decisionApprove:
		return "duyệt đăng"
	case decisionHold:
		return "giữ lại chờ duyệt"
	case decisionReject:
		return "từ chối"
	}
	return d
}

func reviewerLabel(name, keyID string) string {
	switch {
	case keyID == actorAuto:
		return "hệ thống kiểm duyệt tự động"
	case name != "":
		return name + " (khóa " + keyID + ")"
	}
	return "khóa " + keyID
}

var vietnam = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil { // cannot happen with time/tzdata linked in
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}()

var weekdays = [...]string{"Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"}

// dateTimeVN is "Thứ Tư, 24/04/2019, 15:55" in Vietnam's time.
func dateTimeVN(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(vietnam)
	return weekdays[t.Weekday()] + ", " + t.Format("02/01/2006, 15:04")
}

func itoa(i int) string     { return strconv.Itoa(i) }
func itoa64(i int64) string { return strconv.FormatInt(i, 10) }
