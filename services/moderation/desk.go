package main

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
	"github.com/blocpress/blocpress/services/moderation/internal/vntext"
)

// maxNote bounds a reviewer's note, in characters.
const maxNote = 2000

// maxFormBytes bounds a request body of the desk (JSON or form).
const maxFormBytes = 64 << 10

var keyIDPattern = regexp.MustCompile(`^([0-9a-f]{12}|auto)$`)

// routes is the review desk: the JSON API under /v1 (Bearer reviewer key)
// and the pages under /desk/ (session cookie); httpx adds /healthz,
// /readyz and /metrics.
func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/tenants/{tenant}/review/queue", s.api(reviewersOnly, s.handleQueue))
	mux.HandleFunc("GET /v1/tenants/{tenant}/review/articles/{id}", s.api(reviewersOnly, s.handleReviewArticle))
	mux.HandleFunc("POST /v1/tenants/{tenant}/review/articles/{id}/decision", s.api(reviewersOnly, s.handleDecision))
	mux.HandleFunc("GET /v1/tenants/{tenant}/review/audit", s.api(reviewersOnly, s.handleAudit))
	mux.HandleFunc("GET /v1/tenants/{tenant}/articles/{id}/verdict", s.api(anyRole, s.handleVerdict))

	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, deskPath, http.StatusSeeOther) })
	mux.HandleFunc("GET /desk/static/desk.css", s.handleCSS)
	mux.HandleFunc("GET /desk/login", s.handleLoginPage)
	mux.HandleFunc("POST /desk/login", s.handleLogin)
	mux.HandleFunc("POST /desk/logout", s.page(s.handleLogout))
	mux.HandleFunc("GET /desk/{$}", s.page(s.handleQueuePage))
	mux.HandleFunc("GET /desk/articles/{id}", s.page(s.handleArticlePage))
	mux.HandleFunc("POST /desk/articles/{id}/decision", s.page(s.handleDecisionForm))
	mux.HandleFunc("GET /desk/audit", s.page(s.handleAuditPage))
	return mux
}

// Who may call an API route.
type roles func(role string) bool

func reviewersOnly(role string) bool { return role == apikey.RoleReviewer }
func anyRole(role string) bool       { return apikey.ValidRole(role) }

// apiCaller is an authenticated API request.
type apiCaller struct {
	tenant *tenant.Tenant
	keyID  string
	role   string
}

// api guards an API route: the tenant id in the path first (before it
// reaches a key, a subject or a log line), then the key (401), its tenant
// and role (403), and the tenant itself (404).
func (s *service) api(allowed roles, h func(http.ResponseWriter, *http.Request, *apiCaller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("tenant")
		if err := tenant.ValidateID(id); err != nil {
			httpx.Error(w, http.StatusBadRequest, err.Error(), httpx.FieldError{Field: "tenant", Message: tenant.ErrInvalidID.Error()})
			return
		}
		key, ok := apikey.FromRequest(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="blocpress"`)
			httpx.Error(w, http.StatusUnauthorized, "an API key is required: Authorization: Bearer <key>")
			return
		}
		rec, err := s.keys.Lookup(r.Context(), key)
		if errors.Is(err, apikey.ErrUnknown) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="blocpress"`)
			httpx.Error(w, http.StatusUnauthorized, "the API key is not valid")
			return
		}
		if err != nil {
			s.unavailable(w, r, "checking the API key", err)
			return
		}
		if rec.Tenant != id {
			httpx.Error(w, http.StatusForbidden, "this API key belongs to another tenant")
			return
		}
		if !allowed(rec.Role) {
			httpx.Error(w, http.StatusForbidden, "this route needs a reviewer key; this one is an "+rec.Role+" key")
			return
		}
		t, err := s.tenants.Get(r.Context(), id)
		if errors.Is(err, tenant.ErrNotFound) {
			httpx.Error(w, http.StatusNotFound, "tenant "+id+" does not exist")
			return
		}
		if err != nil {
			s.unavailable(w, r, "reading the tenant", err)
			return
		}
		h(w, r, &apiCaller{tenant: t, keyID: apikey.ID(key), role: rec.Role})
	}
}

