package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
)

const (
	// nakDelay spaces retries while Redis is down or a rebuild holds a tenant.
	nakDelay = 2 * time.Second
	// applyTimeout bounds one fold; it must stay well under the consumer's
	// AckWait so that acks arrive before redelivery.
	applyTimeout = 5 * time.Second
	// foldWait is how long a fold gathers views after the first arrived.
	// Folding more views at once costs Redis less per view — an article
	// read many times in the meantime is one increment of each of its
	// counters — for at most this much more lag.
	foldWait = 100 * time.Millisecond
)

// aggregator folds the view-counter consumer's messages into Redis. It pulls
// continuously; a fold takes what arrives within foldWait of its first
// message (or BatchSize messages), so a view waits at most foldWait plus a
// fold before it counts, and folds grow with the load.
type aggregator struct {
	cons      jetstream.Consumer
	rdb       redis.Scripter
	cal       calendar
	batchSize int
	log       *slog.Logger
	m         *metrics
	now       func() time.Time
	// crashAfterFold: see aggregatorOptions.
	crashAfterFold func() bool
	// redisDown makes an outage one warning, not one per fold.
	redisDown atomic.Bool

	loops []*foldLoop
}

type foldLoop struct {
	it   jetstream.MessagesContext
	msgs chan jetstream.Msg
	done chan struct{}
}

// aggregatorOptions configure startAggregator.
type aggregatorOptions struct {
	Cal       calendar
	BatchSize int
	Loops     int
	Log       *slog.Logger
	Metrics   *metrics
	// CrashAfterFold, when set and returning true, makes a loop stop dead
	// after Redis applied a fold and before its acks, as a killed process
	// would (tests only).
	CrashAfterFold func() bool
}

// startAggregator starts o.Loops fold loops sharing the durable consumer.
func startAggregator(ctx context.Context, b *bus.Bus, rdb redis.Scripter, o aggregatorOptions) (*aggregator, error) {
	cons, err := b.JetStream().Consumer(ctx, bus.StreamViews, bus.ConsumerViewCounter)
	if err != nil {
		return nil, fmt.Errorf("binding consumer %s: %w", bus.ConsumerViewCounter, err)
	}
	a := &aggregator{cons: cons, rdb: rdb, cal: o.Cal, batchSize: o.BatchSize, log: o.Log, m: o.Metrics,
		now: time.Now, crashAfterFold: o.CrashAfterFold}
	for range o.Loops {
		if err := a.startLoop(); err != nil {
			_ = a.Stop(ctx)
			return nil, err
		}
	}
	return a, nil
}

func (a *aggregator) startLoop() error {
	it, err := a.cons.Messages(jetstream.PullMaxMessages(a.batchSize))
	if err != nil {
		return fmt.Errorf("pulling views: %w", err)
	}
	l := &foldLoop{it: it, msgs: make(chan jetstream.Msg, a.batchSize), done: make(chan struct{})}
	a.loops = append(a.loops, l)
	go a.pull(l)
	go a.fold(l)
	return nil
}

