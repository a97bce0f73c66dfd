package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/blocpress/blocpress/libs/bus"
)

// The beacon endpoint coalesces views into ViewBatch messages: one JetStream
// message per tenant carries every view that arrived while the previous
// messages were on their way (group commit). A beacon is answered only after
// the message holding its view was acknowledged by JetStream, so "204" still
// means "stored"; but JetStream, NATS and the aggregators see one message per
// batch instead of one per view.

var (
	// errBacklog: JetStream is not keeping up (or is unreachable) and the
	// views waiting for it reached their bound; the beacon is answered 503
	// at once rather than queued without limit.
	errBacklog = errors.New("too many views waiting for JetStream")
	errStopped = errors.New("the view publisher is stopped")
)

// publishFunc stores data on subject with msgID as the JetStream message id,
// retrying until ctx ends.
type publishFunc func(ctx context.Context, subject, msgID string, data []byte) error

// pendingBatch is one tenant's views waiting to be published.
type pendingBatch struct {
	tenant  string
	day     string // the reader salt's day: a batch never spans two
	opened  time.Time
	entries []byte // encoded ViewBatch.views fields
	n       int
	// done is closed once err is set: nil when JetStream stored the batch.
	done chan struct{}
	err  error
}

// batcher collects views per tenant and publishes them, at most `slots`
// messages at once.
type batcher struct {
	publish publishFunc
	// sent is told the size, publish time and outcome of every batch.
	sent     func(tenantID string, views int, took time.Duration, err error)
	timeout  time.Duration
	maxViews int
	// maxReady bounds full batches waiting for a free publisher.
	maxReady int
	now      func() time.Time

	mu      sync.Mutex
	open    map[string]*pendingBatch
	ready   []*pendingBatch
	stopped bool

	// kick wakes an idle publisher when a batch opens. The publishers are
	// the slots: long-lived goroutines that, once a message is acknowledged,
	// take the next batch themselves. A dispatching goroutine between them
	// and the beacons cost two goroutine wake-ups per message, which on a
	// busy 2-core machine is time every waiting beacon waits too (and a
	// goroutine per batch would grow a fresh stack through the NATS client
	// every time).
	kick    chan struct{}
	workers sync.WaitGroup
	quit    chan struct{}
	done    chan struct{}
	pool    sync.Pool
}

func newBatcher(publish publishFunc, sent func(string, int, time.Duration, error), timeout time.Duration, maxViews, slots int) *batcher {
	b := &batcher{
		publish:  publish,
		sent:     sent,
		timeout:  timeout,
		maxViews: maxViews,
		maxReady: 4 * slots,
		now:      time.Now,
		open:     map[string]*pendingBatch{},
		kick:     make(chan struct{}, slots),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for range slots {
		b.workers.Add(1)
		go b.publisher()
	}
	go func() {
		b.workers.Wait()
		close(b.done)
	}()
	return b
}

// add appends one view to its tenant's open batch and returns the batch to
// wait on. tenant and article may be reused by the caller after add returns.
func (b *batcher) add(tenant, article []byte, reader *[readerHexLen]byte, day string) (*pendingBatch, error) {
	kick := false
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return nil, errStopped
	}
	pb := b.open[string(tenant)]
	if pb != nil && pb.day != day {
		delete(b.open, pb.tenant)
		b.ready = append(b.ready, pb)
		pb, kick = nil, true
	}
	if pb == nil {
		if len(b.ready) >= b.maxReady {
			b.mu.Unlock()
			b.signal()
			return nil, errBacklog
		}
		pb = &pendingBatch{tenant: string(tenant), day: day, opened: b.now(), done: make(chan struct{})}
		if buf, ok := b.pool.Get().(*[]byte); ok {
			pb.entries = (*buf)[:0]
		}
		b.open[pb.tenant] = pb
		kick = true
	}
	pb.entries = appendViewEntry(pb.entries, article, reader[:])
	pb.n++
	if pb.n >= b.maxViews {
		delete(b.open, pb.tenant)
		b.ready = append(b.ready, pb)
		kick = true
	}
	b.mu.Unlock()
	if kick {
		b.signal()
	}
	return pb, nil
}

func (b *batcher) signal() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// take detaches the next batch to publish: a full one first, else any open
// one. more says whether another is left for an idle publisher.
func (b *batcher) take() (pb *pendingBatch, more bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.ready) > 0 {
		pb = b.ready[0]
		b.ready[0] = nil
		b.ready = b.ready[1:]
		return pb, len(b.ready) > 0 || len(b.open) > 0
	}
	for t, open := range b.open {
		delete(b.open, t)
		return open, len(b.open) > 0
	}
	return nil, false
}

