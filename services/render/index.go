package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Summary is what lists, feeds and sitemaps need of an article: render's
// entry for it in the render-index KV bucket under "<tenant>.<article>".
// Render is the bucket's only writer.
type Summary struct {
	ID          string    `json:"id"`
	Revision    int64     `json:"revision"`
	Title       string    `json:"title"`
	Lead        string    `json:"lead"`
	Category    string    `json:"category"`
	Path        string    `json:"path"` // under the tenant's site, e.g. "bai-viet/<slug>-<id>.html"
	PublishedAt time.Time `json:"published_at"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	Thumb       string    `json:"thumb"` // public URL of the first photo's smallest rendition, or ""
	Author      string    `json:"author,omitempty"`
	// Tags are the article's tags as the editor wrote them, one per slug.
	Tags []string `json:"tags,omitempty"`
}

// equal tells whether two summaries are the same entry.
func (s Summary) equal(o Summary) bool {
	return s.ID == o.ID && s.Revision == o.Revision && s.Title == o.Title && s.Lead == o.Lead &&
		s.Category == o.Category && s.Path == o.Path && s.PublishedAt.Equal(o.PublishedAt) &&
		s.UpdatedAt.Equal(o.UpdatedAt) && s.Thumb == o.Thumb && s.Author == o.Author && slices.Equal(s.Tags, o.Tags)
}

// updated is when the article last changed, for feeds and sitemaps.
func (s Summary) updated() time.Time {
	if s.UpdatedAt.After(s.PublishedAt) {
		return s.UpdatedAt
	}
	return s.PublishedAt
}

// indexEntry is a summary with the KV revision it was read at, for
// compare-and-set writes.
type indexEntry struct {
	Summary
	kvRevision uint64
}

// tenantIndex is one tenant's published articles by id.
type tenantIndex map[string]indexEntry

func indexKey(tenantID, articleID string) string { return tenantID + "." + articleID }

// loadIndex reads every summary of a tenant with one watch over
// "<tenant>.*" (values included, deletes skipped), which costs one round trip
// instead of a Get per key.
func loadIndex(ctx context.Context, kv jetstream.KeyValue, tenantID string) (tenantIndex, error) {
	w, err := kv.WatchFiltered(ctx, []string{tenantID + ".*"}, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("reading the index of %s: %w", tenantID, err)
	}
	defer w.Stop() //nolint:errcheck // a read-only watch
	idx := tenantIndex{}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("reading the index of %s: %w", tenantID, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("reading the index of %s: watch closed", tenantID)
			}
			if e == nil { // all current values delivered
				return idx, nil
			}
			if e.Operation() != jetstream.KeyValuePut {
				continue
			}
			var s Summary
			if err := json.Unmarshal(e.Value(), &s); err != nil || s.ID == "" {
				continue // not ours to fix; the next write of that article replaces it
			}
			idx[s.ID] = indexEntry{Summary: s, kvRevision: e.Revision()}
		}
	}
}

// errIndexConflict means another writer changed the entry since it was read;
// the message is retried and re-reads it.
var errIndexConflict = errors.New("render-index entry changed concurrently")

// putSummary writes s, only if the entry is still at the KV revision it was
// read at (or still absent when prev is nil).
func putSummary(ctx context.Context, kv jetstream.KeyValue, tenantID string, s Summary, prev *indexEntry) (uint64, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return 0, fmt.Errorf("encoding summary: %w", err)
	}
	key := indexKey(tenantID, s.ID)
	var rev uint64
	if prev == nil {
		rev, err = kv.Create(ctx, key, b)
	} else {
		rev, err = kv.Update(ctx, key, b, prev.kvRevision)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, fmt.Errorf("%w: %s", errIndexConflict, key)
	}
	if err != nil {
		return 0, fmt.Errorf("storing summary %s: %w", key, err)
	}
	return rev, nil
}

// before orders summaries oldest first; ties (same second) by id, so every
// list is in one stable order.
func before(a, b Summary) int {
	if c := a.PublishedAt.Compare(b.PublishedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// ascending returns the summaries oldest first.
func (idx tenantIndex) ascending() []Summary {
	out := make([]Summary, 0, len(idx))
	for _, e := range idx {
		out = append(out, e.Summary)
	}
	slices.SortFunc(out, before)
	return out
}

// clone copies the map (entries are values).
func (idx tenantIndex) clone() tenantIndex {
	out := make(tenantIndex, len(idx)+1)
	for k, v := range idx {
		out[k] = v
	}
	return out
}

// indexCache keeps each tenant's index in memory so that publishing one
// article into a tenant of thousands does not re-read them all. It is valid
// while the bucket's last sequence is the last one this process wrote: any
// other writer (another replica, a rebuild) makes it reload.
type indexCache struct {
	kv      jetstream.KeyValue
	tenants map[string]tenantIndex
	known   uint64
}

func newIndexCache(kv jetstream.KeyValue) *indexCache {
	return &indexCache{kv: kv, tenants: map[string]tenantIndex{}}
}

func (c *indexCache) lastSeq(ctx context.Context) (uint64, error) {
	st, err := c.kv.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("render-index status: %w", err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return 0, nil
	}
	return bs.StreamInfo().State.LastSeq, nil
}

// get returns the tenant's index; the caller must hold the renderer's lock
// and must not modify the map (clone it).
func (c *indexCache) get(ctx context.Context, tid string) (tenantIndex, error) {
	last, err := c.lastSeq(ctx)
	if err != nil {
		return nil, err
	}
	if last != c.known || last == 0 {
		c.tenants = map[string]tenantIndex{}
		c.known = last
	}
	if idx, ok := c.tenants[tid]; ok {
		return idx, nil
	}
	idx, err := loadIndex(ctx, c.kv, tid)
	if err != nil {
		return nil, err
	}
	c.tenants[tid] = idx
	return idx, nil
}

// wrote records a write of this process at KV revision rev; when another
// writer came in between, the next get reloads.
func (c *indexCache) wrote(tid string, idx tenantIndex, rev uint64) {
	c.tenants[tid] = idx
	if rev == c.known+1 {
		c.known = rev
	} else {
		c.known = 0
	}
}

// forget drops everything, e.g. after a delete whose revision is unknown.
func (c *indexCache) forget() {
	c.tenants = map[string]tenantIndex{}
	c.known = 0
}
