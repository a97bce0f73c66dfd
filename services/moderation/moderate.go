package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

// articleIDPattern is the article id ingest makes (docs/conventions.md).
var articleIDPattern = regexp.MustCompile(`^[a-z0-9]{16}$`)

// service is moderation: the article.submitted consumer, the review desk
// and the reconciler share it.
type service struct {
	cfg     Config
	log     *slog.Logger
	bus     *bus.Bus
	tenants *tenant.Store
	keys    *apikey.Store
	records jetstream.KeyValue
	index   *index
	// articles is the ARTICLES stream (submissions are read back from it),
	// audit the AUDIT stream.
	articles jetstream.Stream
	audit    jetstream.Stream
	rules    rulesCache
	sessions *sessions
	// timeout bounds the work on one message, below the consumer's AckWait.
	timeout  time.Duration
	verdicts *prometheus.CounterVec
	pages    *pages
	now      func() time.Time
}

func newVerdictCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "moderation_verdicts_total",
		Help: "Article revisions decided, by verdict (approved, held, rejected) and by whom (auto, reviewer).",
	}, []string{"verdict", "by"})
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	return c, nil
}

// maxRecordUpdates bounds the compare-and-set retries of one event.
const maxRecordUpdates = 10

// handle is the bus.Handler for bus.ConsumerModeration: it judges a
// submitted revision once, records the verdict, and writes what the verdict
// calls for. A redelivered event finds the record and only finishes what is
// left; an event older than the recorded revision changes nothing.
func (s *service) handle(ctx context.Context, msg *bus.Message) error {
	env := msg.Envelope
	a := env.GetArticleSubmitted().GetArticle()
	if a == nil {
		return bus.Permanent(fmt.Errorf("event %q carries no submitted article", env.GetId()))
	}
	tenantID := env.GetTenant()
	if err := tenant.ValidateID(tenantID); err != nil {
		return bus.Permanent(err)
	}
	if !articleIDPattern.MatchString(a.GetId()) {
		return bus.Permanent(fmt.Errorf("article id %.40q is not [a-z0-9]{16}", a.GetId()))
	}
	if a.GetRevision() < 1 {
		return bus.Permanent(fmt.Errorf("article %s: revision %d is not positive", a.GetId(), a.GetRevision()))
	}

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// An unknown tenant is retried: its configuration may not have reached
	// this replica's watched copy yet.
	t, err := s.tenants.Get(ctx, tenantID)
	if err != nil {
		return err
	}
	for range maxRecordUpdates {
		rec, rev, err := s.getRecord(ctx, tenantID, a.GetId())
		if err != nil && !errors.Is(err, errNoRecord) {
			return err
		}
		if rec != nil && rec.Revision > a.GetRevision() {
			s.log.Info("submission older than the recorded revision; ignored", "tenant", tenantID, "article", a.GetId(),
				"revision", a.GetRevision(), "recorded", rec.Revision)
			return nil
		}
		if rec != nil && rec.Revision == a.GetRevision() {
			if rec.Done {
				return nil
			}
			return s.complete(ctx, rec, rev, a)
		}
		rec = s.judge(t, a, msg.StreamSeq)
		rev, err = s.putRecord(ctx, rec, rev)
		if isConflict(err) {
			continue
		}
		if err != nil {
			return err
		}
		return s.complete(ctx, rec, rev, a)
	}
	return fmt.Errorf("moderation record %s.%s kept changing", tenantID, a.GetId())
}

// judge runs the tenant's rules and the near-duplicate check on a revision
// and makes its record.
func (s *service) judge(t *tenant.Tenant, a *eventsv1.Article, seq uint64) *record {
	rs := s.rules.get(t)
	res := rs.check(a)
	findings := res.findings
	hasSource := strings.TrimSpace(a.GetSource().GetName()) != "" || strings.TrimSpace(a.GetSource().GetUrl()) != ""
	if sev := rs.sev(ruleDuplicate); sev != tenant.SeverityOff {
		if other, sim := s.index.similar(t.ID, a.GetId(), res.fingerprint, rs.dupThreshold); other != nil {
			msg := fmt.Sprintf("Gần trùng (%.0f%%) với bài «%s» (mã %s) %s", sim*100, other.Title, other.Article, stateLabelLower(other.State))
			if !hasSource {
				msg += "; bài gửi không ghi nguồn"
			}
			findings = append(findings, Finding{Rule: ruleDuplicate, Severity: sev, Field: "body", Text: other.Title,
				Article: other.Article, Message: msg})
		}
	}
	v := decide(findings, rs.policy)
	now := s.now()
	return &record{
		Tenant: t.ID, Article: a.GetId(), Revision: a.GetRevision(), Title: a.GetTitle(), Category: a.GetCategory(),
		HasSource: hasSource, SubmittedAt: a.GetSubmittedAt().AsTime(), Seq: seq,
		Verdict: v, VerdictAt: now, Fingerprint: encodeSig(res.fingerprint), State: stateOf(v.Decision),
	}
}

