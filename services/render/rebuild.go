package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/tenant"
)

// A full rebuild replays a tenant's article.approved and article.unpublished
// events from the ARTICLES stream (events carry the whole article), applies
// them as the live consumer would, renders every page and rewrites the
// render-index to match. The same stream gives the same site, so running it
// twice changes nothing.

// replayed is one article's state after replaying its events.
type replayed struct {
	article   *eventsv1.Article
	published time.Time // the date readers first saw
	updated   time.Time
	live      bool
	reason    string // of the last unpublish
	path      string // where it was last published
	// downTo is the revision of the last takedown: approvals up to it were
	// submitted before the takedown and stay off the site, as the live
	// consumer's tombstone in render-schedule keeps them (schedule.go).
	downTo int64
}

// replay reads the tenant's article events in stream order.
func replay(ctx context.Context, js jetstream.JetStream, tid string, now time.Time, progress func(done, total uint64)) (map[string]*replayed, error) {
	cons, err := js.OrderedConsumer(ctx, bus.StreamArticles, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{bus.Subject(bus.TypeArticleApproved, tid), bus.Subject(bus.TypeArticleUnpublished, tid)},
	})
	if err != nil {
		return nil, fmt.Errorf("reading the events of %s: %w", tid, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the events of %s: %w", tid, err)
	}
	total := info.NumPending
	out := map[string]*replayed{}
	for done := uint64(0); done < total; {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("reading the events of %s: %w", tid, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			env := &eventsv1.Envelope{}
			if proto.Unmarshal(m.Data(), env) == nil {
				apply(out, env, now)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, fmt.Errorf("reading the events of %s: %w", tid, err)
		}
		if n == 0 {
			break
		}
		done += uint64(n)
		if progress != nil {
			progress(done, total)
		}
	}
	return out, nil
}

// apply is the live consumer's decision for one event at time now: an
// approval scheduled after now is still waiting in render-schedule, not on
// the site.
func apply(state map[string]*replayed, env *eventsv1.Envelope, now time.Time) {
	switch p := env.Payload.(type) {
	case *eventsv1.Envelope_ArticleApproved:
		a := p.ArticleApproved.GetArticle()
		if checkArticle(a) != nil {
			return
		}
		if at := a.GetScheduledAt(); at != nil && at.AsTime().After(now) {
			return
		}
		cur := state[a.GetId()]
		if cur != nil && cur.live && cur.article.GetRevision() > a.GetRevision() {
			return
		}
		if cur != nil && a.GetRevision() <= cur.downTo {
			return
		}
		at := env.GetOccurredAt().AsTime()
		if s := a.GetScheduledAt(); s != nil && s.AsTime().After(at) {
			at = s.AsTime()
		}
		next := &replayed{article: a, live: true, updated: at}
		if cur != nil {
			next.downTo = cur.downTo
		}
		switch {
		case a.GetPublishedAt() != nil:
			next.published = a.GetPublishedAt().AsTime()
		case cur != nil && cur.live:
			next.published = cur.published
		case a.GetScheduledAt() != nil:
			next.published = a.GetScheduledAt().AsTime()
		default:
			next.published = at
		}
		if cur == nil || !cur.live {
			next.updated = next.published
		}
		state[a.GetId()] = next
	case *eventsv1.Envelope_ArticleUnpublished:
		u := p.ArticleUnpublished
		cur := state[u.GetArticleId()]
		if cur != nil && cur.live && u.GetRevision() > 0 && cur.article.GetRevision() > u.GetRevision() {
			return // older than what is online: the live consumer ignores it too
		}
		if cur == nil {
			// Never online (e.g. a scheduled article cancelled): nothing
			// to take down, but later approvals must know of it.
			cur = &replayed{}
			state[u.GetArticleId()] = cur
		}
		cur.downTo = max(cur.downTo, u.GetRevision())
		if cur.live {
			cur.live, cur.reason = false, u.GetReason()
		}
	}
}

// loadManifests reads every photo manifest of a tenant in one watch.
func loadManifests(ctx context.Context, kv jetstream.KeyValue, tid string) (map[string]*eventsv1.MediaManifest, error) {
	w, err := kv.WatchFiltered(ctx, []string{tid + ".*"}, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("reading the photos of %s: %w", tid, err)
	}
	defer w.Stop() //nolint:errcheck // read-only
	out := map[string]*eventsv1.MediaManifest{}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("media watch closed")
			}
			if e == nil {
				return out, nil
			}
			var mf eventsv1.MediaManifest
			if proto.Unmarshal(e.Value(), &mf) == nil {
				out[strings.TrimPrefix(e.Key(), tid+".")] = &mf
			}
		}
	}
}

