package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
)

// Scheduled publishing.
//
// An approved revision whose scheduled_at is later than now is not
// published: render stores its article.approved envelope in the
// render-schedule KV bucket under "<tenant>.<article>" and acks. The bucket
// is JetStream state, so a scheduled article survives the restart of every
// service. A scheduler loop in every render replica scans the bucket on
// start and every scheduleTick, and publishes each due entry exactly as the
// consumer publishes an approval (pages, lists, index, article.published),
// then deletes the entry with a revision check.
//
// Several replicas tick at once. Before publishing, a replica claims the
// entry by rewriting it with claimed_until = now + claimLease, compare-and-set
// on the KV revision it read: one replica wins, the others see a revision
// mismatch and move on. A replica that dies holding a claim leaves it to
// expire, and the next tick of any replica publishes the entry. Publishing is
// idempotent anyway (deterministic S3 keys, "<t>.<a>.<rev>.published" message
// id, CAS on the render-index), so a rare double publish after an expired
// claim rewrites the same pages and is deduplicated on the stream.
//
// A takedown that finds a live claim is retried (errClaimed) rather than
// deleting the entry under a replica that may be publishing it, so it is
// applied after that publish.
//
// Only one entry per article: a newer approved revision replaces an older
// one (the highest revision is kept, CAS on the KV revision), and an
// approval published immediately removes an entry of an older or equal
// revision.
//
// The bucket also remembers takedowns. article.unpublished replaces the
// article's entry with a tombstone, {"taken_down_revision": N}, where N is
// the article's latest revision when the editor took it down (ingest sends
// it, not only the revision online): a revision still in moderation then
// was submitted before the takedown, and its late approval must not bring
// the article back. publish refuses every approval of a revision up to N
// (acked and logged); only a higher one, submitted after the takedown,
// publishes, and removes the tombstone (CAS) once published. A newer
// revision scheduled meanwhile carries N in its entry, so the refusal holds
// while it waits. The scheduler's scan skips tombstones: they are never due.

const (
	// scheduleTick is how often each replica looks for due entries; with
	// claimLease it bounds how late a scheduled article can appear (one
	// tick normally, a lease and a tick when its claimant died).
	scheduleTick = 5 * time.Second
	// claimLease is how long a claim keeps other replicas off an entry. It
	// is longer than schedulePublishTimeout, so a claimant gives up before
	// anyone else may start.
	claimLease = 40 * time.Second
	// schedulePublishTimeout bounds the publish of one due entry.
	schedulePublishTimeout = 30 * time.Second
)

// scheduledEntry is the value under "<tenant>.<article>" in render-schedule.
type scheduledEntry struct {
	Revision int64     `json:"revision"`
	At       time.Time `json:"at"`
	// Envelope is the article.approved envelope, protobuf-encoded: the
	// scheduler publishes from it exactly as the consumer would.
	Envelope     []byte    `json:"envelope,omitempty"`
	ClaimedBy    string    `json:"claimed_by,omitempty"`
	ClaimedUntil time.Time `json:"claimed_until,omitzero"`
	// TakenDownRevision: approvals of revisions up to it are refused; an
	// entry with it and no envelope is a tombstone.
	TakenDownRevision int64 `json:"taken_down_revision,omitempty"`
}

// tombstone tells an entry that only remembers a takedown.
func (e scheduledEntry) tombstone() bool { return len(e.Envelope) == 0 }

// scheduleEntry reads the render-schedule entry under key: nil when there
// is none (or no bucket). publish reads it once and hands it to takenDown,
// schedule and unschedule: their writes are compare-and-set on its KV
// revision, so an entry changed since is never overwritten on stale grounds.
func (r *Renderer) scheduleEntry(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	if r.scheduled == nil {
		return nil, nil
	}
	cur, err := r.scheduled.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading schedule entry %s: %w", key, err)
	}
	return cur, nil
}

// takenDown is the highest revision of the article an editor took down
// (0: none), from its render-schedule entry cur (nil: none).
func takenDown(cur jetstream.KeyValueEntry) (int64, error) {
	if cur == nil {
		return 0, nil
	}
	var e scheduledEntry
	if err := json.Unmarshal(cur.Value(), &e); err != nil {
		return 0, bus.Permanent(fmt.Errorf("schedule entry %s: %w", cur.Key(), err))
	}
	return e.TakenDownRevision, nil
}

// isScheduled tells whether a must wait for its time.
func (r *Renderer) isScheduled(a *eventsv1.Article) bool {
	return a.GetScheduledAt() != nil && a.GetScheduledAt().AsTime().After(r.now())
}