func stateOf(decision string) string {
	switch decision {
	case decisionApprove:
		return stateApproved
	case decisionHold:
		return stateHeld
	}
	return stateRejected
}

// complete writes what a record's state calls for — the index entry, the
// audit entry, then the event — and marks the record done. Each step can be
// repeated harmlessly, so a retry after a failure part-way redoes it all.
// a is the article when the caller has it (else it is read back).
func (s *service) complete(ctx context.Context, r *record, rev uint64, a *eventsv1.Article) error {
	if r.State == stateRejected {
		if err := s.index.delete(ctx, r.Tenant, r.Article, rev); err != nil {
			return err
		}
	} else if err := s.index.put(ctx, entryOf(r, rev)); err != nil {
		return err
	}
	if err := s.appendAudit(ctx, auditOf(r)); err != nil {
		return err
	}
	env, err := s.event(ctx, r, a)
	if err != nil {
		return err
	}
	if err := s.bus.Publish(ctx, env); err != nil {
		return err
	}
	by := actorAuto
	if r.Review != nil {
		by = "reviewer"
	}
	s.verdicts.WithLabelValues(r.State, by).Inc()
	s.log.Info("article "+r.State, "tenant", r.Tenant, "article", r.Article, "revision", r.Revision, "by", by,
		"findings", len(r.Verdict.Findings), "policy", r.Verdict.Policy)

	r.Done = true
	if _, err := s.putRecord(ctx, r, rev); err != nil && !isConflict(err) {
		// The effects are written; a retry would only write them again.
		s.log.Warn("marking a moderation record done", "tenant", r.Tenant, "article", r.Article, "err", err)
	}
	if r.Review != nil {
		if err := s.records.Delete(ctx, pendingKey(r.Tenant, r.Article)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.log.Warn("clearing a pending decision", "tenant", r.Tenant, "article", r.Article, "err", err)
		}
	}
	return nil
}

func entryOf(r *record, rev uint64) *indexEntry {
	e := &indexEntry{
		Tenant: r.Tenant, Article: r.Article, Revision: r.Revision, Title: r.Title, Category: r.Category, State: r.State,
		SubmittedAt: r.SubmittedAt, At: r.VerdictAt, Policy: r.Verdict.Policy, Fingerprint: r.Fingerprint, Version: rev,
		Findings: map[string]int{},
	}
	if r.Review != nil {
		e.At = r.Review.At
	}
	for _, f := range r.Verdict.Findings {
		e.Findings[f.Severity]++
	}
	return e
}

// event is the article.approved, .held or .rejected event of a record's
// state. Its id is "<tenant>.<article>.<revision>.<state>" whoever decided,
// as only one decision of each kind can be made on a revision.
func (s *service) event(ctx context.Context, r *record, a *eventsv1.Article) (*eventsv1.Envelope, error) {
	at := r.VerdictAt
	if r.Review != nil {
		at = r.Review.At
	}
	env := &eventsv1.Envelope{
		Id:     fmt.Sprintf("%s.%s.%d.%s", r.Tenant, r.Article, r.Revision, r.State),
		Tenant: r.Tenant, CorrelationId: r.Article, OccurredAt: timestamppb.New(at),
	}
	var reviewLine string
	if rv := r.Review; rv != nil {
		who := "khóa " + rv.Reviewer
		if rv.Name != "" {
			who = rv.Name + " (" + who + ")"
		}
		verb := "duyệt đăng"
		if rv.Decision == decisionReject {
			verb = "từ chối"
		}
		reviewLine = fmt.Sprintf("review · Người duyệt %s đã %s", who, verb)
		if rv.Note != "" {
			reviewLine += ": " + rv.Note
		}
	}
	switch r.State {
	case stateApproved:
		if a == nil {
			var err error
			if a, err = s.submitted(ctx, r); err != nil {
				return nil, err
			}
		}
		notes := lines(r.Verdict.Findings, severityRank(tenant.SeverityWarn))
		if reviewLine != "" {
			notes = append([]string{reviewLine}, notes...)
		}
		env.Type = bus.TypeArticleApproved
		env.Payload = &eventsv1.Envelope_ArticleApproved{ArticleApproved: &eventsv1.ArticleApproved{Article: a, Notes: notes}}
	case stateHeld:
		reasons := lines(r.Verdict.Findings, severityRank(tenant.SeverityWarn))
		if !hasRank(r.Verdict.Findings, severityRank(tenant.SeverityHold)) {
			reasons = append([]string{"policy · review — Trang yêu cầu người duyệt mọi bài trước khi đăng"}, reasons...)
		}
		env.Type = bus.TypeArticleHeld
		env.Payload = &eventsv1.Envelope_ArticleHeld{ArticleHeld: &eventsv1.ArticleHeld{
			ArticleId: r.Article, Revision: r.Revision, Reasons: reasons}}
	default:
		reasons := lines(r.Verdict.Findings, severityRank(tenant.SeverityWarn))
		if reviewLine != "" {
			reasons = append([]string{reviewLine}, reasons...)
		}
		env.Type = bus.TypeArticleRejected
		env.Payload = &eventsv1.Envelope_ArticleRejected{ArticleRejected: &eventsv1.ArticleRejected{
			ArticleId: r.Article, Revision: r.Revision, Reasons: reasons}}
	}
	return env, nil
}

