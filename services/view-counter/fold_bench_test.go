package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkFold folds views of 500 articles by distinct readers, the
// benchmark's traffic, and reports Redis's CPU per view.
func BenchmarkFold(b *testing.B) {
	for _, perFold := range []int{256, 2048} {
		b.Run(fmt.Sprint(perFold, "views"), func(b *testing.B) {
			rdb := benchRedis(b)
			cal := calendar{loc: time.UTC}
			ctx := context.Background()
			cpu := func() float64 {
				info, _ := rdb.Info(ctx, "cpu").Result()
				var s float64
				for _, line := range strings.Split(info, "\r\n") {
					if k, v, ok := strings.Cut(line, ":"); ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
						f, _ := strconv.ParseFloat(v, 64)
						s += f
					}
				}
				return s
			}
			seq := uint64(0)
			before := cpu()
			views := 0
			for b.Loop() {
				var msgs []viewMsg
				for len(msgs)*16 < perFold {
					seq++
					m := viewMsg{Seq: seq, At: time.Now()}
					for range 16 {
						m.Views = append(m.Views, view{Article: fmt.Sprintf("%016x", rand.IntN(500)), Reader: fmt.Sprintf("%032x", rand.Uint64())})
					}
					msgs = append(msgs, m)
				}
				for _, c := range chunks(msgs, func(m viewMsg) int { return len(m.Views) }) {
					if _, err := foldViews(ctx, rdb, cal, "bench", foldLive, time.Now(), c); err != nil {
						b.Fatal(err)
					}
				}
				views += perFold
			}
			b.ReportMetric((cpu()-before)*1e6/float64(views), "redis-µs/view")
			// Where Redis's time goes: the script, and the commands it runs.
			stats, _ := rdb.Info(ctx, "commandstats").Result()
			for _, line := range strings.Split(stats, "\r\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(k, "cmdstat_") && !strings.Contains(k, "info") {
					calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
					_, perCall, _ := strings.Cut(v, "usec_per_call=")
					perCall, _, _ = strings.Cut(perCall, ",")
					b.Logf("%-20s %8s calls, %8s µs each", strings.TrimPrefix(k, "cmdstat_"), calls, perCall)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(views), "ns/view")
		})
	}
}
