package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
)

// Article statuses, in the order an article moves through them.
const (
	statusDraft       = "draft"
	statusSubmitted   = "submitted"
	statusApproved    = "approved"
	statusRejected    = "rejected"
	statusHeld        = "held"
	statusScheduled   = "scheduled"
	statusPublished   = "published"
	statusUnpublished = "unpublished"
)

// statusRank orders statuses so a late or redelivered event cannot move an
// article backwards: a verdict never replaces a publication.
var statusRank = map[string]int{
	statusDraft:     0,
	statusSubmitted: 1,
	statusApproved:  2, statusRejected: 2, statusHeld: 2,
	statusScheduled:   3,
	statusPublished:   4,
	statusUnpublished: 5,
}

// maxStatusUpdates bounds the compare-and-set retries of one event; beyond
// it the event is retried later by the bus.
const maxStatusUpdates = 10

var errBadStatusDoc = errors.New("undecodable article status document")

// statusDoc is an article's status, the value of "<tenant>.<article>" in the
// articles bucket. Ingest writes it at submission and keeps it current from
// the events moderation and render publish.
type statusDoc struct {
	ID        string   `json:"id"`
	Tenant    string   `json:"tenant"`
	Revision  int64    `json:"revision"`
	Title     string   `json:"title"`
	Category  string   `json:"category"`
	Status    string   `json:"status"`
	Reasons   []string `json:"reasons,omitempty"`
	Notes     []string `json:"notes,omitempty"`
	PublicURL string   `json:"public_url,omitempty"`
	// StatusAt is when the current status was reached (the event's time).
	StatusAt time.Time      `json:"status_at"`
	History  []historyEntry `json:"history"`
	MediaIDs []string       `json:"media_ids,omitempty"`

	Author string   `json:"author,omitempty"`
	Tags   []string `json:"tags,omitempty"`
	// UpdatedAt is the last change of any kind (edit or status), the order
	// of the article list.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// ScheduledAt is the current revision's publication time, if scheduled.
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
	// OnlineRevision is the revision the public page shows (PublicURL),
	// which may be older than Revision while an edit is in moderation.
	OnlineRevision int64 `json:"online_revision,omitempty"`
	// Revisions lists every revision, so the history needs no S3 listing.
	Revisions []revisionEntry `json:"revisions,omitempty"`
	// Pending claims the next revision number while its document is being
	// written; see saveRevision.
	Pending *pendingRevision `json:"pending,omitempty"`
}

// revisionEntry is one stored revision of an article.
type revisionEntry struct {
	Revision int64     `json:"revision"`
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Title    string    `json:"title"`
}

// historyEntry is one event in an article's life, in time order.
type historyEntry struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	// Event is the envelope id, so a redelivered event is recorded once.
	Event    string `json:"event,omitempty"`
	Revision int64  `json:"revision,omitempty"`
	// Mode and Reason describe a takedown; Reason also a held or rejected verdict.
	Mode   string `json:"mode,omitempty"`
	Reason string `json:"reason,omitempty"`
	// ScheduledAt is the publication time a "scheduled" entry was given.
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
}

func newStatusDoc(tenantID string, art *eventsv1.Article, by string) *statusDoc {
	at := art.GetSubmittedAt().AsTime()
	return &statusDoc{
		ID: art.GetId(), Tenant: tenantID, Revision: art.GetRevision(),
		Title: art.GetTitle(), Category: art.GetCategory(),
		Status: statusSubmitted, StatusAt: at,
		History:  []historyEntry{{Status: statusSubmitted, At: at, By: by, Revision: art.GetRevision()}},
		MediaIDs: mediaIDs(art),
		Author:   art.GetAuthor(), Tags: art.GetTags(), UpdatedAt: at,
		Revisions: []revisionEntry{{Revision: art.GetRevision(), At: at, By: by, Title: art.GetTitle()}},
	}
}

func (d *statusDoc) encode() []byte {
	b, _ := json.Marshal(d) // plain strings, times and slices always encode
	return b
}

// readStatus returns an article's status document and its KV revision, for
// a compare-and-set update; jetstream.ErrKeyNotFound if there is none.
func (s *service) readStatus(ctx context.Context, tenantID, articleID string) (*statusDoc, uint64, error) {
	e, err := s.articles.Get(ctx, tenantID+"."+articleID)
	if err != nil {
		return nil, 0, err
	}
	var d statusDoc
	if err := json.Unmarshal(e.Value(), &d); err != nil {
		return nil, 0, fmt.Errorf("%w %s.%s: %w", errBadStatusDoc, tenantID, articleID, err)
	}
	return &d, e.Revision(), nil
}

// statusEvent is what the consumer takes from one moderation or render event.
type statusEvent struct {
	id        string
	tenant    string
	articleID string
	revision  int64
	status    string
	at        time.Time
	by        string
	reasons   []string
	notes     []string
	url       string
	// scheduledAt is set on an approval of an article scheduled for later.
	scheduledAt *time.Time
}

