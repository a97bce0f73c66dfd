package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/tenant"
)

// The rebuild recomputes a tenant's counters from the streams, which keep
// every accepted view (VIEWS) and every published article (ARTICLES), for
// when Redis lost its data — or holds wrong data: it starts from nothing.
//
//  1. It takes the tenant's rebuild lock in Redis. Live folding sees it (in
//     the same script that would write) and leaves the tenant's views in
//     JetStream meanwhile, as during a Redis outage; beacons are still
//     accepted.
//  2. It notes the streams' last sequences: the rebuild covers everything up
//     to them, live folding everything after.
//  3. It deletes the tenant's keys.
//  4. It replays article.published / article.unpublished (legacy counts,
//     categories, unpublished articles) through the consumer's own code.
//  5. It replays the views in stream order through the fold script. Repeats
//     (same reader, same article, under 30 minutes) are decided in memory by
//     the views' own times — the rule live folding applies in Redis — so no
//     per-reader key is written for history; the last 30 minutes' are, for
//     live folding to go on from. Messages young enough to be redelivered are
//     marked as folded, so a view that live folding left waiting is skipped
//     when it comes back.
//  6. It releases the lock; live folding resumes where it was.
//
// A rebuild that dies leaves its lock to expire within a minute and the
// tenant's counts partial: run it again.

const (
	rebuildLockTTL = time.Minute
	// rebuildFetch messages are read from a stream at a time.
	rebuildFetch = 500
)

// rebuildStats is what one tenant's rebuild did.
type rebuildStats struct {
	Tenant      string
	KeysDeleted int
	Articles    int
	Messages    int
	Views       int
	foldResult
	Took time.Duration
}

func (s rebuildStats) String() string {
	return fmt.Sprintf("%s: %d keys deleted; %d article events; %d views in %d messages: %d counted, %d repeats (same reader within 30 min), %d skipped; %s",
		s.Tenant, s.KeysDeleted, s.Articles, s.Views, s.Messages, s.Counted, s.Repeated, s.Skipped, s.Took.Round(time.Millisecond))
}

// runRebuild is `view-counter rebuild [-tenant ID]`: it reads the same
// environment as the service.
func runRebuild(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("view-counter rebuild", flag.ContinueOnError)
	fs.SetOutput(stdout)
	only := fs.String("tenant", "", "rebuild this tenant only (default: every tenant with views or published articles)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: view-counter rebuild [-tenant ID]\n\nRecomputes view counts, unique readers, most-read lists and category counts\nfrom the VIEWS and ARTICLES streams, replacing what Redis holds. Beacons are\naccepted meanwhile; their views are folded once the rebuild is done.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("loading configuration: %w", err)
	}
	log := config.NewLogger(stdout, serviceName+"-rebuild", cfg.LogLevel)
	busCfg := cfg.NATS.Bus(serviceName + "-rebuild")
	busCfg.Logger = log
	b, err := bus.Connect(busCfg)
	if err != nil {
		return err
	}
	defer b.Close(context.WithoutCancel(ctx)) //nolint:errcheck // best effort at exit
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := b.Declare(dctx); err != nil {
		return err
	}
	rdb := newRedis(cfg)
	defer rdb.Close()
	loc, _ := time.LoadLocation(cfg.TimeZone)
	r := &rebuilder{js: b.JetStream(), rdb: rdb, cal: calendar{loc: loc}, log: log, now: time.Now}

	tenants := []string{*only}
	if *only == "" {
		if tenants, err = r.tenants(ctx); err != nil {
			return err
		}
	} else if err := tenant.ValidateID(*only); err != nil {
		return err
	}
	for _, t := range tenants {
		st, err := r.rebuild(ctx, t)
		if err != nil {
			return fmt.Errorf("rebuilding %s: %w", t, err)
		}
		fmt.Fprintln(stdout, "rebuilt", st)
	}
	return nil
}

type rebuilder struct {
	js  jetstream.JetStream
	rdb redis.UniversalClient
	cal calendar
	log *slog.Logger
	now func() time.Time
}