func hasRank(fs []Finding, rank int) bool {
	for _, f := range fs {
		if severityRank(f.Severity) >= rank {
			return true
		}
	}
	return false
}

// Errors of a reviewer's decision.
var (
	errDecided = errors.New("the article is not waiting for a decision")
	errStale   = errors.New("a newer revision of the article arrived")
)

// reviewer is who makes a decision at the desk.
type reviewer struct {
	keyID string
	name  string
}

// decideReview records a reviewer's decision on a held article, once: the
// record moves from "held" by a compare-and-set, so of two reviewers (or
// two clicks) one wins and the other gets errDecided. The decision's
// effects (audit entry, index, event) follow; if they fail, a pending
// marker lets the reconciler finish them, and the decision stands.
func (s *service) decideReview(ctx context.Context, tenantID, articleID string, revision int64, decision, note string, who reviewer) (*record, error) {
	rec, rev, err := s.getRecord(ctx, tenantID, articleID)
	if err != nil {
		return nil, err
	}
	if revision != 0 && revision != rec.Revision {
		return rec, errStale
	}
	if rec.State != stateHeld {
		return rec, errDecided
	}
	rec.Review = &review{Decision: decision, Reviewer: who.keyID, Name: who.name, At: s.now(), Note: note}
	rec.State, rec.Done = stateOf(decision), false
	if _, err := s.records.Put(ctx, pendingKey(tenantID, articleID), []byte(strconv.FormatUint(rev, 10))); err != nil {
		return nil, fmt.Errorf("marking the decision pending: %w", err)
	}
	newRev, err := s.putRecord(ctx, rec, rev)
	if isConflict(err) {
		cur, _, gerr := s.getRecord(ctx, tenantID, articleID)
		if gerr == nil && cur.Revision != rec.Revision {
			return cur, errStale
		}
		return cur, errDecided
	}
	if err != nil {
		return nil, err
	}
	if err := s.complete(ctx, rec, newRev, nil); err != nil {
		s.log.Error("decision recorded, its effects will be retried", "tenant", tenantID, "article", articleID, "err", err)
	}
	return rec, nil
}

// reconcileEvery is how often the reconciler looks for decisions whose
// effects were not all written; settle is how old such a decision must be,
// so that it does not race the request still writing them.
const (
	reconcileEvery = 15 * time.Second
	settle         = 10 * time.Second
)

// reconcile finishes reviewer decisions that were recorded but whose
// effects failed (NATS unreachable, a crash): they are marked by a pending
// key in the records bucket, so they survive restarts.
func (s *service) reconcile(ctx context.Context) {
	for {
		if err := s.reconcileOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reconciling pending decisions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconcileEvery):
		}
	}
}

func (s *service) reconcileOnce(ctx context.Context) error {
	keys, err := s.records.ListKeysFiltered(ctx, pendingFilter)
	if err != nil {
		return err
	}
	var pending []string
	for k := range keys.Keys() {
		pending = append(pending, k)
	}
	for _, k := range pending {
		parts := strings.Split(k, ".")
		if len(parts) != 3 {
			continue
		}
		rec, rev, err := s.getRecord(ctx, parts[1], parts[2])
		if errors.Is(err, errNoRecord) {
			_ = s.records.Delete(ctx, k)
			continue
		}
		if err != nil {
			return err
		}
		if rec.Done || rec.Review == nil {
			_ = s.records.Delete(ctx, k)
			continue
		}
		if s.now().Sub(rec.Review.At) < settle {
			continue
		}
		if err := s.complete(ctx, rec, rev, nil); err != nil {
			return err
		}
		s.log.Info("finished a pending decision", "tenant", rec.Tenant, "article", rec.Article)
	}
	return nil
}
