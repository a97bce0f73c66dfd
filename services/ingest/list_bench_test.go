package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/bus"
)

// BenchmarkListArticles measures the list's scan of a tenant's status
// entries at the size list.go documents (20 000 articles):
//
//	go test -run '^$' -bench ListArticles -benchtime 5x ./services/ingest/
func BenchmarkListArticles(b *testing.B) {
	s := startStack(b, nil)
	editor, _ := s.newTenant(b, "bench-a")
	kv := s.kv(b, bus.BucketArticles)
	const n = 20000
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				at := time.Now().Add(time.Duration(i) * time.Second)
				id := newArticleID(at)
				d := &statusDoc{ID: id, Tenant: "bench-a", Revision: 1, Title: fmt.Sprintf("Hội nghị Đảng bộ Khối lần thứ %d", i),
					Category: "tin-tuc", Author: "Lam Hồng", Status: statusPublished, StatusAt: at, UpdatedAt: at,
					History: []historyEntry{{Status: statusSubmitted, At: at, By: "key x (editor)"}, {Status: statusPublished, At: at, By: "render"}}}
				if _, err := kv.Put(context.Background(), "bench-a."+id, d.encode()); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	b.ResetTimer()
	for range b.N {
		r := s.do(b, http.MethodGet, "/v1/tenants/bench-a/articles?q=dang+bo+khoi+lan+thu+1999&limit=20", editor, nil)
		if r.code != http.StatusOK {
			b.Fatalf("status %d: %s", r.code, r.body)
		}
	}
}