// statusEventOf reads an envelope the ingest-status consumer receives.
func statusEventOf(env *eventsv1.Envelope) (statusEvent, error) {
	ev := statusEvent{id: env.GetId(), tenant: env.GetTenant(), at: env.GetOccurredAt().AsTime()}
	if env.GetOccurredAt() == nil {
		ev.at = time.Now().UTC()
	}
	switch p := env.GetPayload().(type) {
	case *eventsv1.Envelope_ArticleApproved:
		art := p.ArticleApproved.GetArticle()
		ev.articleID, ev.revision, ev.status, ev.by = art.GetId(), art.GetRevision(), statusApproved, "moderation"
		ev.notes = p.ArticleApproved.GetNotes()
		// Scheduled for after the approval: render holds it until then.
		if sa := art.GetScheduledAt(); sa != nil && sa.AsTime().After(ev.at) {
			t := sa.AsTime().UTC()
			ev.status, ev.scheduledAt = statusScheduled, &t
		}
	case *eventsv1.Envelope_ArticleRejected:
		ev.articleID, ev.revision, ev.status, ev.by = p.ArticleRejected.GetArticleId(), p.ArticleRejected.GetRevision(), statusRejected, "moderation"
		ev.reasons = p.ArticleRejected.GetReasons()
	case *eventsv1.Envelope_ArticleHeld:
		ev.articleID, ev.revision, ev.status, ev.by = p.ArticleHeld.GetArticleId(), p.ArticleHeld.GetRevision(), statusHeld, "moderation"
		ev.reasons = p.ArticleHeld.GetReasons()
	case *eventsv1.Envelope_ArticlePublished:
		ev.articleID, ev.revision, ev.status, ev.by = p.ArticlePublished.GetArticleId(), p.ArticlePublished.GetRevision(), statusPublished, "render"
		ev.url = p.ArticlePublished.GetUrl()
	case *eventsv1.Envelope_ArticleUnpublished:
		ev.articleID, ev.revision, ev.status, ev.by = p.ArticleUnpublished.GetArticleId(), p.ArticleUnpublished.GetRevision(), statusUnpublished, "render"
		if r := p.ArticleUnpublished.GetReason(); r != "" {
			ev.reasons = []string{r}
		}
	default:
		return ev, fmt.Errorf("event %q of type %q has no article status payload", env.GetId(), env.GetType())
	}
	if err := tenant.ValidateID(ev.tenant); err != nil {
		return ev, fmt.Errorf("event %q: %w", env.GetId(), err)
	}
	if !articleIDPattern.MatchString(ev.articleID) || ev.revision < 1 {
		return ev, fmt.Errorf("event %q: bad article id %q or revision %d", env.GetId(), ev.articleID, ev.revision)
	}
	return ev, nil
}

// handleStatusEvent records a moderation or render event in the article's
// status document, with a compare-and-set so that concurrent writers (a
// replica, the submit handler) never lose an update.
func (s *service) handleStatusEvent(ctx context.Context, m *bus.Message) error {
	ev, err := statusEventOf(m.Envelope)
	if err != nil {
		return bus.Permanent(err)
	}
	key := ev.tenant + "." + ev.articleID
	for range maxStatusUpdates {
		doc, rev, err := s.readStatus(ctx, ev.tenant, ev.articleID)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			s.log.Warn("status event for an unknown article; ignored", "event", ev.id, "article", key)
			return nil
		case errors.Is(err, errBadStatusDoc):
			return bus.Permanent(err)
		case err != nil:
			return fmt.Errorf("reading status of %s: %w", key, err)
		}
		if ev.revision > doc.Revision {
			s.log.Warn("status event for a revision the status document does not have; ignored",
				"event", ev.id, "doc_revision", doc.Revision)
			return nil
		}
		changed := false
		if ev.revision < doc.Revision {
			changed = doc.applyOlder(ev)
		} else {
			changed = doc.apply(ev)
		}
		if !changed {
			return nil
		}
		_, err = s.articles.Update(ctx, key, doc.encode(), rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		}
		if err != nil {
			return fmt.Errorf("updating status of %s: %w", key, err)
		}
		s.log.Info("article status", "article", key, "revision", doc.Revision, "status", doc.Status, "event", ev.id)
		return nil
	}
	return fmt.Errorf("status of %s kept changing during %d updates", key, maxStatusUpdates)
}

// apply records ev (of the document's revision) and reports whether the
// document changed. A redelivered event changes nothing; an event that
// arrives after a later one (a late "approved" after "published") goes into
// the history without changing the status.
func (d *statusDoc) apply(ev statusEvent) bool {
	for _, h := range d.History {
		if h.Event == ev.id && h.At.Equal(ev.at) {
			return false
		}
	}
	d.record(ev)
	if !supersedes(d.Status, d.StatusAt, ev.status, ev.at) {
		return true
	}
	d.Status, d.StatusAt = ev.status, ev.at
	d.UpdatedAt = later(d.UpdatedAt, ev.at)
	switch ev.status {
	case statusApproved:
		d.Reasons, d.Notes, d.ScheduledAt = nil, ev.notes, nil
	case statusScheduled:
		d.Reasons, d.Notes, d.ScheduledAt = nil, ev.notes, ev.scheduledAt
	case statusRejected, statusHeld:
		d.Reasons = ev.reasons
	case statusPublished:
		d.Reasons, d.PublicURL, d.OnlineRevision, d.ScheduledAt = nil, ev.url, ev.revision, nil
	case statusUnpublished:
		d.Reasons, d.PublicURL, d.OnlineRevision, d.ScheduledAt = ev.reasons, "", 0, nil
	}
	return true
}

