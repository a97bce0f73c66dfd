// Package apikey is the one definition of blocpress API keys: how a key
// looks, how it is hashed, and the record the "apikeys" KV bucket keeps for
// it under the hex SHA-256 of the key. Ingest is the bucket's single writer
// (Store.Create, from its admin API); other services, such as moderation's
// review desk, only verify keys (Store.Lookup, Store.LookupHash).
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Roles of a key. Editors submit photos and articles; reviewers decide on
// held articles at moderation's review desk and may read statuses; admins
// (a bloc's own administrators) may also set the legacy-import fields.
const (
	RoleEditor   = "editor"
	RoleReviewer = "reviewer"
	RoleAdmin    = "admin"
)

// ValidRole reports whether role is one of the roles above.
func ValidRole(role string) bool {
	return role == RoleEditor || role == RoleReviewer || role == RoleAdmin
}

// Prefix marks blocpress API keys, so a leaked one is recognisable.
const Prefix = "bp_"

// MaxLength refuses absurd Authorization headers before hashing them.
const MaxLength = 256

// ErrUnknown is returned for a key that is malformed or not in the bucket.
var ErrUnknown = errors.New("unknown API key")

// Record is the value stored under Hash(key); the key itself is never stored.
type Record struct {
	Tenant  string    `json:"tenant"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
}

// Hash is the hex SHA-256 of s: the bucket key of an API key.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// IDOf is a short, non-secret name of a key, a prefix of its hash, for logs,
// history entries and audit trails.
func IDOf(hash string) string {
	if len(hash) < 12 {
		return hash
	}
	return hash[:12]
}

// ID is IDOf(Hash(key)).
func ID(key string) string { return IDOf(Hash(key)) }

var hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// New returns "bp_" and 256 random bits in lower-case base32.
func New() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return Prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// FromRequest returns the token of an "Authorization: Bearer <token>" header.
func FromRequest(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Store reads and (for ingest only) writes the apikeys bucket.
type Store struct {
	kv jetstream.KeyValue
}

// NewStore wraps the bucket.
func NewStore(kv jetstream.KeyValue) *Store { return &Store{kv: kv} }

// Lookup finds a key by its hash. Looking up the hash, not the key, means
// the stored values reveal nothing and the lookup's timing says nothing
// about how close a guess was. ErrUnknown for a malformed or unknown key.
func (s *Store) Lookup(ctx context.Context, key string) (Record, error) {
	if !strings.HasPrefix(key, Prefix) || len(key) > MaxLength {
		return Record{}, ErrUnknown
	}
	return s.LookupHash(ctx, Hash(key))
}

// LookupHash is Lookup for a key known only by its hash, as a signed session
// cookie carries it, so that a revoked key ends its sessions.
func (s *Store) LookupHash(ctx context.Context, hash string) (Record, error) {
	if !hashPattern.MatchString(hash) {
		return Record{}, ErrUnknown
	}
	e, err := s.kv.Get(ctx, hash)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Record{}, ErrUnknown
	}
	if err != nil {
		return Record{}, fmt.Errorf("reading API key: %w", err)
	}
	var rec Record
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return Record{}, fmt.Errorf("decoding API key record: %w", err)
	}
	return rec, nil
}

// Create issues a new key for a tenant and stores its record. The key is
// returned once and never stored. Only ingest, the bucket's writer, calls it.
func (s *Store) Create(ctx context.Context, tenantID, role string) (string, Record, error) {
	if !ValidRole(role) {
		return "", Record{}, fmt.Errorf("unknown role %q", role)
	}
	key := New()
	rec := Record{Tenant: tenantID, Role: role, Created: time.Now().UTC()}
	b, _ := json.Marshal(rec) // strings and a time always encode
	if _, err := s.kv.Create(ctx, Hash(key), b); err != nil {
		return "", Record{}, fmt.Errorf("storing API key: %w", err)
	}
	return key, rec, nil
}
