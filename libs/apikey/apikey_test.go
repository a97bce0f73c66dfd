package apikey

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/testkit"
)

func TestCreateAndLookup(t *testing.T) {
	ctx, kv, s := newTestStore(t)

	if _, _, err := s.Create(ctx, "hungyen", "owner"); err == nil {
		t.Error("an unknown role was accepted")
	}
	key, rec, err := s.Create(ctx, "hungyen", RoleReviewer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, Prefix) || len(key) != len(Prefix)+52 || rec.Role != RoleReviewer || rec.Tenant != "hungyen" {
		t.Fatalf("key %q record %+v", key, rec)
	}
	e, err := kv.Get(ctx, Hash(key))
	if err != nil {
		t.Fatalf("not stored under its hash: %v", err)
	}
	if strings.Contains(string(e.Value()), key) {
		t.Error("the key itself is stored")
	}
	got, err := s.Lookup(ctx, key)
	if err != nil || got.Tenant != "hungyen" || got.Role != RoleReviewer {
		t.Errorf("Lookup = %+v, %v", got, err)
	}
	if got, err := s.LookupHash(ctx, Hash(key)); err != nil || got.Role != RoleReviewer {
		t.Errorf("LookupHash = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "bp_unknown", "nope_" + key[3:], "bp_" + strings.Repeat("a", MaxLength)} {
		if _, err := s.Lookup(ctx, bad); !errors.Is(err, ErrUnknown) {
			t.Errorf("Lookup(%.20q) = %v, want ErrUnknown", bad, err)
		}
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 64), "../" + Hash(key)[3:], "*"} {
		if _, err := s.LookupHash(ctx, bad); !errors.Is(err, ErrUnknown) {
			t.Errorf("LookupHash(%q) = %v, want ErrUnknown", bad, err)
		}
	}
	if ID(key) != Hash(key)[:12] || IDOf(Hash(key)) != ID(key) {
		t.Errorf("ID %q", ID(key))
	}
}

func TestFromRequest(t *testing.T) {
	for header, want := range map[string]string{"Bearer bp_x": "bp_x", "bearer  bp_y ": "bp_y", "Basic abc": "", "Bearer": "", "": ""} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", header)
		got, ok := FromRequest(r)
		if got != want || ok != (want != "") {
			t.Errorf("FromRequest(%q) = %q, %v", header, got, ok)
		}
	}
	if ValidRole("owner") || !ValidRole(RoleEditor) || !ValidRole(RoleReviewer) || !ValidRole(RoleAdmin) {
		t.Error("ValidRole")
	}
}

// newTestStore is a Store on the api-keys bucket of a fresh embedded NATS,
// with a context that ends with the test.
func newTestStore(t *testing.T) (context.Context, jetstream.KeyValue, *Store) {
	t.Helper()
	n := testkit.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	b, err := bus.Connect(bus.Config{URL: n.URL(), Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	if err := b.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	kv, err := b.KV(ctx, bus.BucketAPIKeys)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, kv, NewStore(kv)
}
