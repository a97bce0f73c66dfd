package main

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/httpx"
)

// rateLimiter keeps a token bucket per API key: INGEST_RATE_BURST requests
// at once, refilled at INGEST_RATE_PER_MINUTE.
//
// The buckets live in each replica's memory, so with n replicas behind a
// load balancer a key may make up to n × the rate. That is acceptable: the
// limit is there to stop a runaway script or a leaked key from flooding
// NATS and S3, not to meter fair use, and n is small and known to ops, who
// set the rate per replica accordingly. A shared limiter (a Redis or KV
// round trip on every request) would cost more than the flood it stops.
//
// The buckets come from golang.org/x/time/rate (already in the module
// graph): a correct, concurrency-safe token bucket whose token count also
// gives the exact Retry-After.
type rateLimiter struct {
	limit rate.Limit
	burst int
	// idle is how long an unused bucket takes to fill up again; a full
	// bucket is what a new one would be, so dropping it forgets nothing.
	idle time.Duration
	now  func() time.Time

	mu        sync.Mutex
	buckets   map[string]*keyBucket
	nextSweep time.Time
	// sweepAt is the map size that triggers a sweep before nextSweep, so a
	// burst of many keys cannot grow the map for a whole sweep interval.
	sweepAt int
}

type keyBucket struct {
	limiter *rate.Limiter
	last    time.Time
}

// minSweepAt is the map size below which early sweeps are not worth it.
const minSweepAt = 1024

func newRateLimiter(perMinute float64, burst int, now func() time.Time) *rateLimiter {
	limit := rate.Limit(perMinute / 60)
	idle := time.Duration(float64(burst) / float64(limit) * float64(time.Second))
	return &rateLimiter{
		limit: limit, burst: burst, idle: max(idle, time.Second), now: now,
		buckets: map[string]*keyBucket{}, nextSweep: now().Add(max(idle, time.Minute)), sweepAt: minSweepAt,
	}
}

// allow takes a token from key's bucket; when there is none it returns how
// long until there is one.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &keyBucket{limiter: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	if b.limiter.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.limiter.TokensAt(now)
	return false, time.Duration(missing / float64(l.limit) * float64(time.Second))
}

// sweep drops the buckets that have been idle long enough to be full.
func (l *rateLimiter) sweep(now time.Time) {
	if now.Before(l.nextSweep) && len(l.buckets) < l.sweepAt {
		return
	}
	for k, b := range l.buckets {
		if now.Sub(b.last) >= l.idle {
			delete(l.buckets, k)
		}
	}
	l.nextSweep = now.Add(max(l.idle, time.Minute))
	l.sweepAt = max(2*len(l.buckets), minSweepAt)
}

// size is the number of buckets kept, for tests.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// admit applies the rate limit to a request made with key; when the key is
// over its rate it answers 429 with Retry-After in whole seconds (at least
// 1) and returns false. Buckets are kept by key hash, never the key.
func (s *service) admit(w http.ResponseWriter, key string) bool {
	ok, wait := s.limiter.allow(apikey.Hash(key))
	if ok {
		return true
	}
	secs := max(int64(math.Ceil(wait.Seconds())), 1)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	perMinute := s.cfg.RatePerMinute
	httpx.Error(w, http.StatusTooManyRequests,
		fmt.Sprintf("this API key made more than %g requests per minute (%d at once); retry in %d s", perMinute, s.cfg.RateBurst, secs),
		httpx.FieldError{Field: "Authorization", Message: fmt.Sprintf("at most %g requests per minute per key, %d at once", perMinute, s.cfg.RateBurst), Limit: perMinute})
	return false
}

// checkCallerLimits checks the rate limit and direct-upload settings.
func (c Config) checkCallerLimits() []error {
	var errs []error
	if c.RatePerMinute <= 0 || math.IsNaN(c.RatePerMinute) || math.IsInf(c.RatePerMinute, 0) {
		errs = append(errs, fmt.Errorf("%sRATE_PER_MINUTE must be a positive number, got %g", envPrefix, c.RatePerMinute))
	}
	if c.RateBurst <= 0 {
		errs = append(errs, fmt.Errorf("%sRATE_BURST must be positive, got %d", envPrefix, c.RateBurst))
	}
	// S3 accepts presigned URLs valid for 1 s to 7 days.
	if c.UploadExpiry < time.Minute || c.UploadExpiry > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("%sUPLOAD_EXPIRY must be between 1m and 168h, got %s", envPrefix, c.UploadExpiry))
	}
	if err := checkEndpointURL(c.s3PublicURL()); err != nil {
		errs = append(errs, fmt.Errorf("%sS3_PUBLIC_URL: %w", envPrefix, err))
	}
	return errs
}