// progressBar draws "phase [#####.....] 52% 5200/10000" on w, at most every
// 100 ms and at the end.
type progressBar struct {
	w     io.Writer
	phase string
	total int64
	done  atomic.Int64
	last  atomic.Int64
}

func newProgress(w io.Writer, phase string, total int) *progressBar {
	return &progressBar{w: w, phase: phase, total: int64(total)}
}

func (p *progressBar) add() {
	if p == nil {
		return
	}
	n := p.done.Add(1)
	now := time.Now().UnixMilli()
	if last := p.last.Load(); n == p.total || (now-last >= 100 && p.last.CompareAndSwap(last, now)) {
		p.draw(n)
	}
}

func (p *progressBar) draw(n int64) {
	if p.w == nil || p.total == 0 {
		return
	}
	const width = 30
	filled := int(n * width / p.total)
	fmt.Fprintf(p.w, "\r%-14s [%s%s] %3d%% %d/%d", p.phase, strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		n*100/p.total, n, p.total)
	if n == p.total {
		fmt.Fprintln(p.w)
	}
}

// rebuildStats says what a rebuild did.
type rebuildStats struct {
	Articles, Removed, Files  int
	IndexWrites, IndexDeletes int
	Elapsed                   time.Duration
}

// rebuildTenant renders a tenant's whole site from its replayed events.
func (r *Renderer) rebuildTenant(ctx context.Context, js jetstream.JetStream, tid string, progress io.Writer) (rebuildStats, error) {
	start := time.Now()
	var st rebuildStats
	if err := tenant.ValidateID(tid); err != nil {
		return st, err
	}
	t, err := r.tenants.Get(ctx, tid)
	if err != nil {
		return st, err
	}
	readBar := &progressBar{w: progress, phase: "events"}
	state, err := replay(ctx, js, tid, r.now(), func(done, total uint64) {
		readBar.total = int64(total)
		readBar.draw(int64(done))
	})
	if err != nil {
		return st, err
	}
	manifests, err := loadManifests(ctx, r.media, tid)
	if err != nil {
		return st, err
	}
	s := site{t: t, siteURL: r.siteURL, viewsURL: r.viewsURL}
	var built []*builtArticle
	var removed []*replayed
	for _, a := range state {
		if !a.live {
			if a.article != nil { // was online once: its address gets the takedown page
				removed = append(removed, a)
			}
			continue
		}
		built = append(built, r.buildReplayed(s, a, manifests))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err = r.writeSite(ctx, s, built, progress)
	if err != nil {
		return st, err
	}
	// Takedowns: an unpublished article's last address keeps its takedown page.
	m := newModel(s, indexOf(built), r.now())
	var gone []file
	for _, a := range removed {
		b := r.buildReplayed(s, a, manifests)
		f, err := r.takedownFile(m, b.sum, parseTakedown(a.reason))
		if err != nil {
			return st, err
		}
		gone = append(gone, f)
	}
	if err := putAll(ctx, r.out, tid, gone, nil); err != nil {
		return st, err
	}
	st.Removed = len(removed)
	st.Files += len(gone)
	if st.IndexWrites, st.IndexDeletes, err = r.syncIndex(ctx, tid, built); err != nil {
		return st, err
	}
	r.cache.forget()
	delete(r.seen, tid)
	if r.invalidate != nil {
		r.invalidate(tid, []string{"*"})
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

func (r *Renderer) buildReplayed(s site, a *replayed, manifests map[string]*eventsv1.MediaManifest) *builtArticle {
	var mfs []*eventsv1.MediaManifest
	for _, b := range a.article.GetBody() {
		if img := b.GetImage(); img != nil {
			mf := manifests[img.GetMediaId()]
			if mf == nil { // never resized: left out, as a failed photo is
				mf = &eventsv1.MediaManifest{Failed: &eventsv1.MediaFailed{Reason: "no manifest"}}
			}
			mfs = append(mfs, mf)
		}
	}
	figs, og, thumb := figuresOf(s.t.ID, a.article, mfs, r.log)
	return build(s, r.viewsURL, a.article, a.published, a.updated, figs, og, thumb)
}

func indexOf(built []*builtArticle) tenantIndex {
	idx := make(tenantIndex, len(built))
	for _, b := range built {
		idx[b.sum.ID] = indexEntry{Summary: b.sum}
	}
	return idx
}

// writeSite renders and writes every page of a site: each article, the
// home page, every category page and archive page, author pages, feeds,
// sitemaps, robots.txt and the 404 page.
func (r *Renderer) writeSite(ctx context.Context, s site, built []*builtArticle, progress io.Writer) (rebuildStats, error) {
	var st rebuildStats
	m := newModel(s, indexOf(built), r.now())
	files, err := r.tenantFiles(m)
	if err != nil {
		return st, err
	}
	for _, c := range m.categories() {
		fs, err := r.categoryFiles(nil, m, c, 1)
		if err != nil {
			return st, err
		}
		files = append(files, fs[1:]...) // the first page is in tenantFiles
	}
	for a := range m.authors {
		f, err := r.htmlFile("tac-gia/"+a+"/index.html", r.pages.category, m.authorPage(a))
		if err != nil {
			return st, err
		}
		files = append(files, f)
	}
	for t := range m.tags {
		f, err := r.htmlFile("tag/"+t+"/index.html", r.pages.category, m.tagPage(t))
		if err != nil {
			return st, err
		}
		files = append(files, f)
	}
	months := map[string]bool{}
	for _, a := range m.all {
		months[month(a.PublishedAt)] = true
	}
	for mo := range months {
		files = append(files, m.monthSitemap(mo))
	}
	bar := newProgress(progress, "pages", len(files)+len(built))
	if err := putAll(ctx, r.out, s.t.ID, files, bar.add); err != nil {
		return st, err
	}
	// Article pages are rendered by the writers, so only a few are in memory at once.
	if err := putRendered(ctx, r.out, s.t.ID, len(built), func(i int) (file, error) { return r.articleFile(m, built[i]) }, bar.add); err != nil {
		return st, err
	}
	st.Articles, st.Files = len(built), len(files)+len(built)
	return st, nil
}

// putRendered renders file i of n and writes it, writeConcurrency at a time.
func putRendered(ctx context.Context, out output, tid string, n int, render func(i int) (file, error), done func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	errc := make(chan error, writeConcurrency)
	for range writeConcurrency {
		go func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					errc <- ctx.Err()
					return
				}
				f, err := render(i)
				if err == nil {
					err = out.Put(ctx, tid, f)
				}
				if err != nil {
					cancel()
					errc <- err
					return
				}
				if done != nil {
					done()
				}
			}
		}()
	}
	var first error
	for range writeConcurrency {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// syncIndex makes the render-index hold exactly the built articles,
// writing only entries that differ.
func (r *Renderer) syncIndex(ctx context.Context, tid string, built []*builtArticle) (writes, deletes int, err error) {
	cur, err := loadIndex(ctx, r.index, tid)
	if err != nil {
		return 0, 0, err
	}
	keep := map[string]bool{}
	for _, b := range built {
		keep[b.sum.ID] = true
		if e, ok := cur[b.sum.ID]; ok && e.Summary.equal(b.sum) {
			continue
		}
		v, err := json.Marshal(b.sum)
		if err != nil {
			return writes, deletes, err
		}
		if _, err := r.index.Put(ctx, indexKey(tid, b.sum.ID), v); err != nil {
			return writes, deletes, fmt.Errorf("storing summary %s: %w", b.sum.ID, err)
		}
		writes++
	}
	for id := range cur {
		if !keep[id] {
			if err := r.index.Delete(ctx, indexKey(tid, id)); err != nil {
				return writes, deletes, fmt.Errorf("removing %s from the index: %w", id, err)
			}
			deletes++
		}
	}
	return writes, deletes, nil
}

// rebuildCommand is "render rebuild -tenant <id> [-all]": a full rebuild
// with the service's configuration (RENDER_*, NATS_*, S3_*), a progress bar
// on stderr and a summary on stdout.
func rebuildCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tid := fs.String("tenant", "", "tenant to rebuild")
	all := fs.Bool("all", false, "rebuild every tenant")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*tid == "") == !*all {
		return errors.New("rebuild: give -tenant <id> or -all")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := config.NewLogger(stderr, "render-rebuild", "warn")
	b, err := bus.Connect(cfg.NATS.Bus("render-rebuild"))
	if err != nil {
		return err
	}
	defer b.Close(context.WithoutCancel(ctx)) //nolint:errcheck
	if err := b.Declare(ctx); err != nil {
		return err
	}
	store, err := blob.New(cfg.S3.Blob())
	if err != nil {
		return err
	}
	if err := store.EnsureBucket(ctx); err != nil {
		return err
	}
	r, err := newRenderer(ctx, b, s3Output{store}, cfg, log)
	if err != nil {
		return err
	}
	defer r.tenants.Stop()
	ids := []string{*tid}
	if *all {
		ts, err := r.tenants.All(ctx)
		if err != nil {
			return err
		}
		ids = ids[:0]
		for _, t := range ts {
			ids = append(ids, t.ID)
		}
	}
	for _, id := range ids {
		fmt.Fprintf(stderr, "rebuilding %s\n", id)
		st, err := r.rebuildTenant(ctx, b.JetStream(), id, stderr)
		if err != nil {
			return fmt.Errorf("rebuilding %s: %w", id, err)
		}
		fmt.Fprintf(stdout, "%s: %d articles, %d taken down, %d files written, index %d written / %d removed, in %s\n",
			id, st.Articles, st.Removed, st.Files, st.IndexWrites, st.IndexDeletes, st.Elapsed.Round(time.Millisecond))
	}
	return nil
}

// newRenderer opens the buckets and the tenant store a renderer reads.
func newRenderer(ctx context.Context, b *bus.Bus, out output, cfg Config, log *slog.Logger) (*Renderer, error) {
	tenantsKV, err := b.KV(ctx, bus.BucketTenants)
	if err != nil {
		return nil, err
	}
	mediaKV, err := b.KV(ctx, bus.BucketMedia)
	if err != nil {
		return nil, err
	}
	indexKV, err := b.KV(ctx, bus.BucketRenderIndex)
	if err != nil {
		return nil, err
	}
	scheduleKV, err := b.KV(ctx, bus.BucketRenderSchedule)
	if err != nil {
		return nil, err
	}
	tenants := tenant.NewStore(tenantsKV)
	if err := tenants.Watch(ctx); err != nil {
		return nil, err
	}
	pages, err := parseTemplates()
	if err != nil {
		tenants.Stop()
		return nil, err
	}
	return &Renderer{
		out: out, media: mediaKV, index: indexKV, scheduled: scheduleKV, replica: replicaName(), tenants: tenants, bus: b, pages: pages,
		siteURL: cfg.SiteURL, viewsURL: cfg.ViewsURL, log: log, seen: map[string]string{},
		cache: newIndexCache(indexKV), now: time.Now, invalidate: invalidator(b, log),
	}, nil
}
