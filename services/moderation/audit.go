package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// actorAuto is the actor of moderation's own verdicts in the audit trail.
const actorAuto = "auto"

// auditEntry is one decision in the audit trail: a verdict of moderation's
// checks, or a reviewer's decision with the findings they were shown.
// Entries are messages of the AUDIT stream, which denies deleting and
// purging them, on "audit.moderation.<tenant>.<article>.<actor>" (actor:
// "auto" or the reviewer's key id), so that the trail of one article and
// that of one reviewer are each a subject filter.
type auditEntry struct {
	Seq      uint64    `json:"seq,omitempty"` // stream sequence, when read back
	Tenant   string    `json:"tenant"`
	Article  string    `json:"article"`
	Revision int64     `json:"revision"`
	Title    string    `json:"title"`
	Decision string    `json:"decision"` // approve, hold or reject
	Actor    string    `json:"actor"`    // "auto" or a key id
	Name     string    `json:"name,omitempty"`
	At       time.Time `json:"at"`
	Note     string    `json:"note,omitempty"`
	Policy   string    `json:"policy"`
	// Findings are the automated findings the decision was made with.
	Findings []Finding `json:"findings"`
}

func auditSubject(tenantID, articleID, actor string) string {
	return "audit.moderation." + tenantID + "." + articleID + "." + actor
}

// auditOf is the entry a record's current state calls for.
func auditOf(r *record) auditEntry {
	e := auditEntry{
		Tenant: r.Tenant, Article: r.Article, Revision: r.Revision, Title: r.Title,
		Decision: r.Verdict.Decision, Actor: actorAuto, At: r.VerdictAt, Policy: r.Verdict.Policy, Findings: r.Verdict.Findings,
	}
	if rv := r.Review; rv != nil {
		e.Decision, e.Actor, e.Name, e.At, e.Note = rv.Decision, rv.Reviewer, rv.Name, rv.At, rv.Note
	}
	return e
}

// appendAudit writes an entry once: its message id drops a repeat within
// the dedupe window, and the last entry on its subject is compared first,
// so a retry long after (the reconciler after an outage) does not write it
// twice either.
func (s *service) appendAudit(ctx context.Context, e auditEntry) error {
	subject := auditSubject(e.Tenant, e.Article, e.Actor)
	last, err := s.audit.GetLastMsgForSubject(ctx, subject)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
	case err != nil:
		return fmt.Errorf("reading the audit trail: %w", err)
	default:
		var prev auditEntry
		if json.Unmarshal(last.Data, &prev) == nil && prev.Revision == e.Revision && prev.Decision == e.Decision && prev.At.Equal(e.At) {
			return nil
		}
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding audit entry: %w", err)
	}
	msg := nats.NewMsg(subject)
	msg.Data = b
	msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s.%s.%d.%s.%s.audit", e.Tenant, e.Article, e.Revision, e.Actor, e.Decision))
	if _, err := s.bus.JetStream().PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("appending to the audit trail: %w", err)
	}
	return nil
}

// maxAuditList bounds one listing; the newest entries are kept.
const maxAuditList = 500

// listAudit returns the entries on a subject filter, newest first.
func (s *service) listAudit(ctx context.Context, filter string) ([]auditEntry, error) {
	info, err := s.audit.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("reading the audit trail: %w", err)
	}
	total := 0
	for _, n := range info.State.Subjects {
		total += int(n)
	}
	if total == 0 {
		return []auditEntry{}, nil
	}
	cons, err := s.audit.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		return nil, fmt.Errorf("reading the audit trail: %w", err)
	}
	var out []auditEntry
	for len(out) < total {
		batch, err := cons.Fetch(min(total-len(out), 256), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("reading the audit trail: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			var e auditEntry
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				continue
			}
			if meta, err := m.Metadata(); err == nil {
				e.Seq = meta.Sequence.Stream
			}
			out = append(out, e)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("reading the audit trail: %w", err)
		}
		if n == 0 {
			break
		}
	}
	slices.Reverse(out)
	if len(out) > maxAuditList {
		out = out[:maxAuditList]
	}
	return out, nil
}

func (s *service) auditOfArticle(ctx context.Context, tenantID, articleID string) ([]auditEntry, error) {
	return s.listAudit(ctx, auditSubject(tenantID, articleID, "*"))
}

func (s *service) auditOfActor(ctx context.Context, tenantID, actor string) ([]auditEntry, error) {
	return s.listAudit(ctx, "audit.moderation."+tenantID+".*."+actor)
}