func (s *service) unavailable(w http.ResponseWriter, r *http.Request, doing string, err error) {
	s.log.Error(doing, "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	httpx.Error(w, http.StatusServiceUnavailable, "storage is unavailable while "+doing+"; retry later")
}

// queueItem is one held article in the queue.
type queueItem struct {
	Article     string         `json:"article"`
	Revision    int64          `json:"revision"`
	Title       string         `json:"title"`
	Category    string         `json:"category"`
	SubmittedAt time.Time      `json:"submitted_at"`
	HeldAt      time.Time      `json:"held_at"`
	Findings    map[string]int `json:"findings"`
	Policy      string         `json:"policy"`
	URL         string         `json:"url"`
}

func (s *service) handleQueue(w http.ResponseWriter, _ *http.Request, c *apiCaller) {
	items := []queueItem{}
	for _, e := range s.index.queue(c.tenant.ID) {
		items = append(items, queueItem{Article: e.Article, Revision: e.Revision, Title: e.Title, Category: e.Category,
			SubmittedAt: e.SubmittedAt, HeldAt: e.At, Findings: e.Findings, Policy: e.Policy, URL: deskPath + "articles/" + e.Article})
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"tenant": c.tenant.ID, "articles": items})
}

// fieldText is one text field of an article in NFC, which findings'
// offsets refer to.
type fieldText struct {
	Field string `json:"field"`
	Text  string `json:"text"`
}

// articleFields lists an article's text fields as the checks saw them.
func articleFields(a *eventsv1.Article) []fieldText {
	out := []fieldText{{"title", vntext.NFC(strings.TrimSpace(a.GetTitle()))}, {"lead", vntext.NFC(a.GetLead())}}
	for i, b := range a.GetBody() {
		f := "body[" + itoa(i) + "]"
		if p := b.GetParagraph(); p != nil {
			out = append(out, fieldText{f, vntext.NFC(p.GetText())})
		}
		if img := b.GetImage(); img != nil {
			out = append(out, fieldText{f + ".caption", vntext.NFC(img.GetCaption())}, fieldText{f + ".credit", vntext.NFC(img.GetCredit())})
		}
	}
	return append(out, fieldText{"author", vntext.NFC(a.GetAuthor())}, fieldText{"source.name", vntext.NFC(a.GetSource().GetName())},
		fieldText{"source.url", strings.TrimSpace(a.GetSource().GetUrl())})
}

// verdictView is a record as the API shows it.
type verdictView struct {
	Tenant      string       `json:"tenant"`
	Article     string       `json:"article"`
	Revision    int64        `json:"revision"`
	Title       string       `json:"title"`
	State       string       `json:"state"`
	SubmittedAt time.Time    `json:"submitted_at"`
	Verdict     Verdict      `json:"verdict"`
	VerdictAt   time.Time    `json:"verdict_at"`
	Review      *review      `json:"review,omitempty"`
	Fields      []fieldText  `json:"fields,omitempty"`
	Audit       []auditEntry `json:"audit,omitempty"`
	URL         string       `json:"url,omitempty"`
}

func viewOfRecord(r *record) verdictView {
	return verdictView{Tenant: r.Tenant, Article: r.Article, Revision: r.Revision, Title: r.Title, State: r.State,
		SubmittedAt: r.SubmittedAt, Verdict: r.Verdict, VerdictAt: r.VerdictAt, Review: r.Review}
}

// articleRecord reads the record of the {id} in the path, answering the
// error itself.
func (s *service) articleRecord(w http.ResponseWriter, r *http.Request, tenantID string) (*record, bool) {
	id := r.PathValue("id")
	if !articleIDPattern.MatchString(id) {
		httpx.Error(w, http.StatusBadRequest, "an article id is 16 lower-case letters and digits",
			httpx.FieldError{Field: "id", Message: "must match [a-z0-9]{16}"})
		return nil, false
	}
	rec, _, err := s.getRecord(r.Context(), tenantID, id)
	if errors.Is(err, errNoRecord) {
		httpx.Error(w, http.StatusNotFound, "moderation has no article "+id+" in tenant "+tenantID)
		return nil, false
	}
	if err != nil {
		s.unavailable(w, r, "reading the moderation record", err)
		return nil, false
	}
	return rec, true
}

// handleVerdict is an article's verdict, for its editor as well as reviewers.
func (s *service) handleVerdict(w http.ResponseWriter, r *http.Request, c *apiCaller) {
	if rec, ok := s.articleRecord(w, r, c.tenant.ID); ok {
		httpx.JSON(w, http.StatusOK, viewOfRecord(rec))
	}
}

