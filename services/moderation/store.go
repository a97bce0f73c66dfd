package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/blocpress/blocpress/libs/bus"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

// Article states in moderation's records.
const (
	stateApproved = "approved"
	stateHeld     = "held"
	stateRejected = "rejected"
)

// record is moderation's state for one article: its latest revision's
// verdict and, once a reviewer decided, the decision. It is the value of
// "<tenant>.<article>" in the "moderation" bucket, and every change is a
// compare-and-set on the key's revision, so that two reviewers (or a
// reviewer and a redelivered submission) cannot both win.
type record struct {
	Tenant      string    `json:"tenant"`
	Article     string    `json:"article"`
	Revision    int64     `json:"revision"`
	Title       string    `json:"title"`
	Category    string    `json:"category"`
	HasSource   bool      `json:"has_source"`
	SubmittedAt time.Time `json:"submitted_at"`
	// Seq is the ARTICLES stream sequence of the article.submitted event,
	// where the content is read back for the preview and for the
	// article.approved event of a reviewer's approval: the stream keeps
	// every event (the platform is rebuilt by replaying it).
	Seq       uint64    `json:"seq"`
	Verdict   Verdict   `json:"verdict"`
	VerdictAt time.Time `json:"verdict_at"`
	// Fingerprint is the near-duplicate signature (little-endian uint32s).
	Fingerprint []byte `json:"fingerprint,omitempty"`
	// State is "approved", "held" or "rejected": the verdict's decision
	// until a reviewer decides, then the reviewer's.
	State  string  `json:"state"`
	Review *review `json:"review,omitempty"`
	// Done is set once the state's event, audit entry and index entry are
	// written; until then a retry (a redelivery, the reconciler) writes them.
	Done bool `json:"done"`
}

// review is a reviewer's decision on a held article.
type review struct {
	Decision string `json:"decision"` // approve or reject
	// Reviewer is the short id of the reviewer's API key (apikey.IDOf);
	// Name is the name they gave when signing in, unverified.
	Reviewer string    `json:"reviewer"`
	Name     string    `json:"name,omitempty"`
	At       time.Time `json:"at"`
	Note     string    `json:"note,omitempty"`
}

func recordKey(tenantID, articleID string) string { return tenantID + "." + articleID }

// pendingKey marks a reviewer's decision whose effects are not all written
// yet, for the reconciler. "_" cannot start a tenant id, so the two kinds of
// key never meet.
func pendingKey(tenantID, articleID string) string { return "_pending." + tenantID + "." + articleID }

const pendingFilter = "_pending.>"

var errNoRecord = errors.New("no moderation record")

// getRecord reads an article's record and its KV revision.
func (s *service) getRecord(ctx context.Context, tenantID, articleID string) (*record, uint64, error) {
	e, err := s.records.Get(ctx, recordKey(tenantID, articleID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, errNoRecord
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading moderation record %s.%s: %w", tenantID, articleID, err)
	}
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, 0, fmt.Errorf("decoding moderation record %s.%s: %w", tenantID, articleID, err)
	}
	return &r, e.Revision(), nil
}

// putRecord writes a record if its key is still at revision rev (0: absent)
// and returns the new revision; jetstream.ErrKeyExists or
// ErrKeyRevisionMismatch when someone wrote it first.
func (s *service) putRecord(ctx context.Context, r *record, rev uint64) (uint64, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("encoding moderation record: %w", err)
	}
	key := recordKey(r.Tenant, r.Article)
	if rev == 0 {
		return s.records.Create(ctx, key, b)
	}
	return s.records.Update(ctx, key, b, rev)
}

func isConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

func encodeSig(sig []uint32) []byte {
	if sig == nil {
		return nil
	}
	b := make([]byte, 4*len(sig))
	for i, v := range sig {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return b
}

func decodeSig(b []byte) []uint32 {
	if len(b) != 4*sigBins {
		return nil
	}
	sig := make([]uint32, sigBins)
	for i := range sig {
		sig[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return sig
}

// submitted reads an article back from its article.submitted event.
func (s *service) submitted(ctx context.Context, r *record) (*eventsv1.Article, error) {
	raw, err := s.articles.GetMsg(ctx, r.Seq)
	if err != nil {
		return nil, fmt.Errorf("reading article %s.%s from %s sequence %d: %w", r.Tenant, r.Article, bus.StreamArticles, r.Seq, err)
	}
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(raw.Data, env); err != nil {
		return nil, fmt.Errorf("decoding %s sequence %d: %w", bus.StreamArticles, r.Seq, err)
	}
	a := env.GetArticleSubmitted().GetArticle()
	if env.GetTenant() != r.Tenant || a.GetId() != r.Article || a.GetRevision() != r.Revision {
		return nil, fmt.Errorf("%s sequence %d is not article %s.%s revision %d", bus.StreamArticles, r.Seq, r.Tenant, r.Article, r.Revision)
	}
	return a, nil
}