// tenants are those with views or article events in the streams.
func (r *rebuilder) tenants(ctx context.Context) ([]string, error) {
	var out []string
	for stream, filter := range map[string]string{bus.StreamViews: bus.TypeView + ".*", bus.StreamArticles: bus.TypeArticlePublished + ".*"} {
		s, err := r.js.Stream(ctx, stream)
		if err != nil {
			return nil, fmt.Errorf("opening stream %s: %w", stream, err)
		}
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
		if err != nil {
			return nil, fmt.Errorf("listing the subjects of %s: %w", stream, err)
		}
		for subj := range info.State.Subjects {
			t := subj[strings.LastIndexByte(subj, '.')+1:]
			if tenant.ValidateID(t) == nil && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// rebuild recomputes one tenant, holding its lock throughout.
func (r *rebuilder) rebuild(ctx context.Context, tenantID string) (rebuildStats, error) {
	st := rebuildStats{Tenant: tenantID}
	start := r.now()
	release, err := r.lock(ctx, tenantID)
	if err != nil {
		return st, err
	}
	defer release()

	viewsCut, err := r.lastSeq(ctx, bus.StreamViews)
	if err != nil {
		return st, err
	}
	articlesCut, err := r.lastSeq(ctx, bus.StreamArticles)
	if err != nil {
		return st, err
	}
	if st.KeysDeleted, err = deleteTenantKeys(ctx, r.rdb, tenantID); err != nil {
		return st, err
	}

	handle := handleArticles(r.rdb, nil, foldReplay)
	err = r.replay(ctx, bus.StreamArticles, []string{bus.Subject(bus.TypeArticlePublished, tenantID), bus.Subject(bus.TypeArticleUnpublished, tenantID)}, articlesCut,
		func(m jetstream.Msg, seq uint64) error {
			env := &eventsv1.Envelope{}
			if err := proto.Unmarshal(m.Data(), env); err != nil {
				r.log.Warn("skipping an undecodable article event", "seq", seq, "err", err)
				return nil
			}
			st.Articles++
			err := handle(ctx, &bus.Message{Subject: m.Subject(), Envelope: env, StreamSeq: seq})
			if bus.IsPermanent(err) {
				r.log.Warn("skipping an article event", "seq", seq, "err", err)
				return nil
			}
			return err
		})
	if err != nil {
		return st, err
	}

	reps := newRepeats()
	var chunk []viewMsg
	chunkViews := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		res, err := foldViews(ctx, r.rdb, r.cal, tenantID, foldReplay, r.now(), chunk)
		if err != nil {
			return err
		}
		st.add(res)
		chunk, chunkViews = chunk[:0], 0
		return nil
	}
	err = r.replay(ctx, bus.StreamViews, []string{bus.Subject(bus.TypeView, tenantID)}, viewsCut, func(m jetstream.Msg, seq uint64) error {
		_, vm, _, err := decodeViewData(m.Subject(), m.Data())
		if err != nil {
			r.log.Warn("skipping a malformed views message", "seq", seq, "err", err)
			return nil
		}
		if vm.At.IsZero() {
			if meta, err := m.Metadata(); err == nil {
				vm.At = meta.Timestamp
			}
		}
		vm.Seq = seq
		for i := range vm.Views {
			vm.Views[i].Count = reps.count(vm.Views[i].Article, vm.Views[i].Reader, vm.At.Unix())
		}
		st.Messages++
		st.Views += len(vm.Views)
		if chunkViews > 0 && chunkViews+len(vm.Views) > maxChunkViews {
			if err := flush(); err != nil {
				return err
			}
		}
		chunk = append(chunk, vm)
		chunkViews += len(vm.Views)
		return nil
	})
	if err == nil {
		err = flush()
	}
	st.Took = r.now().Sub(start)
	return st, err
}

// lock takes the tenant's rebuild lock and keeps it until release.
func (r *rebuilder) lock(ctx context.Context, tenantID string) (func(), error) {
	key, token := rebuildingKey(tenantID), randomID()
	ok, err := r.rdb.SetNX(ctx, key, token, rebuildLockTTL).Result()
	if err != nil {
		return nil, fmt.Errorf("taking the rebuild lock: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("%s is held: another rebuild of this tenant is running (or died less than %s ago)", key, rebuildLockTTL)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(rebuildLockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := extendLockScript.Run(context.Background(), r.rdb, []string{key}, token, int64(rebuildLockTTL/time.Millisecond)).Err(); err != nil {
					r.log.Warn("extending the rebuild lock", "err", err)
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		if err := releaseLockScript.Run(context.Background(), r.rdb, []string{key}, token).Err(); err != nil {
			r.log.Warn("releasing the rebuild lock; it expires by itself", "err", err)
		}
	}, nil
}

var extendLockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

var releaseLockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

func (r *rebuilder) lastSeq(ctx context.Context, stream string) (uint64, error) {
	s, err := r.js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("opening stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading stream %s: %w", stream, err)
	}
	return info.State.LastSeq, nil
}

// replay hands every message of stream on subjects, up to the sequence cut,
// to fn in order, with an ordered (ephemeral, unacknowledged) consumer.
func (r *rebuilder) replay(ctx context.Context, stream string, subjects []string, cut uint64, fn func(jetstream.Msg, uint64) error) error {
	if cut == 0 {
		return nil
	}
	cons, err := r.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("reading %s: %w", stream, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading %s: %w", stream, err)
	}
	if info.NumPending == 0 {
		return nil
	}
	for {
		batch, err := cons.Fetch(rebuildFetch, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return fmt.Errorf("reading %s: %w", stream, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("reading %s: %w", stream, err)
			}
			seq := meta.Sequence.Stream
			if seq > cut {
				return nil
			}
			if err := fn(m, seq); err != nil {
				return err
			}
			if seq == cut || meta.NumPending == 0 {
				return nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("reading %s: %w", stream, err)
		}
		if got == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// deleteTenantKeys removes every key of the tenant but its rebuild lock, on
// every Redis Cluster primary.
func deleteTenantKeys(ctx context.Context, rdb redis.UniversalClient, tenantID string) (int, error) {
	pattern, keep := keyPrefix(tenantID)+"*", rebuildingKey(tenantID)
	total := 0
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 1000).Iterator()
		var batch []string
		for it.Next(ctx) {
			if k := it.Val(); k != keep {
				batch = append(batch, k)
			}
			if len(batch) == 500 {
				if err := c.Unlink(ctx, batch...).Err(); err != nil {
					return err
				}
				total += len(batch)
				batch = batch[:0]
			}
		}
		if err := it.Err(); err != nil {
			return err
		}
		if len(batch) > 0 {
			if err := c.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			total += len(batch)
		}
		return nil
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, rdb)
	}
	if err != nil {
		return total, fmt.Errorf("deleting the keys of %s: %w", tenantID, err)
	}
	return total, nil
}

// repeats applies the one-view-per-reader-per-30-minutes rule in memory, as
// foldScript does in Redis, by the views' own times. It forgets readers
// whose last counted view is far behind the newest, so its size is that of
// a half hour's readers, not of the history's.
type repeats struct {
	last   map[string]int64
	window int64
	newest int64
	ops    int
}

func newRepeats() *repeats {
	return &repeats{last: map[string]int64{}, window: int64(repeatWindow / time.Second)}
}

// count reports whether a view at unix time ts counts.
func (r *repeats) count(article, reader string, ts int64) bool {
	r.newest = max(r.newest, ts)
	if r.ops++; r.ops%100_000 == 0 {
		for k, t := range r.last {
			if t < r.newest-2*r.window {
				delete(r.last, k)
			}
		}
	}
	k := article + "\x00" + reader
	last, ok := r.last[k]
	switch {
	case !ok, ts-last >= r.window:
		r.last[k] = ts
		return true
	case last-ts >= r.window:
		return true
	default:
		return false
	}
}
