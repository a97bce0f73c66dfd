package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

// publishTimeout bounds how long a request waits for JetStream to accept an
// event before it answers 503 (bus.Publish retries until its context ends).
const publishTimeout = 10 * time.Second

// service holds what the handlers and the status consumer share.
type service struct {
	cfg     Config
	log     *slog.Logger
	bus     *bus.Bus
	blob    *blob.Store
	tenants *tenant.Store
	// KV buckets; ingest is the single writer of all but media.
	keys        jetstream.KeyValue
	articles    jetstream.KeyValue
	idempotency jetstream.KeyValue
	media       jetstream.KeyValue
	// limiter holds the per-key request rate buckets (ratelimit.go); set by routes.
	limiter *rateLimiter
}

// routes is the whole HTTP API; httpx adds /healthz, /readyz and /metrics.
func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	s.limiter = newRateLimiter(s.cfg.RatePerMinute, s.cfg.RateBurst, time.Now)

	mux.HandleFunc("PUT /v1/admin/tenants/{tenant}", s.admin(s.handlePutTenant))
	mux.HandleFunc("GET /v1/admin/tenants/{tenant}", s.admin(s.handleGetTenant))
	mux.HandleFunc("POST /v1/admin/tenants/{tenant}/keys", s.admin(s.handleCreateKey))

	mux.HandleFunc("POST /v1/tenants/{tenant}/media", s.tenantAPI(submitter(s.handleUploadMedia)))
	mux.HandleFunc("GET /v1/tenants/{tenant}/media/{id}", s.tenantAPI(s.handleGetMedia))
	mux.HandleFunc("POST /v1/tenants/{tenant}/media/uploads", s.tenantAPI(submitter(s.handlePresignUpload)))
	mux.HandleFunc("POST /v1/tenants/{tenant}/media/uploads/{upload}/complete", s.tenantAPI(submitter(s.handleCompleteUpload)))
	mux.HandleFunc("POST /v1/tenants/{tenant}/keys", s.keyAdmin(s.createKey))
	mux.HandleFunc("GET /v1/tenants/{tenant}/keys", s.keyAdmin(s.handleListKeys))
	mux.HandleFunc("DELETE /v1/tenants/{tenant}/keys/{id}", s.keyAdmin(s.handleRevokeKey))
	mux.HandleFunc("GET /openapi.yaml", s.handleOpenAPI)
	mux.HandleFunc("POST /v1/tenants/{tenant}/articles", s.tenantAPI(submitter(s.handleCreateArticle)))
	mux.HandleFunc("GET /v1/tenants/{tenant}/articles/{id}", s.tenantAPI(s.handleGetArticle))
	mux.HandleFunc("GET /v1/tenants/{tenant}/articles", s.tenantAPI(s.handleListArticles))
	mux.HandleFunc("PUT /v1/tenants/{tenant}/articles/{id}", s.tenantAPI(submitter(s.handlePutArticle)))
	mux.HandleFunc("GET /v1/tenants/{tenant}/articles/{id}/revisions", s.tenantAPI(s.handleListRevisions))
	mux.HandleFunc("GET /v1/tenants/{tenant}/articles/{id}/revisions/{rev}", s.tenantAPI(s.handleGetRevision))
	mux.HandleFunc("POST /v1/tenants/{tenant}/articles/{id}/revert", s.tenantAPI(submitter(s.handleRevert)))
	mux.HandleFunc("POST /v1/tenants/{tenant}/articles/{id}/submit", s.tenantAPI(submitter(s.handleSubmitDraft)))
	mux.HandleFunc("POST /v1/tenants/{tenant}/articles/{id}/unpublish", s.tenantAPI(submitter(s.handleUnpublish)))
	s.mountEditor(mux)
	return mux
}

// caller is an authenticated request to one tenant's API.
type caller struct {
	tenant *tenant.Tenant
	role   string
	// keyID is a short, non-secret name of the key (a prefix of its hash),
	// for history entries and logs.
	keyID string
}

// tenantAPI guards the tenant API (editor and admin keys). The order
// matters: the tenant id in the path is checked before anything else, so an
// id carrying a subject wildcard or a path separator never reaches the key
// lookup, NATS, S3 or a log line; then the API key (401), its tenant (403)
// and the tenant itself (404).
func (s *service) tenantAPI(h func(http.ResponseWriter, *http.Request, *caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("tenant")
		if err := tenant.ValidateID(id); err != nil {
			httpx.Error(w, http.StatusBadRequest, err.Error(), httpx.FieldError{Field: "tenant", Message: tenant.ErrInvalidID.Error()})
			return
		}
		key, ok := apikey.FromRequest(r)
		if !ok {
			unauthorized(w, "an API key is required: Authorization: Bearer <key>")
			return
		}
		rec, err := s.lookupKey(r.Context(), key)
		if errors.Is(err, apikey.ErrUnknown) {
			unauthorized(w, "the API key is not valid")
			return
		}
		if err != nil {
			s.unavailable(w, r, "checking the API key", err)
			return
		}
		if !s.admit(w, key) {
			return
		}
		if rec.Tenant != id {
			httpx.Error(w, http.StatusForbidden, "this API key belongs to another tenant")
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
		h(w, r, &caller{tenant: t, role: rec.Role, keyID: apikey.ID(key)})
	}
}

// submitter guards the routes that submit content: editor and admin keys
// only. A reviewer key decides on held articles at moderation's review desk
// and may read statuses here, but submits nothing, so that nobody approves
// an article they wrote with the same key.
func submitter(h func(http.ResponseWriter, *http.Request, *caller)) func(http.ResponseWriter, *http.Request, *caller) {
	return func(w http.ResponseWriter, r *http.Request, c *caller) {
		if c.role == apikey.RoleReviewer {
			httpx.Error(w, http.StatusForbidden, "a reviewer key cannot submit photos or articles; use an editor key")
			return
		}
		h(w, r, c)
	}
}

func unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="blocpress"`)
	httpx.Error(w, http.StatusUnauthorized, detail)
}

// unavailable answers 503 for a failing dependency (NATS, S3) and logs why;
// the client may retry.
func (s *service) unavailable(w http.ResponseWriter, r *http.Request, doing string, err error) {
	s.log.Error(doing, "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	httpx.Error(w, http.StatusServiceUnavailable, "storage is unavailable while "+doing+"; retry later")
}

// publishCtx bounds a publish made on behalf of a request.
func publishCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, publishTimeout)
}
