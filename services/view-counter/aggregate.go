package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
)

const (
	// seenTTL is how long a counted stream sequence is remembered. A message
	// is redelivered within AckWait (30s) or, after an outage, as soon as
	// Redis is back; a week covers any outage worth surviving.
	seenTTL = 7 * 24 * time.Hour
	// nakDelay spaces retries while Redis is down.
	nakDelay = 2 * time.Second
	// fetchWait bounds how long a view waits to be counted when traffic is
	// low, and how long a stop waits for the fetch in progress.
	fetchWait = time.Second
	// applyTimeout bounds one batch's script; it must stay well under the
	// consumer's AckWait so that acks arrive before redelivery.
	applyTimeout = 5 * time.Second
)

// articleIDPattern accepts ingest's ids ([a-z0-9]{16}) and legacy ones.
var articleIDPattern = regexp.MustCompile(`^[a-z0-9]{1,40}$`)

func keyPrefix(tenantID string) string { return "views:{" + tenantID + "}:" }

// countKey holds an article's view count.
func countKey(tenantID, article string) string { return keyPrefix(tenantID) + "a:" + article }

// seenKey marks a VIEWS stream sequence as counted. Sequences are unique for
// the life of the stream; deleting and re-creating the stream restarts them,
// which would make views within seenTTL look already counted, so the VIEWS
// stream must be purged (sequences continue), never re-created.
func seenKey(tenantID string, seq uint64) string {
	return keyPrefix(tenantID) + "seen:" + strconv.FormatUint(seq, 10)
}

// baseKey marks an article's initial_views as added.
func baseKey(tenantID, article string) string { return keyPrefix(tenantID) + "base:" + article }

// countViewsScript takes KEYS in pairs — a message's seen key, then its
// article's count key — and counts each message whose seen key it could set.
// Running it as one script makes a batch all-or-nothing and replay-safe.
var countViewsScript = redis.NewScript(`
local counted = 0
for i = 1, #KEYS, 2 do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('INCR', KEYS[i + 1])
    counted = counted + 1
  end
end
return counted
`)

// view is one decoded beacon, identified by its stream sequence.
type view struct {
	Seq     uint64
	Article string
}

// countViews folds one tenant's views into Redis with one script and returns
// how many were new; the rest had been counted by an earlier attempt.
func countViews(ctx context.Context, rdb redis.Scripter, tenantID string, views []view) (int64, error) {
	if len(views) == 0 {
		return 0, nil
	}
	keys := make([]string, 0, 2*len(views))
	for _, v := range views {
		keys = append(keys, seenKey(tenantID, v.Seq), countKey(tenantID, v.Article))
	}
	n, err := countViewsScript.Run(ctx, rdb, keys, int64(seenTTL/time.Second)).Int64()
	if err != nil {
		return 0, fmt.Errorf("counting %d views of tenant %s: %w", len(views), tenantID, err)
	}
	return n, nil
}

// aggregator pulls batches from the view-counter consumer and folds them
// into Redis. It fetches by hand rather than through bus.Consume because a
// batch per script is what makes counting cheap and replay-safe.
type aggregator struct {
	cons      jetstream.Consumer
	rdb       redis.Scripter
	batchSize int
	log       *slog.Logger
	m         *metrics
	cancel    context.CancelFunc
	done      chan struct{}
}

func startAggregator(ctx context.Context, b *bus.Bus, rdb redis.Scripter, batchSize int, log *slog.Logger, m *metrics) (*aggregator, error) {
	cons, err := b.JetStream().Consumer(ctx, bus.StreamViews, bus.ConsumerViewCounter)
	if err != nil {
		return nil, fmt.Errorf("binding consumer %s: %w", bus.ConsumerViewCounter, err)
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &aggregator{cons: cons, rdb: rdb, batchSize: batchSize, log: log, m: m, cancel: cancel, done: make(chan struct{})}
	go a.loop(lctx)
	return a, nil
}

// Stop lets the batch in hand be applied and acknowledged, then returns;
// bounded by ctx, after which unacknowledged views are redelivered to
// another replica (and counted once, thanks to the seen keys).
func (a *aggregator) Stop(ctx context.Context) error {
	a.cancel()
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stopping aggregator: %w", ctx.Err())
	}
}

