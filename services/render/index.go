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

// Summary is what lists need to show an article: render's entry for it in the
// render-index KV bucket under "<tenant>.<article>". Render is the bucket's
// only writer; the site's home, category and "Các bài viết khác" lists are
// built from it.
type Summary struct {
	ID          string    `json:"id"`
	Revision    int64     `json:"revision"`
	Title       string    `json:"title"`
	Lead        string    `json:"lead"`
	Category    string    `json:"category"`
	Path        string    `json:"path"` // under the tenant's site, e.g. "bai-viet/<slug>-<id>.html"
	PublishedAt time.Time `json:"published_at"`
	Thumb       string    `json:"thumb"` // public URL of the first photo's smallest rendition, or ""
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

// latest returns up to n summaries, newest first, that keep says to keep.
func (idx tenantIndex) latest(n int, keep func(Summary) bool) []Summary {
	var out []Summary
	for _, e := range idx {
		if keep == nil || keep(e.Summary) {
			out = append(out, e.Summary)
		}
	}
	slices.SortFunc(out, func(a, b Summary) int {
		if c := b.PublishedAt.Compare(a.PublishedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// categories returns every category slug that has an article.
func (idx tenantIndex) categories() []string {
	var out []string
	for _, e := range idx {
		if !slices.Contains(out, e.Category) {
			out = append(out, e.Category)
		}
	}
	slices.Sort(out)
	return out
}
