package main

import (
	"net/netip"
	"testing"
	"time"
)

func TestIPLimiter(t *testing.T) {
	l := newIPLimiter(2, 4)
	ip := mustAddr(t, "203.0.113.7")
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).UnixNano()
	for i := range 4 {
		if !l.allow(ip, now) {
			t.Fatalf("beacon %d of the burst refused", i+1)
		}
	}
	if l.allow(ip, now) {
		t.Fatal("the 5th beacon at once was allowed")
	}
	if !l.allow(ip, now+int64(500*time.Millisecond)) || l.allow(ip, now+int64(500*time.Millisecond)) {
		t.Error("half a second at 2/s should allow exactly one more")
	}
	l.sweep(now + int64(time.Second))
	if n := len(l.shards[l.key(ip)%limiterShards].m); n != 1 {
		t.Errorf("a bucket still draining was forgotten (%d)", n)
	}
	l.sweep(now + int64(10*time.Second))
	if n := len(l.shards[l.key(ip)%limiterShards].m); n != 0 {
		t.Errorf("a refilled bucket was kept (%d)", n)
	}
	if newIPLimiter(0, 10) != nil || !(*ipLimiter)(nil).allow(ip, now) {
		t.Error("rate 0 must mean no limit")
	}
}

func BenchmarkIPLimiter(b *testing.B) {
	l := newIPLimiter(2, 60)
	ip := netip.MustParseAddr("203.0.113.7")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.allow(ip, int64(i)*int64(time.Second))
	}
}