func (s *service) handleReviewArticle(w http.ResponseWriter, r *http.Request, c *apiCaller) {
	rec, ok := s.articleRecord(w, r, c.tenant.ID)
	if !ok {
		return
	}
	a, err := s.submitted(r.Context(), rec)
	if err != nil {
		s.unavailable(w, r, "reading the article", err)
		return
	}
	audit, err := s.auditOfArticle(r.Context(), c.tenant.ID, rec.Article)
	if err != nil {
		s.unavailable(w, r, "reading the audit trail", err)
		return
	}
	v := viewOfRecord(rec)
	v.Fields, v.Audit, v.URL = articleFields(a), audit, deskPath+"articles/"+rec.Article
	httpx.JSON(w, http.StatusOK, v)
}

type decisionRequest struct {
	Decision string `json:"decision"`
	Note     string `json:"note"`
	// Revision, when given, must be the revision the reviewer looked at.
	Revision int64 `json:"revision"`
}

// check validates a decision; the note is trimmed and put in NFC.
func (d *decisionRequest) check() []httpx.FieldError {
	var errs []httpx.FieldError
	d.Note = vntext.NFC(strings.TrimSpace(d.Note))
	if d.Decision != decisionApprove && d.Decision != decisionReject {
		errs = append(errs, httpx.FieldError{Field: "decision", Message: `must be "approve" or "reject"`})
	}
	if d.Decision == decisionReject && d.Note == "" {
		errs = append(errs, httpx.FieldError{Field: "note", Message: "a rejection needs a note telling the editor why"})
	}
	if n := utf8.RuneCountInString(d.Note); n > maxNote || !utf8.ValidString(d.Note) {
		errs = append(errs, httpx.FieldError{Field: "note", Message: "must be valid text of at most 2000 characters", Limit: maxNote})
	}
	return errs
}

func (s *service) handleDecision(w http.ResponseWriter, r *http.Request, c *apiCaller) {
	id := r.PathValue("id")
	if !articleIDPattern.MatchString(id) {
		httpx.Error(w, http.StatusBadRequest, "an article id is 16 lower-case letters and digits",
			httpx.FieldError{Field: "id", Message: "must match [a-z0-9]{16}"})
		return
	}
	var req decisionRequest
	if code, err := httpx.DecodeJSON(w, r, maxFormBytes, &req); err != nil {
		httpx.Error(w, code, err.Error())
		return
	}
	if errs := req.check(); len(errs) > 0 {
		httpx.Error(w, http.StatusUnprocessableEntity, "the decision is not valid", errs...)
		return
	}
	rec, err := s.decideReview(r.Context(), c.tenant.ID, id, req.Revision, req.Decision, req.Note, reviewer{keyID: c.keyID})
	switch {
	case errors.Is(err, errNoRecord):
		httpx.Error(w, http.StatusNotFound, "moderation has no article "+id+" in tenant "+c.tenant.ID)
	case errors.Is(err, errDecided):
		httpx.Error(w, http.StatusConflict, "the article is no longer waiting for a decision: it is "+rec.State+decidedBy(rec))
	case errors.Is(err, errStale):
		httpx.Error(w, http.StatusConflict, "revision "+itoa64(rec.Revision)+" is the current one; look at it before deciding")
	case err != nil:
		s.unavailable(w, r, "recording the decision", err)
	default:
		httpx.JSON(w, http.StatusOK, viewOfRecord(rec))
	}
}

func decidedBy(r *record) string {
	if r.Review == nil {
		return ""
	}
	return " (decided by key " + r.Review.Reviewer + " at " + r.Review.At.UTC().Format(time.RFC3339) + ")"
}

// handleAudit lists the audit trail of one article (?article=) or one
// reviewer (?reviewer=<key id>, or "auto" for moderation's own verdicts).
func (s *service) handleAudit(w http.ResponseWriter, r *http.Request, c *apiCaller) {
	q := r.URL.Query()
	var entries []auditEntry
	var err error
	switch article, rev := q.Get("article"), q.Get("reviewer"); {
	case article != "" && articleIDPattern.MatchString(article):
		entries, err = s.auditOfArticle(r.Context(), c.tenant.ID, article)
	case rev != "" && keyIDPattern.MatchString(rev):
		entries, err = s.auditOfActor(r.Context(), c.tenant.ID, rev)
	default:
		httpx.Error(w, http.StatusBadRequest, "give ?article=<article id> or ?reviewer=<key id>",
			httpx.FieldError{Field: "article", Message: "an article id, or reviewer: 12 hex digits of a key id or \"auto\""})
		return
	}
	if err != nil {
		s.unavailable(w, r, "reading the audit trail", err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"entries": entries})
}
