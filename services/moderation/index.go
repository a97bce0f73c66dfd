package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// indexEntry is the summary of a held or approved article in the
// "moderation-index" bucket, under "<tenant>.<article>". Every replica
// watches the bucket into memory: the held entries are the review queue,
// and all of them are what a new article is compared with for
// near-duplicates. A rejected article has no entry, so that an editor's
// corrected resubmission is not its duplicate.
type indexEntry struct {
	Tenant      string         `json:"tenant"`
	Article     string         `json:"article"`
	Revision    int64          `json:"revision"`
	Title       string         `json:"title"`
	Category    string         `json:"category"`
	State       string         `json:"state"`
	SubmittedAt time.Time      `json:"submitted_at"`
	At          time.Time      `json:"at"` // when it reached State
	Findings    map[string]int `json:"findings,omitempty"`
	Policy      string         `json:"policy"`
	Fingerprint []byte         `json:"fingerprint,omitempty"`
	// Version is the KV revision of the record it summarises: a write never
	// replaces a newer one.
	Version uint64 `json:"version"`

	sig []uint32
}

// index is the in-memory copy of the bucket.
type index struct {
	kv jetstream.KeyValue

	mu      sync.RWMutex
	tenants map[string]map[string]*indexEntry
	cancel  context.CancelFunc
	done    chan struct{}
}

func newIndex(kv jetstream.KeyValue) *index {
	return &index{kv: kv, tenants: map[string]map[string]*indexEntry{}}
}

// watch loads the bucket and keeps the copy current until stop; it returns
// once the initial values are in.
func (x *index) watch(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.Background())
	w, err := x.kv.WatchAll(wctx)
	if err != nil {
		cancel()
		return fmt.Errorf("watching %s: %w", x.kv.Bucket(), err)
	}
	ready := make(chan struct{})
	x.cancel, x.done = cancel, make(chan struct{})
	go func() {
		defer close(x.done)
		defer w.Stop() //nolint:errcheck // stopping on shutdown
		initial := true
		for {
			select {
			case <-wctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					if initial {
						initial = false
						close(ready)
					}
					continue
				}
				tenantID, articleID, _ := strings.Cut(e.Key(), ".")
				if e.Operation() != jetstream.KeyValuePut {
					x.remove(tenantID, articleID)
					continue
				}
				var ie indexEntry
				if json.Unmarshal(e.Value(), &ie) == nil {
					x.apply(&ie)
				}
			}
		}
	}()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		x.stop()
		return ctx.Err()
	}
}

func (x *index) stop() {
	if x.cancel != nil {
		x.cancel()
		<-x.done
	}
}

// apply puts an entry in the copy unless the copy has a newer one.
func (x *index) apply(e *indexEntry) {
	e.sig = decodeSig(e.Fingerprint)
	x.mu.Lock()
	defer x.mu.Unlock()
	m := x.tenants[e.Tenant]
	if m == nil {
		m = map[string]*indexEntry{}
		x.tenants[e.Tenant] = m
	}
	if old, ok := m[e.Article]; ok && old.Version > e.Version {
		return
	}
	m[e.Article] = e
}

func (x *index) remove(tenantID, articleID string) {
	x.mu.Lock()
	delete(x.tenants[tenantID], articleID)
	x.mu.Unlock()
}

// put writes an entry unless the bucket holds a newer version, and applies
// it to this replica's copy at once, so that the reviewer who just decided
// sees the queue without it.
func (x *index) put(ctx context.Context, e *indexEntry) error {
	key := e.Tenant + "." + e.Article
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding index entry: %w", err)
	}
	for range 10 {
		cur, err := x.kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			_, err = x.kv.Create(ctx, key, b)
		case err != nil:
			return fmt.Errorf("reading index entry %s: %w", key, err)
		default:
			var old indexEntry
			if json.Unmarshal(cur.Value(), &old) == nil && old.Version > e.Version {
				return nil
			}
			_, err = x.kv.Update(ctx, key, b, cur.Revision())
		}
		if isConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("writing index entry %s: %w", key, err)
		}
		x.apply(e)
		return nil
	}
	return fmt.Errorf("index entry %s kept changing", key)
}

// delete removes an entry unless the bucket holds a newer version.
func (x *index) delete(ctx context.Context, tenantID, articleID string, version uint64) error {
	key := tenantID + "." + articleID
	cur, err := x.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		x.remove(tenantID, articleID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading index entry %s: %w", key, err)
	}
	var old indexEntry
	if json.Unmarshal(cur.Value(), &old) == nil && old.Version > version {
		return nil
	}
	if err := x.kv.Delete(ctx, key, jetstream.LastRevision(cur.Revision())); err != nil && !isConflict(err) {
		return fmt.Errorf("deleting index entry %s: %w", key, err)
	}
	x.remove(tenantID, articleID)
	return nil
}

// queue is a tenant's held articles, oldest first.
func (x *index) queue(tenantID string) []*indexEntry {
	x.mu.RLock()
	var out []*indexEntry
	for _, e := range x.tenants[tenantID] {
		if e.State == stateHeld {
			out = append(out, e)
		}
	}
	x.mu.RUnlock()
	slices.SortFunc(out, func(a, b *indexEntry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Article, b.Article)
	})
	return out
}

// similar returns the tenant's article (other than articleID) most similar
// to sig, if it is at least threshold similar.
func (x *index) similar(tenantID, articleID string, sig []uint32, threshold float64) (*indexEntry, float64) {
	if sig == nil {
		return nil, 0
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var best *indexEntry
	bestSim := 0.0
	for id, e := range x.tenants[tenantID] {
		if id == articleID || e.sig == nil {
			continue
		}
		if s := similarity(sig, e.sig); s >= threshold && (s > bestSim || s == bestSim && best != nil && e.At.Before(best.At)) {
			best, bestSim = e, s
		}
	}
	return best, bestSim
}
