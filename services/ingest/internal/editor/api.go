package editor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"
)

// apiClient calls ingest's public API in-process, through its http.Handler,
// with the signed-in editor's key: the app can do exactly what the key may
// do through the API, and nothing behind its back.
type apiClient struct {
	h      http.Handler
	tenant string
	key    string
}

// apiError is an answer other than 2xx: the status and the problem JSON.
type apiError struct {
	Status  int
	Problem problem
}

func (e *apiError) Error() string {
	return fmt.Sprintf("ingest API answered %d: %s", e.Status, e.Problem.Detail)
}

// problem is RFC 9457 problem JSON as httpx writes it.
type problem struct {
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Errors []fieldError `json:"errors"`
	// CurrentRevision and Article come with a 409 on a stale base_revision.
	CurrentRevision int64            `json:"current_revision"`
	Article         *articleDocument `json:"article"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Limit   any    `json:"limit"`
}

// statusOf returns the HTTP status of an API error, 0 for any other error.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// do sends one request and decodes a 2xx JSON answer into out (if not nil).
func (c *apiClient) do(ctx context.Context, method, path string, header http.Header, body io.Reader, out any) error {
	if body == nil {
		body = http.NoBody // as a server's request: handlers may read or close it
	}
	req, err := http.NewRequestWithContext(ctx, method, "/v1/tenants/"+c.tenant+path, body)
	if err != nil {
		return fmt.Errorf("building %s %s: %w", method, path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	// In-process: the recorder stands in for the network. The request is
	// served by the same handler, limits and rate limiter as any client's.
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("reading the answer of %s %s: %w", method, path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		ae := &apiError{Status: res.StatusCode}
		_ = json.Unmarshal(b, &ae.Problem) // a non-JSON answer keeps only its status
		return ae
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decoding the answer of %s %s: %w", method, path, err)
	}
	return nil
}

func (c *apiClient) getJSON(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, nil, out)
}

func (c *apiClient) sendJSON(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encoding %s %s: %w", method, path, err)
	}
	return c.do(ctx, method, path, http.Header{"Content-Type": {"application/json"}}, bytes.NewReader(b), out)
}

// tenantInfo is GET /v1/tenants/{t}: what a key holder may know of its tenant.
type tenantInfo struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Categories []category `json:"categories"`
	Role       string     `json:"role"`
}

type category struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

func (c *apiClient) tenantInfo(ctx context.Context) (tenantInfo, error) {
	var t tenantInfo
	return t, c.getJSON(ctx, "", &t)
}

// summary is one article of the list (and the status part of GET one).
type summary struct {
	ID        string         `json:"id"`
	Revision  int64          `json:"revision"`
	Title     string         `json:"title"`
	Category  string         `json:"category"`
	Author    string         `json:"author"`
	Status    string         `json:"status"`
	StatusAt  time.Time      `json:"status_at"`
	Reasons   []string       `json:"reasons"`
	Notes     []string       `json:"notes"`
	PublicURL string         `json:"public_url"`
	History   []historyEntry `json:"history"`
	// ScheduledAt is when a scheduled article goes online.
	ScheduledAt string `json:"scheduled_at"`
}

type historyEntry struct {
	Status   string    `json:"status"`
	Revision int64     `json:"revision"`
	At       time.Time `json:"at"`
	By       string    `json:"by"`
}

type listPage struct {
	Items      []summary `json:"items"`
	NextCursor string    `json:"next_cursor"`
}

func (c *apiClient) list(ctx context.Context, q url.Values) (listPage, error) {
	var p listPage
	path := "/articles"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return p, c.getJSON(ctx, path, &p)
}

// articleStatus is GET /v1/tenants/{t}/articles/{id}.
type articleStatus struct {
	summary
	Media   []mediaStatus    `json:"media"`
	Article *articleDocument `json:"article"`
}

type mediaStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func (c *apiClient) article(ctx context.Context, id string) (articleStatus, error) {
	var a articleStatus
	return a, c.getJSON(ctx, "/articles/"+id, &a)
}

// articleDocument is the article body of the API, on create and PUT and in
// the answers that carry an article.
type articleDocument struct {
	Status       string   `json:"status,omitempty"`
	BaseRevision int64    `json:"base_revision,omitempty"`
	Category     string   `json:"category"`
	Title        string   `json:"title"`
	Lead         string   `json:"lead"`
	Body         []block  `json:"body"`
	Author       string   `json:"author"`
	Source       *source  `json:"source,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	ScheduledAt  string   `json:"scheduled_at,omitempty"`
	TimeZone     string   `json:"time_zone,omitempty"`
	// Revision is set in answers (the revision this content is).
	Revision int64 `json:"revision,omitempty"`
}

type block struct {
	Type    string `json:"type"`
	Text    string `json:"text,omitempty"`
	Media   string `json:"media,omitempty"`
	Caption string `json:"caption,omitempty"`
	Credit  string `json:"credit,omitempty"`
}

type source struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// written is the answer of create, PUT and submit.
type written struct {
	ID       string `json:"id"`
	Revision int64  `json:"revision"`
}

func (c *apiClient) create(ctx context.Context, doc articleDocument, idempotencyKey string) (written, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return written{}, fmt.Errorf("encoding the article: %w", err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if idempotencyKey != "" {
		h.Set("Idempotency-Key", idempotencyKey)
	}
	var w written
	return w, c.do(ctx, http.MethodPost, "/articles", h, bytes.NewReader(b), &w)
}

func (c *apiClient) update(ctx context.Context, id string, doc articleDocument) (written, error) {
	var w written
	return w, c.sendJSON(ctx, http.MethodPut, "/articles/"+id, doc, &w)
}

func (c *apiClient) submit(ctx context.Context, id string, baseRevision int64) (written, error) {
	var w written
	return w, c.sendJSON(ctx, http.MethodPost, "/articles/"+id+"/submit", map[string]int64{"base_revision": baseRevision}, &w)
}

// uploadMedia forwards one photo's bytes as the raw body.
func (c *apiClient) uploadMedia(ctx context.Context, contentType string, body io.Reader) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	if err := c.do(ctx, http.MethodPost, "/media", h, body, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// unpublishRequest is POST …/articles/{id}/unpublish.
type unpublishRequest struct {
	Mode       string `json:"mode"`
	Reason     string `json:"reason"`
	RedirectTo string `json:"redirect_to,omitempty"`
}

func (c *apiClient) unpublish(ctx context.Context, id string, req unpublishRequest) error {
	return c.sendJSON(ctx, http.MethodPost, "/articles/"+id+"/unpublish", req, nil)
}
