package main

import (
	"context"
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

const (
	limiterShards = 64
	// limiterShardSize bounds the remembered clients; a shard that fills
	// up (a flood from many addresses) is forgotten at once, which only
	// ever lets through a burst more.
	limiterShardSize = 1 << 16
)

// ipLimiter is a token bucket per client address (per /64 for IPv6, which one
// subscriber usually holds whole). Buckets are keyed by a 64-bit hash of the
// address with a per-process random seed, so the limiter's memory holds no
// address. Limits are per replica.
type ipLimiter struct {
	perNano float64 // tokens per nanosecond
	burst   float64
	seed    maphash.Seed
	shards  [limiterShards]limiterShard
}

type limiterShard struct {
	mu sync.Mutex
	m  map[uint64]tokenBucket
	_  [40]byte // keeps shards on their own cache lines
}

type tokenBucket struct {
	tokens float64
	last   int64 // unix nanoseconds
}

// newIPLimiter returns nil (no limit) when perSecond is 0.
func newIPLimiter(perSecond float64, burst int) *ipLimiter {
	if perSecond <= 0 {
		return nil
	}
	l := &ipLimiter{perNano: perSecond / 1e9, burst: float64(burst), seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].m = make(map[uint64]tokenBucket)
	}
	return l
}

func (l *ipLimiter) key(ip netip.Addr) uint64 {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		ip = p.Addr()
	}
	a := ip.As16()
	return maphash.Bytes(l.seed, a[:])
}

// allow takes a token from ip's bucket at time now (unix nanoseconds).
func (l *ipLimiter) allow(ip netip.Addr, now int64) bool {
	if l == nil {
		return true
	}
	k := l.key(ip)
	sh := &l.shards[k%limiterShards]
	sh.mu.Lock()
	b, ok := sh.m[k]
	if !ok {
		if len(sh.m) >= limiterShardSize {
			clear(sh.m)
		}
		b = tokenBucket{tokens: l.burst, last: now}
	} else if now > b.last {
		b.tokens = min(l.burst, b.tokens+float64(now-b.last)*l.perNano)
		b.last = now
	}
	allowed := b.tokens >= 1
	if allowed {
		b.tokens--
	}
	sh.m[k] = b
	sh.mu.Unlock()
	return allowed
}

// sweep forgets buckets that have refilled: they behave like new ones.
func (l *ipLimiter) sweep(now int64) {
	full := int64(l.burst / l.perNano)
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for k, b := range sh.m {
			if now-b.last >= full {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}

// sweepEvery runs sweep until ctx ends.
func (l *ipLimiter) sweepEvery(ctx context.Context, d time.Duration) {
	if l == nil {
		return
	}
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			l.sweep(now.UnixNano())
		}
	}
}