// pull hands the iterator's messages to fold until the iterator is drained.
func (a *aggregator) pull(l *foldLoop) {
	defer close(l.msgs)
	for {
		m, err := l.it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		if err != nil {
			// Heartbeats missed while NATS restarts: the iterator recovers.
			a.log.Debug("pulling views", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		l.msgs <- m
	}
}

// fold takes a message, then what else arrives within foldWait, and folds
// them.
func (a *aggregator) fold(l *foldLoop) {
	defer close(l.done)
	batch := make([]jetstream.Msg, 0, a.batchSize)
	wait := time.NewTimer(foldWait)
	defer wait.Stop()
	for {
		m, ok := <-l.msgs
		if !ok {
			return
		}
		batch = append(batch[:0], m)
		wait.Reset(foldWait)
	more:
		for len(batch) < a.batchSize {
			select {
			case m, ok := <-l.msgs:
				if !ok {
					break more
				}
				batch = append(batch, m)
			case <-wait.C:
				break more
			}
		}
		if crashed := a.apply(batch); crashed {
			l.it.Stop()
			for range l.msgs { // abandoned unacknowledged, as by a killed process
			}
			return
		}
	}
}

// Stop lets the messages in hand be folded and acknowledged, then returns;
// bounded by ctx, after which unacknowledged views are redelivered to another
// replica (and counted once, thanks to the seen keys).
func (a *aggregator) Stop(ctx context.Context) error {
	for _, l := range a.loops {
		l.it.Drain()
	}
	for _, l := range a.loops {
		select {
		case <-l.done:
		case <-ctx.Done():
			for _, l := range a.loops {
				l.it.Stop()
			}
			return fmt.Errorf("stopping aggregator: %w", ctx.Err())
		}
	}
	return nil
}

type pendingMsg struct {
	msg  jetstream.Msg
	view viewMsg
}

// apply folds a set of messages: per tenant, in chunks of one script each,
// then the acks. A chunk whose script failed has its messages redelivered
// after nakDelay; the others are acknowledged.
func (a *aggregator) apply(msgs []jetstream.Msg) (crashed bool) {
	byTenant := map[string][]pendingMsg{}
	for _, m := range msgs {
		tenantID, vm, dropped, err := decodeViews(m)
		if err != nil {
			// Retrying cannot fix a malformed message; it must not block the stream.
			a.log.Error("dropping a malformed views message", "subject", m.Subject(), "err", err)
			a.m.viewsDropped.Add(float64(max(dropped, 1)))
			ack(a.log, m)
			continue
		}
		if dropped > 0 {
			a.log.Error("dropping malformed views of a batch", "subject", m.Subject(), "views", dropped)
			a.m.viewsDropped.Add(float64(dropped))
		}
		byTenant[tenantID] = append(byTenant[tenantID], pendingMsg{msg: m, view: vm})
	}
	for tenantID, pending := range byTenant {
		for _, chunk := range chunks(pending, func(p pendingMsg) int { return len(p.view.Views) }) {
			vms := make([]viewMsg, len(chunk))
			for i, p := range chunk {
				vms[i] = p.view
			}
			// Not a stop's context: a stop still finishes the messages in hand.
			ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
			res, err := foldViews(ctx, a.rdb, a.cal, tenantID, foldLive, a.now(), vms)
			cancel()
			if err != nil {
				n := 0
				for _, v := range vms {
					n += len(v.Views)
				}
				switch {
				case errors.Is(err, errRebuilding):
					a.log.Debug("tenant is being rebuilt; its views wait", "tenant", tenantID, "views", n)
				case a.redisDown.CompareAndSwap(false, true):
					a.log.Warn("redis unavailable; views wait in JetStream and are retried every "+nakDelay.String(), "tenant", tenantID, "err", err)
				default:
					a.log.Debug("redis still unavailable", "tenant", tenantID, "views", n, "err", err)
				}
				a.m.viewsRetried.Add(float64(n))
				for _, p := range chunk {
					_ = p.msg.NakWithDelay(nakDelay)
				}
				continue
			}
			if a.redisDown.CompareAndSwap(true, false) {
				a.log.Info("redis is back; folding the views that waited")
			}
			a.m.viewsCounted.Add(float64(res.Counted))
			a.m.viewsRepeated.Add(float64(res.Repeated))
			a.m.viewsDuplicate.Add(float64(res.Skipped))
			if a.crashAfterFold != nil && a.crashAfterFold() {
				return true
			}
			now := a.now()
			for _, p := range chunk {
				// A lost ack means a redelivery, which the seen key turns into a no-op.
				ack(a.log, p.msg)
				a.m.foldLag.Observe(now.Sub(p.view.At).Seconds())
			}
		}
	}
	return false
}

func ack(log *slog.Logger, m jetstream.Msg) {
	if err := m.Ack(); err != nil {
		log.Warn("ack failed; the message will be redelivered and skipped", "subject", m.Subject(), "err", err)
	}
}

// decodeViews checks a views message: envelope, payload (View or
// ViewBatch), tenant (which must be the subject's), article ids and readers.
// Malformed views inside a batch are dropped (and counted in dropped); a
// malformed message is an error.
func decodeViews(m jetstream.Msg) (string, viewMsg, int, error) {
	meta, err := m.Metadata()
	if err != nil {
		return "", viewMsg{}, 0, fmt.Errorf("reading metadata: %w", err)
	}
	tenantID, vm, dropped, err := decodeViewData(m.Subject(), m.Data())
	if err != nil {
		return "", viewMsg{}, 0, err
	}
	vm.Seq = meta.Sequence.Stream
	if vm.At.IsZero() {
		vm.At = meta.Timestamp
	}
	return tenantID, vm, dropped, nil
}

// decodeViewData is decodeViews without the JetStream metadata.
func decodeViewData(subject string, data []byte) (string, viewMsg, int, error) {
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(data, env); err != nil {
		return "", viewMsg{}, 0, fmt.Errorf("undecodable envelope: %w", err)
	}
	tenantID := env.GetTenant()
	if err := tenant.ValidateID(tenantID); err != nil {
		return "", viewMsg{}, 0, err
	}
	if want := bus.Subject(bus.TypeView, tenantID); subject != want {
		return "", viewMsg{}, 0, fmt.Errorf("tenant %s published on %q", tenantID, truncate(subject, 80))
	}
	var views []*eventsv1.View
	switch {
	case env.GetView() != nil:
		views = []*eventsv1.View{env.GetView()}
	case env.GetViewBatch() != nil:
		views = env.GetViewBatch().GetViews()
	default:
		return "", viewMsg{}, 0, errors.New("envelope without a view payload")
	}
	vm := viewMsg{Views: make([]view, 0, len(views))}
	if ts := env.GetOccurredAt(); ts != nil {
		vm.At = ts.AsTime()
	}
	dropped := 0
	for _, v := range views {
		if !validArticleID([]byte(v.GetArticleId())) || !validReader(v.GetReader()) {
			dropped++
			continue
		}
		vm.Views = append(vm.Views, view{Article: v.GetArticleId(), Reader: v.GetReader()})
	}
	if len(vm.Views) == 0 {
		return "", viewMsg{}, dropped, errors.New("no valid view in the message")
	}
	return tenantID, vm, dropped, nil
}

// validReader accepts the hex reader hashes the beacon endpoint makes (and
// the empty one of views published before readers were hashed).
func validReader(r string) bool {
	if len(r) > 64 {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
