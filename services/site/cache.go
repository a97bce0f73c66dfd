package main

import (
	"bytes"
	"compress/gzip"
	"strings"
	"sync"
	"time"

	"github.com/blocpress/blocpress/libs/blob"
)

// pageCache keeps objects read from S3 in memory. An entry is marked stale
// when an event says its page changed (article.published's changed paths,
// site.invalidate) or when it is older than ttl; a stale entry is fetched
// again, but still served when S3 cannot answer, so a brief storage outage
// does not take the site down. A missing object is remembered too, so a
// flood of requests for absent pages does not reach S3.
type pageCache struct {
	mu       sync.Mutex
	entries  map[string]*cached
	bytes    int64
	maxBytes int64
	ttl      time.Duration
	now      func() time.Time
}

// cached is one object (or its absence) as last read.
type cached struct {
	missing bool
	body    []byte
	gz      []byte // body gzipped, for a compressible type
	info    blob.Info
	fetched time.Time
	stale   bool
}

func (c *cached) size() int64 { return int64(len(c.body)+len(c.gz)) + 256 }

// maxCachedObject: larger objects are streamed from S3, never cached.
const maxCachedObject = 4 << 20

func newPageCache(maxBytes int64, ttl time.Duration) *pageCache {
	return &pageCache{entries: map[string]*cached{}, maxBytes: maxBytes, ttl: ttl, now: time.Now}
}

// get returns the entry and whether it is fresh.
func (c *pageCache) get(key string) (*cached, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil {
		return nil, false
	}
	return e, !e.stale && c.now().Sub(e.fetched) < c.ttl
}

func (c *pageCache) put(key string, e *cached) {
	if c == nil || e.size() > c.maxBytes/8 {
		return
	}
	e.fetched = c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[key]; old != nil {
		c.bytes -= old.size()
	}
	c.entries[key] = e
	c.bytes += e.size()
	for k, v := range c.entries { // map order is random enough for eviction
		if c.bytes <= c.maxBytes {
			break
		}
		if k != key {
			c.bytes -= v.size()
			delete(c.entries, k)
		}
	}
}

// invalidate marks the entries of a tenant's paths stale; "*" marks all of
// the tenant's pages, "" the whole cache.
func (c *pageCache) invalidate(tid string, paths []string) int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	mark := func(key string) {
		if e := c.entries[key]; e != nil && !e.stale {
			e.stale = true
			n++
		}
	}
	for _, p := range paths {
		switch {
		case tid == "":
			for k := range c.entries {
				mark(k)
			}
		case p == "*":
			prefix := "site/" + tid + "/"
			for k := range c.entries {
				if strings.HasPrefix(k, prefix) {
					mark(k)
				}
			}
		default:
			p = strings.TrimPrefix(p, "/")
			mark("site/" + tid + "/" + p)
			if strings.HasSuffix(p, "/index.html") || p == "index.html" {
				continue
			}
			if strings.HasSuffix(p, "/") || p == "" {
				mark("site/" + tid + "/" + p + "index.html")
			}
		}
	}
	return n
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}