// applyOlder records an event about a revision older than the current one.
// It never changes the status, which belongs to the newer revision, but
// keeps track of what is online: the older revision's publication (its
// page stays up while the new revision is in moderation) or its removal.
func (d *statusDoc) applyOlder(ev statusEvent) bool {
	for _, h := range d.History {
		if h.Event == ev.id && h.At.Equal(ev.at) {
			return false
		}
	}
	d.record(ev)
	switch {
	case ev.status == statusPublished && ev.revision >= d.OnlineRevision && d.Status != statusPublished && d.Status != statusUnpublished:
		d.PublicURL, d.OnlineRevision = ev.url, ev.revision
	case ev.status == statusUnpublished && ev.revision == d.OnlineRevision:
		d.PublicURL, d.OnlineRevision = "", 0
	}
	return true
}

// record inserts ev into the history in time order.
func (d *statusDoc) record(ev statusEvent) {
	entry := historyEntry{Status: ev.status, At: ev.at, By: ev.by, Event: ev.id, Revision: ev.revision, ScheduledAt: ev.scheduledAt}
	if len(ev.reasons) > 0 {
		entry.Reason = strings.Join(ev.reasons, "; ")
	}
	if ev.status == statusUnpublished {
		entry.Mode = takedownMode(entry.Reason)
	}
	i := slices.IndexFunc(d.History, func(h historyEntry) bool { return h.At.After(ev.at) })
	if i < 0 {
		i = len(d.History)
	}
	d.History = slices.Insert(d.History, i, entry)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// supersedes decides whether an event's status replaces the current one:
// submitted < approved/rejected/held < published < unpublished, verdicts of
// one rank replace each other in time order (held, then approved by a
// reviewer). A takedown carries the article's latest revision and render
// refuses approvals up to it (its tombstone in render-schedule), so after
// an unpublication no event about that revision changes the status: only a
// new revision (PUT, revert), which the handlers set to submitted, does.
func supersedes(cur string, curAt time.Time, next string, nextAt time.Time) bool {
	rc, rn := statusRank[cur], statusRank[next]
	switch {
	case rn > rc:
		return true
	case rn == rc:
		return !nextAt.Before(curAt)
	default:
		return false
	}
}

// articleView is the answer of GET …/articles/{id}: the status and, in
// Article, the current revision's content in the form a PUT takes.
type articleView struct {
	ID             string            `json:"id"`
	Tenant         string            `json:"tenant"`
	Revision       int64             `json:"revision"`
	Title          string            `json:"title"`
	Category       string            `json:"category"`
	Author         string            `json:"author,omitempty"`
	Tags           []string          `json:"tags,omitempty"`
	Status         string            `json:"status"`
	StatusAt       time.Time         `json:"status_at"`
	UpdatedAt      time.Time         `json:"updated_at,omitzero"`
	ScheduledAt    *time.Time        `json:"scheduled_at,omitempty"`
	Reasons        []string          `json:"reasons"`
	Notes          []string          `json:"notes,omitempty"`
	PublicURL      string            `json:"public_url,omitempty"`
	OnlineRevision int64             `json:"online_revision,omitempty"`
	History        []historyView     `json:"history"`
	Media          []mediaStatusView `json:"media"`
	Article        *articleContent   `json:"article,omitempty"`
}

type historyView struct {
	Status      string     `json:"status"`
	Revision    int64      `json:"revision,omitempty"`
	At          time.Time  `json:"at"`
	By          string     `json:"by"`
	Mode        string     `json:"mode,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
}

// mediaStatusView is one photo of an article and how far image-resize got.
type mediaStatusView struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func viewOf(d *statusDoc) articleView {
	v := articleView{
		ID: d.ID, Tenant: d.Tenant, Revision: d.Revision, Title: d.Title, Category: d.Category,
		Author: d.Author, Tags: d.Tags, StatusAt: d.StatusAt, UpdatedAt: d.UpdatedAt, ScheduledAt: d.ScheduledAt,
		Status: d.Status, Reasons: d.Reasons, Notes: d.Notes, PublicURL: d.PublicURL, OnlineRevision: d.OnlineRevision,
		History: historyViews(d.History), Media: []mediaStatusView{},
	}
	if v.Reasons == nil {
		v.Reasons = []string{}
	}
	return v
}

// historyViews is an article's history as GET one and the list show it.
func historyViews(hs []historyEntry) []historyView {
	out := make([]historyView, len(hs))
	for i, h := range hs {
		out[i] = historyView{Status: h.Status, Revision: h.Revision, At: h.At, By: h.By, Mode: h.Mode, Reason: h.Reason, ScheduledAt: h.ScheduledAt}
	}
	return out
}
