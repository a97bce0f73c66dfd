package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/blocpress/blocpress/libs/blob"
)

// Content types of the files render writes. A takedown or moved page adds a
// parameter to its type (see takedown.go) that tells site which status to
// answer with.
const (
	htmlType    = "text/html; charset=utf-8"
	rssType     = "application/rss+xml; charset=utf-8"
	atomType    = "application/atom+xml; charset=utf-8"
	xmlType     = "application/xml; charset=utf-8"
	textType    = "text/plain; charset=utf-8"
	jsonType    = "application/json; charset=utf-8"
	maxPageSize = 8 << 20
)

// file is one page or document of a tenant's site.
type file struct {
	path  string // under the tenant's site
	body  []byte
	ctype string
}

// output is where a tenant's site is written: S3 in production, a local
// directory for the Hugo comparison.
type output interface {
	Put(ctx context.Context, tid string, f file) error
	// Get reads a page back (for splicing the lists of a neighbouring article);
	// errNotWritten when it is not there.
	Get(ctx context.Context, tid, path string) ([]byte, error)
}

var errNotWritten = errors.New("page not written")

// s3Output writes to site/<tenant>/<path>.
type s3Output struct{ store *blob.Store }

func (o s3Output) Put(ctx context.Context, tid string, f file) error {
	return o.store.PutBytes(ctx, siteKey(tid, f.path), f.body, f.ctype)
}

func (o s3Output) Get(ctx context.Context, tid, path string) ([]byte, error) {
	b, err := o.store.GetBytes(ctx, siteKey(tid, path), maxPageSize)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, errNotWritten
	}
	return b, err
}

// dirOutput writes to <dir>/<tenant>/<path>; content types are not kept.
type dirOutput struct{ dir string }

func (o dirOutput) Put(_ context.Context, tid string, f file) error {
	p := filepath.Join(o.dir, tid, filepath.FromSlash(f.path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, f.body, 0o644)
}

func (o dirOutput) Get(_ context.Context, tid, path string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(o.dir, tid, filepath.FromSlash(path)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNotWritten
	}
	return b, err
}

// writeConcurrency is how many files are written at once.
const writeConcurrency = 8

// putAll writes files concurrently, calling done (if not nil) after each.
func putAll(ctx context.Context, out output, tid string, files []file, done func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan file)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(writeConcurrency, len(files)) {
		wg.Go(func() {
			for f := range work {
				if err := out.Put(ctx, tid, f); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("writing %s: %w", f.path, err)
						cancel()
					}
					mu.Unlock()
					continue
				}
				if done != nil {
					done()
				}
			}
		})
	}
feed:
	for _, f := range files {
		select {
		case work <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

func siteKey(tid, path string) string { return "site/" + tid + "/" + path }