// schedule stores an approved revision whose time has not come, keeping the
// highest revision of the article; cur is the article's entry as publish
// read it (nil: none).
func (r *Renderer) schedule(ctx context.Context, env *eventsv1.Envelope, a *eventsv1.Article, cur jetstream.KeyValueEntry) error {
	if r.scheduled == nil {
		return errors.New("scheduled article but no render-schedule bucket")
	}
	tid := env.GetTenant()
	key := indexKey(tid, a.GetId())
	data, err := proto.Marshal(env)
	if err != nil {
		return bus.Permanent(fmt.Errorf("encoding the approval of %s: %w", a.GetId(), err))
	}
	entry := scheduledEntry{Revision: a.GetRevision(), At: a.GetScheduledAt().AsTime().UTC(), Envelope: data}
	encode := func() ([]byte, error) {
		v, err := json.Marshal(entry)
		if err != nil {
			return nil, fmt.Errorf("encoding schedule entry %s: %w", key, err)
		}
		return v, nil
	}
	var v []byte
	if cur == nil {
		if v, err = encode(); err != nil {
			return err
		}
		_, err = r.scheduled.Create(ctx, key, v)
	} else {
		var old scheduledEntry
		if json.Unmarshal(cur.Value(), &old) == nil && old.Revision > a.GetRevision() {
			r.log.Info("skipping a scheduled revision older than the one waiting", "tenant", tid, "article", a.GetId(),
				"revision", a.GetRevision(), "waiting", old.Revision)
			return nil
		}
		// A takedown before this revision still refuses older approvals
		// while this one waits (publish checked this one is newer).
		entry.TakenDownRevision = old.TakenDownRevision
		if v, err = encode(); err != nil {
			return err
		}
		_, err = r.scheduled.Update(ctx, key, v, cur.Revision())
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return fmt.Errorf("schedule entry %s changed concurrently; retrying", key) // redelivered, re-read
	}
	if err != nil {
		return fmt.Errorf("storing schedule entry %s: %w", key, err)
	}
	r.log.Info("article scheduled", "tenant", tid, "article", a.GetId(), "revision", a.GetRevision(),
		"at", a.GetScheduledAt().AsTime().In(vietnam).Format(time.RFC3339))
	return nil
}

// errClaimed is returned to article.unpublished while a replica holds a
// live claim on the article's entry, i.e. may be publishing it right now:
// the takedown is retried and finds the article published (and takes it
// down) or the claim released or expired.
var errClaimed = errors.New("the scheduled article is being published; retrying the takedown")

// unschedule removes the article's entry cur, as publish read it (nil:
// none), when its revision is at most rev (rev 0: any revision) and rev is
// above the revision a tombstone in it took down: an approval published or
// superseded is done with its entry. An entry changed since it was read is
// left alone: it is a newer approval, a takedown or a scheduler's claim
// (whose publish then finds the article published and removes it).
func (r *Renderer) unschedule(ctx context.Context, tid, id string, rev int64, cur jetstream.KeyValueEntry) error {
	if cur == nil {
		return nil
	}
	key := cur.Key()
	var e scheduledEntry
	if json.Unmarshal(cur.Value(), &e) == nil && rev > 0 && (e.Revision > rev || e.TakenDownRevision >= rev) {
		return nil
	}
	err := r.scheduled.Delete(ctx, key, jetstream.LastRevision(cur.Revision()))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("removing schedule entry %s: %w", key, err)
	}
	r.log.Info("schedule entry removed", "tenant", tid, "article", id, "revision", e.Revision, "taken_down_revision", e.TakenDownRevision)
	return nil
}

// entomb records a takedown of the article's revisions up to rev (0: the
// one waiting, if any) in its entry. A waiting approval up to rev is
// replaced by a tombstone; one of a higher revision, submitted after the
// takedown, keeps waiting and carries rev. An entry claimed by a scheduler
// is left alone and errClaimed returned, so that a takedown racing a
// scheduled publish on another replica is applied after it. A concurrent
// change of the entry is retried (the bus redelivers the takedown).
func (r *Renderer) entomb(ctx context.Context, tid, id string, rev int64) error {
	if r.scheduled == nil {
		return nil
	}
	key := indexKey(tid, id)
	var e scheduledEntry
	cur, err := r.scheduleEntry(ctx, key)
	if err != nil {
		return err
	}
	if cur != nil {
		if err := json.Unmarshal(cur.Value(), &e); err != nil {
			r.log.Error("replacing an unreadable schedule entry with a tombstone", "key", key, "err", err)
			e = scheduledEntry{}
		}
	}
	if rev == 0 {
		rev = e.Revision
	}
	if cur != nil && e.ClaimedUntil.After(r.now()) {
		return fmt.Errorf("%w: %s claimed by %s", errClaimed, key, e.ClaimedBy)
	}
	next := scheduledEntry{TakenDownRevision: max(e.TakenDownRevision, rev)}
	if !e.tombstone() && e.Revision > rev {
		next = e
		next.TakenDownRevision = max(e.TakenDownRevision, rev)
	}
	if next.TakenDownRevision == 0 {
		return nil // nothing waits and no revision to refuse
	}
	v, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("encoding tombstone %s: %w", key, err)
	}
	if cur == nil {
		_, err = r.scheduled.Create(ctx, key, v)
	} else if !bytes.Equal(v, cur.Value()) {
		_, err = r.scheduled.Update(ctx, key, v, cur.Revision())
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return fmt.Errorf("schedule entry %s changed concurrently; retrying the takedown", key)
	}
	if err != nil {
		return fmt.Errorf("storing tombstone %s: %w", key, err)
	}
	r.log.Info("takedown recorded", "tenant", tid, "article", id, "taken_down_revision", next.TakenDownRevision,
		"was_waiting", e.Revision, "still_waiting", next.Revision)
	return nil
}

