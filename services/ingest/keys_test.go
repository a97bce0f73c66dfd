package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/bus"
)

// TestKeyAPI drives the tenant key API with admin, editor and foreign keys
// against real NATS and MinIO.
func TestKeyAPI(t *testing.T) {
	s := startStack(t, nil)
	editor, admin := s.newTenant(t, "hung-yen")
	_, otherAdmin := s.newTenant(t, "nam-dinh")
	const keys = "/v1/tenants/hung-yen/keys"

	// The admin creates a named editor key; it is shown once and works.
	var created keyView
	s.do(t, http.MethodPost, keys, admin, map[string]string{"role": "editor", "name": "Phòng Tuyên giáo"}).expect(t, http.StatusCreated, &created)
	if !strings.HasPrefix(created.Key, apikey.Prefix) || created.ID != apikey.ID(created.Key) || created.Role != "editor" ||
		created.Name != "Phòng Tuyên giáo" || created.Tenant != "hung-yen" || created.Revoked != nil || created.Created.IsZero() {
		t.Fatalf("created %+v", created)
	}
	s.do(t, http.MethodGet, "/v1/tenants/hung-yen", created.Key, nil).expect(t, http.StatusOK, nil)
	e, err := s.kv(t, bus.BucketAPIKeys).Get(context.Background(), apikey.Hash(created.Key))
	if err != nil || strings.Contains(string(e.Value()), created.Key) {
		t.Errorf("stored record %s, %v: want the hash as key and no key inside", e.Value(), err)
	}

	// Who may manage keys: the tenant's admin keys and the operator.
	s.do(t, http.MethodPost, keys, editor, map[string]string{"role": "admin"}).problem(t, http.StatusForbidden)
	s.do(t, http.MethodGet, keys, editor, nil).problem(t, http.StatusForbidden)
	s.do(t, http.MethodDelete, keys+"/"+apikey.ID(admin), created.Key, nil).problem(t, http.StatusForbidden)
	s.do(t, http.MethodPost, keys, otherAdmin, map[string]string{"role": "editor"}).problem(t, http.StatusForbidden)
	s.do(t, http.MethodGet, keys, otherAdmin, nil).problem(t, http.StatusForbidden)
	s.do(t, http.MethodDelete, keys+"/"+created.ID, otherAdmin, nil).problem(t, http.StatusForbidden)
	s.do(t, http.MethodGet, keys, "", nil).problem(t, http.StatusUnauthorized)
	s.do(t, http.MethodGet, keys, testAdminToken+"x", nil).problem(t, http.StatusUnauthorized)
	s.do(t, http.MethodGet, "/v1/tenants/no-such/keys", testAdminToken, nil).problem(t, http.StatusNotFound)

	// Limits are named.
	if f, ok := field(s.do(t, http.MethodPost, keys, admin, map[string]string{"role": "owner"}).problem(t, http.StatusUnprocessableEntity), "role"); !ok || f.Limit == nil {
		t.Errorf("unknown role: %+v", f)
	}
	long := strings.Repeat("ă", apikey.MaxNameLength+1)
	if f, ok := field(s.do(t, http.MethodPost, keys, admin, map[string]string{"role": "editor", "name": long}).problem(t, http.StatusUnprocessableEntity), "name"); !ok || f.Limit != float64(apikey.MaxNameLength) {
		t.Errorf("long name: %+v", f)
	}

	// The list shows every key of the tenant, never a key itself; the
	// operator sees the same list.
	var list []keyView
	r := s.do(t, http.MethodGet, keys, admin, nil)
	r.expect(t, http.StatusOK, &list)
	for _, k := range []string{editor, admin, created.Key} {
		if strings.Contains(string(r.body), k) {
			t.Fatalf("the list shows a key: %s", r.body)
		}
	}
	ids := map[string]keyView{}
	for _, k := range list {
		ids[k.ID] = k
	}
	if len(list) != 3 || ids[apikey.ID(editor)].Role != "editor" || ids[apikey.ID(admin)].Role != "admin" || ids[created.ID].Name != "Phòng Tuyên giáo" {
		t.Fatalf("list %+v", list)
	}
	var byOperator []keyView
	s.do(t, http.MethodGet, keys, testAdminToken, nil).expect(t, http.StatusOK, &byOperator)
	if len(byOperator) != 3 {
		t.Errorf("operator's list %+v", byOperator)
	}

	// Revoked: 401 at once, and marked in the list; revoking again is harmless.
	var revoked keyView
	s.do(t, http.MethodDelete, keys+"/"+created.ID, admin, nil).expect(t, http.StatusOK, &revoked)
	if revoked.Revoked == nil || revoked.RevokedBy != apikey.ID(admin) || revoked.Key != "" {
		t.Errorf("revoked %+v", revoked)
	}
	s.do(t, http.MethodGet, "/v1/tenants/hung-yen", created.Key, nil).problem(t, http.StatusUnauthorized)
	s.do(t, http.MethodGet, "/v1/tenants/hung-yen/media/"+strings.Repeat("a", 64), created.Key, nil).problem(t, http.StatusUnauthorized)
	s.do(t, http.MethodDelete, keys+"/"+created.ID, testAdminToken, nil).expect(t, http.StatusOK, &revoked)
	if revoked.RevokedBy != apikey.ID(admin) {
		t.Errorf("a second revocation rewrote the record: %+v", revoked)
	}
	// What moderation's review desk sees: the same lookup refuses the key.
	if _, err := apikey.NewStore(s.kv(t, bus.BucketAPIKeys)).Lookup(context.Background(), created.Key); !errors.Is(err, apikey.ErrUnknown) {
		t.Errorf("a revoked key still looks up: %v", err)
	}
	s.do(t, http.MethodDelete, keys+"/000000000000", admin, nil).problem(t, http.StatusNotFound)
	s.do(t, http.MethodDelete, keys+"/"+apikey.ID(otherAdmin), admin, nil).problem(t, http.StatusNotFound)
	s.do(t, http.MethodGet, "/v1/tenants/hung-yen", editor, nil).expect(t, http.StatusOK, nil)

	s.do(t, http.MethodGet, keys, admin, nil).expect(t, http.StatusOK, &list)
	for _, k := range list {
		if (k.ID == created.ID) != (k.Revoked != nil) {
			t.Errorf("after revoking %s: %+v", created.ID, k)
		}
	}
}
