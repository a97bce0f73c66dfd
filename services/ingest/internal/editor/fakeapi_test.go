package editor

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// fakeAPI implements the part of docs/ingest-api.md the editor calls, in
// memory, so the handlers' logic is tested on its own; the real API is
// exercised by deploy/e2e's browser test.
type fakeAPI struct {
	mu       sync.Mutex
	keys     map[string]string // key → role, all of tenant "hungyen"
	articles map[string]*fakeArticle
	media    map[string]bool
	calls    []string   // "METHOD path" of every call
	query    url.Values // of the last list call
	lastBody []byte
	next     int
}

type fakeArticle struct {
	status  string
	rev     int64
	doc     articleDocument
	history []historyEntry
	reasons []string
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{keys: map[string]string{"bp_editor": "editor", "bp_reviewer": "reviewer"},
		articles: map[string]*fakeArticle{}, media: map[string]bool{}}
}

func (f *fakeAPI) problem(w http.ResponseWriter, code int, v map[string]any) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	role, ok := f.keys[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		f.problem(w, 401, map[string]any{"detail": "the API key is not valid"})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/tenants/hungyen")
	if !ok {
		f.problem(w, 403, map[string]any{"detail": "this API key belongs to another tenant"})
		return
	}
	writes := r.Method != http.MethodGet
	if writes && role == "reviewer" {
		f.problem(w, 403, map[string]any{"detail": "a reviewer key cannot submit"})
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.lastBody = body
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case rest == "" && r.Method == http.MethodGet:
		reply(200, tenantInfo{ID: "hungyen", Name: "Đảng bộ Khối các cơ quan tỉnh Hưng Yên", Role: role,
			Categories: []category{{"tin-tuc", "Tin tức"}, {"xay-dung-dang", "Xây dựng Đảng"}}})
	case rest == "/media" && r.Method == http.MethodPost:
		sum := sha256.Sum256(body)
		id := hex.EncodeToString(sum[:])
		f.media[id] = true
		reply(202, map[string]string{"id": id, "status_url": "/v1/tenants/hungyen/media/" + id})
	case rest == "/articles" && r.Method == http.MethodGet:
		f.query = r.URL.Query()
		var items []summary
		for id, a := range f.articles {
			// Like ingest's list: the status entry's history comes along.
			items = append(items, summary{ID: id, Revision: a.rev, Title: a.doc.Title, Category: a.doc.Category, Status: a.status,
				Reasons: a.reasons, History: a.history})
		}
		next := ""
		if r.URL.Query().Get("cursor") == "" {
			next = "opaque-2"
		}
		reply(200, listPage{Items: items, NextCursor: next})
	case rest == "/articles" && r.Method == http.MethodPost:
		var doc articleDocument
		if err := json.Unmarshal(body, &doc); err != nil {
			f.problem(w, 400, map[string]any{"detail": err.Error()})
			return
		}
		if f.invalid(w, doc) {
			return
		}
		f.next++
		id := fmt.Sprintf("a%015d", f.next)
		f.store(id, &fakeArticle{}, doc)
		reply(201, written{ID: id, Revision: 1})
	case strings.HasPrefix(rest, "/articles/") && strings.HasSuffix(rest, "/unpublish") && r.Method == http.MethodPost:
		a, ok := f.articles[strings.TrimSuffix(strings.TrimPrefix(rest, "/articles/"), "/unpublish")]
		var req unpublishRequest
		if !ok || json.Unmarshal(body, &req) != nil {
			f.problem(w, 404, map[string]any{"detail": "no such article"})
			return
		}
		if req.Mode == "redirect" && !strings.HasPrefix(req.RedirectTo, "http") && len(req.RedirectTo) != 16 {
			f.problem(w, 422, map[string]any{"detail": "redirect_to is not an article id or URL",
				"errors": []fieldError{{Field: "redirect_to", Message: "must be an article id or an absolute http(s) URL"}}})
			return
		}
		a.status = "unpublished"
		a.reasons = []string{req.Mode + ": " + req.Reason}
		reply(202, map[string]string{"status": "unpublished"})
	case strings.HasPrefix(rest, "/articles/"):
		id := strings.TrimPrefix(rest, "/articles/")
		a, ok := f.articles[id]
		if !ok {
			f.problem(w, 404, map[string]any{"detail": "no such article"})
			return
		}
		switch r.Method {
		case http.MethodGet:
			doc := a.doc
			reply(200, articleStatus{summary: summary{ID: id, Revision: a.rev, Title: doc.Title, Status: a.status, History: a.history, Reasons: a.reasons,
				PublicURL: map[bool]string{true: "http://site.example/hungyen/bai-viet/x-" + id + ".html"}[a.status == "published"]},
				Article: &doc})
		case http.MethodPut:
			var doc articleDocument
			_ = json.Unmarshal(body, &doc)
			if doc.BaseRevision != a.rev {
				cur := a.doc
				f.problem(w, 409, map[string]any{"detail": "stale", "current_revision": a.rev, "article": cur})
				return
			}
			if f.invalid(w, doc) {
				return
			}
			f.store(id, a, doc)
			reply(202, written{ID: id, Revision: a.rev})
		}
	default:
		f.problem(w, 404, map[string]any{"detail": "no route"})
	}
}

// invalid checks like ingest does: title required and at most 20
// characters, every photo captioned (a tenant rule).
func (f *fakeAPI) invalid(w http.ResponseWriter, doc articleDocument) bool {
	var errs []fieldError
	if doc.Title == "" {
		errs = append(errs, fieldError{Field: "title", Message: "is required"})
	} else if n := utf8.RuneCountInString(doc.Title); n > 20 {
		errs = append(errs, fieldError{Field: "title", Message: fmt.Sprintf("must be at most 20 characters, got %d", n), Limit: 20})
	}
	for i, b := range doc.Body {
		if b.Type == "image" && b.Caption == "" {
			errs = append(errs, fieldError{Field: fmt.Sprintf("body[%d].caption", i), Message: "is required"})
		}
	}
	if len(errs) == 0 {
		return false
	}
	f.problem(w, 422, map[string]any{"detail": "the article is not valid", "errors": errs})
	return true
}

func (f *fakeAPI) store(id string, a *fakeArticle, doc articleDocument) {
	a.rev++
	a.status = "submitted"
	if doc.Status == "draft" {
		a.status = "draft"
	}
	doc.Status, doc.BaseRevision = "", 0
	a.doc = doc
	a.history = append(a.history, historyEntry{Status: a.status, Revision: a.rev, At: time.Date(2026, 11, 23, 7, 5, 0, 0, time.UTC), By: "key"})
	f.articles[id] = a
}

func (f *fakeAPI) called(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}
