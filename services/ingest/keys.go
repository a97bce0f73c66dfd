package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

// lookupKey finds an API key's record (libs/apikey: stored by hash, compared
// by looking up the hash).
func (s *service) lookupKey(ctx context.Context, key string) (apikey.Record, error) {
	return apikey.NewStore(s.keys).Lookup(ctx, key)
}

// admin guards the operator API with INGEST_ADMIN_TOKEN. The tenant id is
// checked first, as on the tenant API.
func (s *service) admin(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("tenant")
		if err := tenant.ValidateID(id); err != nil {
			httpx.Error(w, http.StatusBadRequest, err.Error(), httpx.FieldError{Field: "tenant", Message: tenant.ErrInvalidID.Error()})
			return
		}
		token, ok := bearer(r)
		if !ok {
			unauthorized(w, "the admin token is required: Authorization: Bearer <INGEST_ADMIN_TOKEN>")
			return
		}
		// Comparing fixed-length digests keeps the comparison constant-time
		// even in the token's length.
		got := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			unauthorized(w, "the admin token is not valid")
			return
		}
		h(w, r, id)
	}
}

// handlePutTenant creates or replaces a tenant's configuration.
func (s *service) handlePutTenant(w http.ResponseWriter, r *http.Request, id string) {
	var t tenant.Tenant
	if code, err := httpx.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &t); err != nil {
		httpx.Error(w, code, err.Error())
		return
	}
	if t.ID == "" {
		t.ID = id
	}
	if t.ID != id {
		httpx.Error(w, http.StatusBadRequest, "the id in the body differs from the one in the path",
			httpx.FieldError{Field: "id", Message: fmt.Sprintf("must be %q or empty", id)})
		return
	}
	normalizeTenant(&t)
	if err := t.Validate(); err != nil {
		httpx.Error(w, http.StatusUnprocessableEntity, "the tenant configuration is not valid",
			httpx.FieldError{Field: fieldOf(err), Message: err.Error()})
		return
	}
	if err := s.tenants.Put(r.Context(), &t); err != nil {
		s.unavailable(w, r, "storing the tenant", err)
		return
	}
	s.log.Info("tenant stored", "tenant", t.ID, "categories", len(t.Categories))
	httpx.JSON(w, http.StatusOK, &t)
}

// normalizeTenant puts the texts readers see into NFC, trimmed, so that
// Vietnamese typed on different keyboards compares and renders alike.
func normalizeTenant(t *tenant.Tenant) {
	t.Name = clean(t.Name)
	t.Banner = clean(t.Banner)
	for i := range t.Categories {
		t.Categories[i].Slug = strings.TrimSpace(t.Categories[i].Slug)
		t.Categories[i].Name = clean(t.Categories[i].Name)
	}
	for i := range t.Links {
		t.Links[i].Name = clean(t.Links[i].Name)
		t.Links[i].URL = strings.TrimSpace(t.Links[i].URL)
	}
}

// clean is the normalisation of every text an editor sends: NFC, trimmed.
func clean(s string) string { return strings.TrimSpace(norm.NFC.String(s)) }

// fieldOf names the field a tenant.Validate error is about: its messages
// start with the field ("categories[0].slug must …", "name is required").
func fieldOf(err error) string {
	if errors.Is(err, tenant.ErrInvalidID) {
		return "id"
	}
	field, _, _ := strings.Cut(err.Error(), " ")
	return strings.TrimSuffix(field, ":")
}

func (s *service) handleGetTenant(w http.ResponseWriter, r *http.Request, id string) {
	t, err := s.tenants.Get(r.Context(), id)
	if errors.Is(err, tenant.ErrNotFound) {
		httpx.Error(w, http.StatusNotFound, "tenant "+id+" does not exist")
		return
	}
	if err != nil {
		s.unavailable(w, r, "reading the tenant", err)
		return
	}
	httpx.JSON(w, http.StatusOK, t)
}

type createKeyRequest struct {
	Role string `json:"role"`
}

type createKeyResponse struct {
	Key    string `json:"key"`
	Tenant string `json:"tenant"`
	Role   string `json:"role"`
}

// handleCreateKey issues an API key for a tenant. The key is in this response
// only; the bucket keeps its hash.
func (s *service) handleCreateKey(w http.ResponseWriter, r *http.Request, id string) {
	var req createKeyRequest
	if code, err := httpx.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		httpx.Error(w, code, err.Error())
		return
	}
	if !apikey.ValidRole(req.Role) {
		httpx.Error(w, http.StatusUnprocessableEntity, "unknown role",
			httpx.FieldError{Field: "role", Message: `must be "editor", "reviewer" or "admin"`})
		return
	}
	if _, err := s.tenants.Get(r.Context(), id); errors.Is(err, tenant.ErrNotFound) {
		httpx.Error(w, http.StatusNotFound, "tenant "+id+" does not exist; create it first")
		return
	} else if err != nil {
		s.unavailable(w, r, "reading the tenant", err)
		return
	}
	key, _, err := apikey.NewStore(s.keys).Create(r.Context(), id, req.Role)
	if err != nil {
		s.unavailable(w, r, "storing the API key", err)
		return
	}
	s.log.Info("API key created", "tenant", id, "role", req.Role, "key_id", apikey.ID(key))
	httpx.JSON(w, http.StatusCreated, createKeyResponse{Key: key, Tenant: id, Role: req.Role})
}
