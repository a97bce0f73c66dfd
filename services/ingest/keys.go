package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

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

// isAdminToken reports whether token is INGEST_ADMIN_TOKEN. Comparing
// fixed-length digests keeps the comparison constant-time even in the
// token's length.
func (s *service) isAdminToken(token string) bool {
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// admin guards the operator API with INGEST_ADMIN_TOKEN. The tenant id is
// checked first, as on the tenant API.
func (s *service) admin(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("tenant")
		if err := tenant.ValidateID(id); err != nil {
			httpx.Error(w, http.StatusBadRequest, err.Error(), httpx.FieldError{Field: "tenant", Message: tenant.ErrInvalidID.Error()})
			return
		}
		token, ok := apikey.FromRequest(r)
		if !ok {
			unauthorized(w, "the admin token is required: Authorization: Bearer <INGEST_ADMIN_TOKEN>")
			return
		}
		if !s.isAdminToken(token) {
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

// tenantExists answers 404 (or 503 when the store fails) and is false
// unless tenant id exists: keys are only made for a tenant created first.
func (s *service) tenantExists(w http.ResponseWriter, r *http.Request, id string) bool {
	_, err := s.tenants.Get(r.Context(), id)
	if errors.Is(err, tenant.ErrNotFound) {
		httpx.Error(w, http.StatusNotFound, "tenant "+id+" does not exist; create it first")
		return false
	}
	if err != nil {
		s.unavailable(w, r, "reading the tenant", err)
		return false
	}
	return true
}

// operator names the operator (INGEST_ADMIN_TOKEN) in key records.
const operator = "operator"

// keyAdmin guards the key API of a tenant: the operator's admin token, or an
// admin key of that tenant (editor and reviewer keys: 403; another
// tenant's key: 403, from tenantAPI). h gets the tenant id and who acts: a
// key id, or "operator".
func (s *service) keyAdmin(h func(w http.ResponseWriter, r *http.Request, tenantID, actor string)) http.HandlerFunc {
	asAdminKey := s.tenantAPI(func(w http.ResponseWriter, r *http.Request, c *caller) {
		if c.role != apikey.RoleAdmin {
			httpx.Error(w, http.StatusForbidden, "managing keys needs an admin key of the tenant; this key's role is "+c.role)
			return
		}
		h(w, r, c.tenant.ID, c.keyID)
	})
	asOperator := s.admin(func(w http.ResponseWriter, r *http.Request, id string) {
		if !s.tenantExists(w, r, id) {
			return
		}
		h(w, r, id, operator)
	})
	return func(w http.ResponseWriter, r *http.Request) {
		if token, ok := apikey.FromRequest(r); ok && s.isAdminToken(token) {
			asOperator(w, r)
			return
		}
		asAdminKey(w, r)
	}
}

type createKeyRequest struct {
	Role string `json:"role"`
	Name string `json:"name"`
}

// keyView is a key as the key API shows it; Key is set only in the answer
// that creates it.
type keyView struct {
	ID        string     `json:"id"`
	Key       string     `json:"key,omitempty"`
	Tenant    string     `json:"tenant"`
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	Created   time.Time  `json:"created"`
	Revoked   *time.Time `json:"revoked"`
	RevokedBy string     `json:"revoked_by,omitempty"`
}

// createKeyResponse is kept as the name the operator route's clients know.
type createKeyResponse = keyView

func viewOfKey(l apikey.Listed) keyView {
	return keyView{ID: l.ID, Tenant: l.Tenant, Role: l.Role, Name: l.Name, Created: l.Created, Revoked: l.Revoked, RevokedBy: l.RevokedBy}
}

// handleCreateKey is the operator's route (POST /v1/admin/tenants/{t}/keys).
func (s *service) handleCreateKey(w http.ResponseWriter, r *http.Request, id string) {
	s.createKey(w, r, id, operator)
}

// createKey issues an API key for a tenant. The key is in this response
// only; the bucket keeps its hash.
func (s *service) createKey(w http.ResponseWriter, r *http.Request, id, actor string) {
	var req createKeyRequest
	if code, err := httpx.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		httpx.Error(w, code, err.Error())
		return
	}
	req.Name = clean(req.Name)
	var errs []httpx.FieldError
	if !apikey.ValidRole(req.Role) {
		errs = append(errs, httpx.FieldError{Field: "role", Message: `must be "editor", "reviewer" or "admin"`,
			Limit: []string{apikey.RoleEditor, apikey.RoleReviewer, apikey.RoleAdmin}})
	}
	if n := utf8.RuneCountInString(req.Name); n > apikey.MaxNameLength {
		errs = append(errs, httpx.FieldError{Field: "name",
			Message: fmt.Sprintf("must be at most %d characters, has %d", apikey.MaxNameLength, n), Limit: apikey.MaxNameLength})
	}
	if len(errs) > 0 {
		httpx.Error(w, http.StatusUnprocessableEntity, "the key cannot be created", errs...)
		return
	}
	if !s.tenantExists(w, r, id) {
		return
	}
	key, rec, err := apikey.NewStore(s.keys).CreateNamed(r.Context(), id, req.Role, req.Name)
	if err != nil {
		s.unavailable(w, r, "storing the API key", err)
		return
	}
	s.log.Info("API key created", "tenant", id, "role", req.Role, "key_id", apikey.ID(key), "by", actor)
	v := viewOfKey(apikey.Listed{ID: apikey.ID(key), Record: rec})
	v.Key = key
	httpx.JSON(w, http.StatusCreated, v)
}

// handleListKeys lists a tenant's keys, revoked ones too, never the keys
// themselves.
func (s *service) handleListKeys(w http.ResponseWriter, r *http.Request, id, _ string) {
	keys, err := apikey.NewStore(s.keys).List(r.Context(), id)
	if err != nil {
		s.unavailable(w, r, "listing the API keys", err)
		return
	}
	out := make([]keyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, viewOfKey(k))
	}
	httpx.JSON(w, http.StatusOK, out)
}

// handleRevokeKey revokes a key. Every service looks keys up in the bucket
// on every request, so the key stops working at once, everywhere.
func (s *service) handleRevokeKey(w http.ResponseWriter, r *http.Request, id, actor string) {
	keyID := r.PathValue("id")
	k, err := apikey.NewStore(s.keys).Revoke(r.Context(), id, keyID, actor)
	if errors.Is(err, apikey.ErrUnknown) {
		httpx.Error(w, http.StatusNotFound, "tenant "+id+" has no key "+keyID,
			httpx.FieldError{Field: "id", Message: "must be the id of one of the tenant's keys (GET …/keys)"})
		return
	}
	if err != nil {
		s.unavailable(w, r, "revoking the API key", err)
		return
	}
	s.log.Info("API key revoked", "tenant", id, "key_id", keyID, "by", actor)
	httpx.JSON(w, http.StatusOK, viewOfKey(k))
}
