// Package apikey is the one definition of blocpress API keys: how a key
// looks, how it is hashed, and the record the "apikeys" KV bucket keeps for
// it under the hex SHA-256 of the key. Ingest is the bucket's single writer
// (Store.Create, Store.Revoke, from its key API); other services, such as
// moderation's review desk, only verify keys (Store.Lookup, Store.LookupHash).
//
// The bucket holds two kinds of entries:
//
//	<hex sha256 of the key>      → Record JSON (the source of truth)
//	tenant.<tenant>.<key id>     → the hex sha256 (a per-tenant index, so that
//	                               a tenant's keys are listed without a scan)
//
// A revoked key keeps its record, marked Revoked, so that listings and
// audit trails still name it; every lookup refuses it. Lookups read the
// bucket on every request, with no cache, so a revocation takes effect at
// once in every replica of every service.
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
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/libs/tenant"
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

// ErrRevoked is returned by the lookups for a revoked key. It wraps
// ErrUnknown, so that callers that refuse unknown keys (401) refuse revoked
// ones the same way without knowing about revocation.
var ErrRevoked = fmt.Errorf("%w: the key was revoked", ErrUnknown)

// MaxNameLength bounds a key's name, in characters.
const MaxNameLength = 100

// Record is the value stored under Hash(key); the key itself is never stored.
type Record struct {
	Tenant  string    `json:"tenant"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
	// Name says whose key it is ("Phòng Tuyên giáo"), for the key list.
	Name string `json:"name,omitempty"`
	// Revoked is when the key was revoked, nil while it works; RevokedBy
	// names who did it (a key id, or "operator").
	Revoked   *time.Time `json:"revoked,omitempty"`
	RevokedBy string     `json:"revoked_by,omitempty"`
}

// Listed is a key as a tenant's key list shows it: its id and record.
type Listed struct {
	ID string
	Record
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

var (
	hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	idPattern   = regexp.MustCompile(`^[0-9a-f]{12}$`)
)

// indexedMarker is written once every key stored before the per-tenant
// index existed has an index entry (see backfill).
const indexedMarker = "meta.indexed"

// ValidID reports whether id looks like a key id (IDOf).
func ValidID(id string) bool { return idPattern.MatchString(id) }

// indexKey is the per-tenant index entry of a key id. Tenant ids are
// [a-z0-9-] and key ids hex, so neither can add a token or a wildcard.
func indexKey(tenantID, id string) string { return "tenant." + tenantID + "." + id }

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
	rec, _, err := s.record(ctx, hash)
	if err != nil {
		return Record{}, err
	}
	if rec.Revoked != nil {
		return Record{}, ErrRevoked
	}
	return rec, nil
}

// record reads the record under hash, revoked or not, with its KV revision.
func (s *Store) record(ctx context.Context, hash string) (Record, uint64, error) {
	if !hashPattern.MatchString(hash) {
		return Record{}, 0, ErrUnknown
	}
	e, err := s.kv.Get(ctx, hash)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Record{}, 0, ErrUnknown
	}
	if err != nil {
		return Record{}, 0, fmt.Errorf("reading API key: %w", err)
	}
	var rec Record
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return Record{}, 0, fmt.Errorf("decoding API key record: %w", err)
	}
	return rec, e.Revision(), nil
}

// Create issues a new, unnamed key for a tenant; see CreateNamed.
func (s *Store) Create(ctx context.Context, tenantID, role string) (string, Record, error) {
	return s.CreateNamed(ctx, tenantID, role, "")
}

// CreateNamed issues a new key for a tenant and stores its record and index
// entry. The key is returned once and never stored. Only ingest, the
// bucket's writer, calls it.
//
// The index entry is written first: a failure between the two writes leaves
// an entry pointing at no record, which List skips, rather than a working
// key that no listing shows and so no admin can find to revoke.
func (s *Store) CreateNamed(ctx context.Context, tenantID, role, name string) (string, Record, error) {
	if !ValidRole(role) {
		return "", Record{}, fmt.Errorf("unknown role %q", role)
	}
	if n := len([]rune(name)); n > MaxNameLength {
		return "", Record{}, fmt.Errorf("the name has %d characters, over %d", n, MaxNameLength)
	}
	for attempt := 0; ; attempt++ {
		key := New()
		hash := Hash(key)
		_, err := s.kv.Create(ctx, indexKey(tenantID, IDOf(hash)), []byte(hash))
		if errors.Is(err, jetstream.ErrKeyExists) && attempt < 3 {
			continue // two keys of one tenant share a 48-bit id prefix: draw again
		}
		if err != nil {
			return "", Record{}, fmt.Errorf("indexing API key: %w", err)
		}
		rec := Record{Tenant: tenantID, Role: role, Name: name, Created: time.Now().UTC()}
		b, _ := json.Marshal(rec) // strings and times always encode
		if _, err := s.kv.Create(ctx, hash, b); err != nil {
			return "", Record{}, fmt.Errorf("storing API key: %w", err)
		}
		return key, rec, nil
	}
}

// backfill gives an index entry to every key stored before the index
// existed, once per bucket: after a full pass it writes indexedMarker, and
// from then on costs one read. Keys made since are indexed by CreateNamed.
func (s *Store) backfill(ctx context.Context) error {
	_, err := s.kv.Get(ctx, indexedMarker)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrKeyNotFound) && !errors.Is(err, jetstream.ErrKeyDeleted) {
		return fmt.Errorf("reading the API key index marker: %w", err)
	}
	// "*" matches one-token keys: the hashes, not the index entries.
	lister, err := s.kv.ListKeysFiltered(ctx, "*")
	if err != nil {
		return fmt.Errorf("listing API keys to index them: %w", err)
	}
	var hashes []string
	for k := range lister.Keys() {
		if hashPattern.MatchString(k) {
			hashes = append(hashes, k)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("listing API keys to index them: %w", err)
	}
	for _, h := range hashes {
		rec, _, err := s.record(ctx, h)
		if errors.Is(err, ErrUnknown) {
			continue
		}
		if err != nil {
			return err
		}
		if tenant.ValidateID(rec.Tenant) != nil {
			continue // never written by CreateNamed; not indexable as a subject token
		}
		if _, err := s.kv.Create(ctx, indexKey(rec.Tenant, IDOf(h)), []byte(h)); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("indexing API key %s: %w", IDOf(h), err)
		}
	}
	if _, err := s.kv.Put(ctx, indexedMarker, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("writing the API key index marker: %w", err)
	}
	return nil
}

// List returns a tenant's keys, revoked ones included, oldest first. The
// first call on a bucket indexes keys made before the index existed, so
// only ingest, the bucket's writer, calls it.
func (s *Store) List(ctx context.Context, tenantID string) ([]Listed, error) {
	if err := s.backfill(ctx); err != nil {
		return nil, err
	}
	lister, err := s.kv.ListKeysFiltered(ctx, indexKey(tenantID, "*"))
	if err != nil {
		return nil, fmt.Errorf("listing API keys of %s: %w", tenantID, err)
	}
	seen := map[string]bool{}
	var names []string
	for k := range lister.Keys() {
		if !seen[k] { // a listing may repeat a key written meanwhile
			seen[k] = true
			names = append(names, k)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing API keys of %s: %w", tenantID, err)
	}
	out := make([]Listed, 0, len(names))
	for _, k := range names {
		e, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading API key index %s: %w", k, err)
		}
		rec, _, err := s.record(ctx, string(e.Value()))
		if errors.Is(err, ErrUnknown) {
			continue // see CreateNamed: an index entry whose record was never written
		}
		if err != nil {
			return nil, err
		}
		if rec.Tenant != tenantID {
			continue
		}
		out = append(out, Listed{ID: IDOf(string(e.Value())), Record: rec})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Revoke marks a tenant's key revoked; by names who did it. Every later
// lookup, in every service, refuses the key. Revoking a revoked key changes
// nothing and returns its record. ErrUnknown when the tenant has no such
// key.
func (s *Store) Revoke(ctx context.Context, tenantID, id, by string) (Listed, error) {
	if !ValidID(id) {
		return Listed{}, ErrUnknown
	}
	if err := s.backfill(ctx); err != nil {
		return Listed{}, err
	}
	e, err := s.kv.Get(ctx, indexKey(tenantID, id))
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Listed{}, ErrUnknown
	}
	if err != nil {
		return Listed{}, fmt.Errorf("reading API key index: %w", err)
	}
	hash := string(e.Value())
	// Compare-and-set, retried: the record is only ever changed here, but
	// two admins may revoke the same key at once.
	for attempt := 0; ; attempt++ {
		rec, rev, err := s.record(ctx, hash)
		if err != nil {
			return Listed{}, err
		}
		if rec.Tenant != tenantID {
			return Listed{}, ErrUnknown
		}
		if rec.Revoked != nil {
			return Listed{ID: id, Record: rec}, nil
		}
		now := time.Now().UTC()
		rec.Revoked, rec.RevokedBy = &now, by
		b, _ := json.Marshal(rec)
		_, err = s.kv.Update(ctx, hash, b, rev)
		if err == nil {
			return Listed{ID: id, Record: rec}, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) || attempt >= 5 {
			return Listed{}, fmt.Errorf("revoking API key %s: %w", id, err)
		}
	}
}
