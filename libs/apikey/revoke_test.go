package apikey

import (
	"errors"
	"testing"
)

func TestListAndRevoke(t *testing.T) {
	ctx, kv, s := newTestStore(t)

	// A key stored before the index existed, as older versions did.
	legacy := New()
	if _, err := kv.Create(ctx, Hash(legacy), []byte(`{"tenant":"hung-yen","role":"reviewer","created":"2026-01-02T03:04:05Z"}`)); err != nil {
		t.Fatal(err)
	}
	if l, err := s.List(ctx, "nam-dinh"); err != nil || len(l) != 0 {
		t.Fatalf("List of a tenant without keys = %v, %v", l, err)
	}
	if l, err := s.List(ctx, "hung-yen"); err != nil || len(l) != 1 || l[0].ID != ID(legacy) || l[0].Role != RoleReviewer {
		t.Fatalf("List does not show the key made before the index: %+v, %v", l, err)
	}
	if _, err := s.Revoke(ctx, "hung-yen", ID(legacy), "operator"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, legacy); !errors.Is(err, ErrRevoked) {
		t.Errorf("the older key was not revoked: %v", err)
	}
	if err := kv.Purge(ctx, indexKey("hung-yen", ID(legacy))); err != nil {
		t.Fatal(err)
	}
	if err := kv.Purge(ctx, Hash(legacy)); err != nil {
		t.Fatal(err)
	}
	editor, _, err := s.CreateNamed(ctx, "hung-yen", RoleEditor, "Phòng Tuyên giáo")
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := s.Create(ctx, "hung-yen", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := s.Create(ctx, "nam-dinh", RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateNamed(ctx, "hung-yen", RoleEditor, string(make([]rune, MaxNameLength+1))); err == nil {
		t.Error("a name over the limit was accepted")
	}

	l, err := s.List(ctx, "hung-yen")
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 2 || l[0].ID != ID(editor) || l[0].Name != "Phòng Tuyên giáo" || l[0].Role != RoleEditor ||
		l[1].ID != ID(admin) || l[1].Revoked != nil {
		t.Fatalf("List = %+v", l)
	}

	if _, err := s.Revoke(ctx, "nam-dinh", ID(editor), "operator"); !errors.Is(err, ErrUnknown) {
		t.Errorf("revoking another tenant's key: %v, want ErrUnknown", err)
	}
	if _, err := s.Revoke(ctx, "hung-yen", "not-an-id", "operator"); !errors.Is(err, ErrUnknown) {
		t.Errorf("revoking a malformed id: %v, want ErrUnknown", err)
	}
	got, err := s.Revoke(ctx, "hung-yen", ID(editor), ID(admin))
	if err != nil || got.Revoked == nil || got.RevokedBy != ID(admin) {
		t.Fatalf("Revoke = %+v, %v", got, err)
	}
	again, err := s.Revoke(ctx, "hung-yen", ID(editor), "operator")
	if err != nil || !again.Revoked.Equal(*got.Revoked) || again.RevokedBy != ID(admin) {
		t.Errorf("revoking twice changed the record: %+v, %v", again, err)
	}

	if _, err := s.Lookup(ctx, editor); !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrUnknown) {
		t.Errorf("Lookup of a revoked key = %v, want ErrRevoked (an ErrUnknown)", err)
	}
	if _, err := s.LookupHash(ctx, Hash(editor)); !errors.Is(err, ErrUnknown) {
		t.Errorf("LookupHash of a revoked key = %v, want ErrUnknown", err)
	}
	if _, err := s.Lookup(ctx, admin); err != nil {
		t.Errorf("the other key stopped working: %v", err)
	}
	if _, err := s.Lookup(ctx, other); err != nil {
		t.Errorf("another tenant's key stopped working: %v", err)
	}
	l, err = s.List(ctx, "hung-yen")
	if err != nil || len(l) != 2 || l[0].Revoked == nil || l[1].Revoked != nil {
		t.Errorf("List after revoking = %+v, %v", l, err)
	}
}
