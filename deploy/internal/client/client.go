// Package client is a small HTTP client for ingest's and view-counter's APIs,
// used by the local launcher to set up the demo and by the end-to-end tests.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client calls one service with one bearer token.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// New returns a client with a sane timeout.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: baseURL, Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// WithToken returns a copy using another token.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.Token = token
	return &cp
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body) }

// Do sends a request with body (JSON-encoded unless []byte) and decodes a
// JSON answer into out when out is not nil.
func (c *Client) Do(ctx context.Context, method, path string, header http.Header, body, out any) error {
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
		contentType = "application/octet-stream"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return err
		}
		r = bytes.NewReader(j)
		contentType = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, r)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{Code: resp.StatusCode, Body: string(data)}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decoding answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// Media is ingest's answer to an upload.
type Media struct {
	ID string `json:"id"`
}

// UploadMedia posts image bytes for a tenant, labelled with the type their
// first bytes show (ingest accepts JPEG, PNG, GIF and WebP).
func (c *Client) UploadMedia(ctx context.Context, tenant string, image []byte) (string, error) {
	var m Media
	err := c.Do(ctx, http.MethodPost, "/v1/tenants/"+tenant+"/media", http.Header{"Content-Type": {http.DetectContentType(image)}}, image, &m)
	return m.ID, err
}

// Submitted is ingest's answer to an article.
type Submitted struct {
	ID        string `json:"id"`
	Revision  int64  `json:"revision"`
	StatusURL string `json:"status_url"`
}

// SubmitArticle posts an article with an Idempotency-Key.
func (c *Client) SubmitArticle(ctx context.Context, tenant string, article any, idempotencyKey string) (Submitted, error) {
	var s Submitted
	h := http.Header{}
	if idempotencyKey != "" {
		h.Set("Idempotency-Key", idempotencyKey)
	}
	err := c.Do(ctx, http.MethodPost, "/v1/tenants/"+tenant+"/articles", h, article, &s)
	return s, err
}

// Status is an article's status as ingest reports it.
type Status struct {
	ID        string   `json:"id"`
	Status    string   `json:"status"`
	Reasons   []string `json:"reasons"`
	PublicURL string   `json:"public_url"`
}

// ArticleStatus reads an article's status.
func (c *Client) ArticleStatus(ctx context.Context, tenant, id string) (Status, error) {
	var s Status
	err := c.Do(ctx, http.MethodGet, "/v1/tenants/"+tenant+"/articles/"+id, nil, nil, &s)
	return s, err
}

// WaitPublished polls until the article is published, rejected, or ctx ends.
func (c *Client) WaitPublished(ctx context.Context, tenant, id string) (Status, error) {
	for {
		s, err := c.ArticleStatus(ctx, tenant, id)
		if err == nil && s.Status == "published" && s.PublicURL != "" {
			return s, nil
		}
		if err == nil && s.Status == "rejected" {
			return s, fmt.Errorf("article %s rejected: %v", id, s.Reasons)
		}
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("waiting for article %s (last status %q, err %v): %w", id, s.Status, err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