// publisher publishes batches until the batcher stops: whatever gathered
// while its previous message was on its way, at once, so that the busier
// the service, the larger the messages. On stop, what is left is published
// first.
func (b *batcher) publisher() {
	defer b.workers.Done()
	var data []byte
	for {
		pb, more := b.take()
		if pb == nil {
			select {
			case <-b.kick:
				continue
			case <-b.quit:
				if pb, _ = b.take(); pb == nil {
					return
				}
			}
		}
		if more {
			b.signal() // another publisher may be idle
		}
		start := time.Now()
		data, pb.err = b.publishBatch(data[:0], pb)
		close(pb.done)
		if b.sent != nil {
			b.sent(pb.tenant, pb.n, time.Since(start), pb.err)
		}
		if cap(pb.entries) <= 1<<20 {
			buf := pb.entries[:0]
			b.pool.Put(&buf)
		}
		pb.entries = nil
	}
}

// publishBatch encodes pb into buf and publishes it; it returns buf for
// reuse (the NATS client copies what it sends).
func (b *batcher) publishBatch(buf []byte, pb *pendingBatch) ([]byte, error) {
	deadline := pb.opened.Add(b.timeout)
	if !b.now().Before(deadline) {
		return buf, fmt.Errorf("publishing %d views: waited %s for a free publisher", pb.n, b.timeout)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	id := randomID()
	buf = encodeBatchEnvelope(buf, id, pb.tenant, pb.opened, pb.entries)
	return buf, b.publish(ctx, bus.Subject(bus.TypeView, pb.tenant), id, buf)
}

// Stop publishes what is pending, then refuses new views. Callers stop the
// HTTP server first, so nothing is added meanwhile.
func (b *batcher) Stop(ctx context.Context) error {
	b.mu.Lock()
	if !b.stopped {
		b.stopped = true
		close(b.quit)
	}
	b.mu.Unlock()
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stopping the view publisher: %w", ctx.Err())
	}
}

// randomID is a batch's message id: a retried publish of the same batch is
// dropped by JetStream's dedupe window; two batches never share one.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// Protobuf field numbers of blocpress.events.v1 used by the hand encoder; the
// tests check the result against the generated code.
const (
	fieldEnvelopeID         = 1
	fieldEnvelopeType       = 2
	fieldEnvelopeTenant     = 3
	fieldEnvelopeOccurredAt = 4
	fieldEnvelopeViewBatch  = 31
	fieldTimestampSeconds   = 1
	fieldTimestampNanos     = 2
	fieldViewBatchViews     = 1
	fieldViewArticleID      = 1
	fieldViewReader         = 2
)

// appendViewEntry appends one ViewBatch.views element (a View message) to b,
// so that a beacon costs no allocation.
func appendViewEntry(b, article, reader []byte) []byte {
	size := protowire.SizeTag(fieldViewArticleID) + protowire.SizeBytes(len(article)) +
		protowire.SizeTag(fieldViewReader) + protowire.SizeBytes(len(reader))
	b = protowire.AppendTag(b, fieldViewBatchViews, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = protowire.AppendTag(b, fieldViewArticleID, protowire.BytesType)
	b = protowire.AppendBytes(b, article)
	b = protowire.AppendTag(b, fieldViewReader, protowire.BytesType)
	return protowire.AppendBytes(b, reader)
}

// encodeBatchEnvelope appends an Envelope{id, type "views", tenant,
// occurred_at, view_batch{entries}} to dst.
func encodeBatchEnvelope(dst []byte, id, tenantID string, occurred time.Time, entries []byte) []byte {
	dst = protowire.AppendTag(dst, fieldEnvelopeID, protowire.BytesType)
	dst = protowire.AppendString(dst, id)
	dst = protowire.AppendTag(dst, fieldEnvelopeType, protowire.BytesType)
	dst = protowire.AppendString(dst, bus.TypeView)
	dst = protowire.AppendTag(dst, fieldEnvelopeTenant, protowire.BytesType)
	dst = protowire.AppendString(dst, tenantID)
	secs, nanos := occurred.Unix(), int64(occurred.Nanosecond())
	tsSize := 0
	if secs != 0 {
		tsSize += protowire.SizeTag(fieldTimestampSeconds) + protowire.SizeVarint(uint64(secs))
	}
	if nanos != 0 {
		tsSize += protowire.SizeTag(fieldTimestampNanos) + protowire.SizeVarint(uint64(nanos))
	}
	dst = protowire.AppendTag(dst, fieldEnvelopeOccurredAt, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(tsSize))
	if secs != 0 {
		dst = protowire.AppendTag(dst, fieldTimestampSeconds, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(secs))
	}
	if nanos != 0 {
		dst = protowire.AppendTag(dst, fieldTimestampNanos, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(nanos))
	}
	dst = protowire.AppendTag(dst, fieldEnvelopeViewBatch, protowire.BytesType)
	return protowire.AppendBytes(dst, entries)
}