func (a *aggregator) loop(ctx context.Context) {
	defer close(a.done)
	failures := 0
	for ctx.Err() == nil {
		// No FetchContext: a stop must not abandon messages already on
		// their way; the fetch ends by itself within fetchWait.
		batch, err := a.cons.Fetch(a.batchSize, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			a.log.Warn("fetching views, will retry", "err", err)
			sleep(ctx, retryBackoff(failures))
			failures++
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil {
			a.log.Debug("fetch ended early", "err", err, "received", len(msgs))
		}
		failures = 0
		if len(msgs) > 0 {
			a.apply(msgs)
		}
	}
}

type pendingView struct {
	msg  jetstream.Msg
	view view
}

// apply folds a fetched batch: per tenant, one script, then the acks. A
// tenant whose script failed has its messages redelivered after nakDelay;
// the other tenants' views are acknowledged.
func (a *aggregator) apply(msgs []jetstream.Msg) {
	byTenant := map[string][]pendingView{}
	for _, m := range msgs {
		tenantID, v, err := decodeView(m)
		if err != nil {
			// Retrying cannot fix a malformed message; it must not block the stream.
			a.log.Error("dropping a malformed view", "subject", m.Subject(), "err", err)
			a.m.viewsDropped.Inc()
			if err := m.Ack(); err != nil {
				a.log.Warn("ack failed", "subject", m.Subject(), "err", err)
			}
			continue
		}
		byTenant[tenantID] = append(byTenant[tenantID], pendingView{msg: m, view: v})
	}
	for tenantID, pending := range byTenant {
		views := make([]view, len(pending))
		for i, p := range pending {
			views[i] = p.view
		}
		// Not the loop's context: a stop still finishes the batch in hand.
		ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
		counted, err := countViews(ctx, a.rdb, tenantID, views)
		cancel()
		if err != nil {
			a.log.Warn("redis unavailable; views will be redelivered", "tenant", tenantID, "views", len(pending), "in", nakDelay, "err", err)
			a.m.viewsRetried.Add(float64(len(pending)))
			for _, p := range pending {
				_ = p.msg.NakWithDelay(nakDelay)
			}
			continue
		}
		a.m.viewsCounted.Add(float64(counted))
		a.m.viewsDuplicate.Add(float64(int64(len(pending)) - counted))
		for _, p := range pending {
			// A lost ack means a redelivery, which the seen key turns into a no-op.
			if err := p.msg.Ack(); err != nil {
				a.log.Warn("ack failed; the view will be redelivered and skipped", "tenant", tenantID, "err", err)
			}
		}
	}
}

// decodeView checks a views message all the way: envelope, payload, tenant
// (which must also be the subject's) and article id.
func decodeView(m jetstream.Msg) (string, view, error) {
	meta, err := m.Metadata()
	if err != nil {
		return "", view{}, fmt.Errorf("reading metadata: %w", err)
	}
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(m.Data(), env); err != nil {
		return "", view{}, fmt.Errorf("undecodable envelope: %w", err)
	}
	p := env.GetView()
	if p == nil {
		return "", view{}, errors.New("envelope without a view payload")
	}
	tenantID := env.GetTenant()
	if err := tenant.ValidateID(tenantID); err != nil {
		return "", view{}, err
	}
	if want := bus.Subject(bus.TypeView, tenantID); m.Subject() != want {
		return "", view{}, fmt.Errorf("tenant %s published on %q", tenantID, truncate(m.Subject(), 80))
	}
	if !articleIDPattern.MatchString(p.GetArticleId()) {
		return "", view{}, fmt.Errorf("invalid article id %q", truncate(p.GetArticleId(), 50))
	}
	return tenantID, view{Seq: meta.Sequence.Stream, Article: p.GetArticleId()}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// retryBackoff grows from 250ms to 5s.
func retryBackoff(attempt int) time.Duration {
	return min(250*time.Millisecond<<min(attempt, 5), 5*time.Second)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