// keepSchedule publishes due entries now and then every scheduleTick until
// ctx ends.
func (r *Renderer) keepSchedule(ctx context.Context) {
	tick := time.NewTicker(scheduleTick)
	defer tick.Stop()
	for {
		if n, err := r.publishDue(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("publishing scheduled articles; the next tick retries", "err", err, "published", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// dueEntry is an entry read from the bucket with its KV revision.
type dueEntry struct {
	key   string
	kvRev uint64
	e     scheduledEntry
}

// publishDue publishes every entry whose time has come and that no live
// claim holds. It returns how many it published.
func (r *Renderer) publishDue(ctx context.Context) (int, error) {
	w, err := r.scheduled.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return 0, fmt.Errorf("reading render-schedule: %w", err)
	}
	var due []dueEntry
	now := r.now()
read:
	for {
		select {
		case <-ctx.Done():
			_ = w.Stop()
			return 0, ctx.Err()
		case kve, ok := <-w.Updates():
			if !ok || kve == nil {
				break read
			}
			if kve.Operation() != jetstream.KeyValuePut {
				continue
			}
			var e scheduledEntry
			if err := json.Unmarshal(kve.Value(), &e); err != nil {
				r.log.Error("unreadable schedule entry left in place", "key", kve.Key(), "err", err)
				continue
			}
			if !e.tombstone() && !e.At.After(now) && !e.ClaimedUntil.After(now) {
				due = append(due, dueEntry{key: kve.Key(), kvRev: kve.Revision(), e: e})
			}
		}
	}
	_ = w.Stop()
	var errs []error
	n := 0
	for _, d := range due {
		ok, err := r.publishEntry(ctx, d)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// publishEntry claims a due entry, publishes it and deletes it. It reports
// whether this replica published it.
func (r *Renderer) publishEntry(ctx context.Context, d dueEntry) (bool, error) {
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(d.e.Envelope, env); err != nil {
		return false, fmt.Errorf("schedule entry %s: %w", d.key, err)
	}
	a := env.GetArticleApproved().GetArticle()
	if tenant.ValidateID(env.GetTenant()) != nil || a == nil || indexKey(env.GetTenant(), a.GetId()) != d.key {
		return false, fmt.Errorf("schedule entry %s holds an envelope of %s/%s", d.key, env.GetTenant(), a.GetId())
	}
	claimed := d.e
	claimed.ClaimedBy = r.replica
	claimed.ClaimedUntil = r.now().Add(claimLease).UTC()
	v, err := json.Marshal(claimed)
	if err != nil {
		return false, fmt.Errorf("encoding claim of %s: %w", d.key, err)
	}
	claimRev, err := r.scheduled.Update(ctx, d.key, v, d.kvRev)
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return false, nil // another replica claimed it, or a newer approval replaced it
	}
	if err != nil {
		return false, fmt.Errorf("claiming %s: %w", d.key, err)
	}

	pctx, cancel := context.WithTimeout(ctx, schedulePublishTimeout)
	defer cancel()
	r.mu.Lock()
	// Under the lock, the entry must still be ours: an unpublish or a newer
	// approval handled meanwhile by this process changed or deleted it.
	cur, err := r.scheduled.Get(pctx, d.key)
	if err != nil || cur.Revision() != claimRev {
		r.mu.Unlock()
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return false, fmt.Errorf("re-reading %s: %w", d.key, err)
		}
		return false, nil
	}
	err = r.publish(pctx, env, a)
	r.mu.Unlock()
	if err != nil {
		// Release the claim so that the next tick of any replica retries
		// (a photo still being resized, S3 briefly down, this replica
		// shutting down); if even that fails, the claim expires.
		r.releaseClaim(ctx, d, claimRev)
		return false, fmt.Errorf("publishing scheduled %s revision %d: %w", d.key, a.GetRevision(), err)
	}
	return true, nil
}

// releaseClaim puts an entry back unclaimed, unless it changed since.
func (r *Renderer) releaseClaim(ctx context.Context, d dueEntry, claimRev uint64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	v, err := json.Marshal(d.e)
	if err == nil {
		_, err = r.scheduled.Update(ctx, d.key, v, claimRev)
	}
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) {
		r.log.Warn("releasing a schedule claim; it expires on its own", "key", d.key, "err", err)
	}
}

// replicaName tells claims apart in the bucket for whoever inspects it.
func replicaName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())
}
