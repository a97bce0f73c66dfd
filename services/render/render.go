package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
)

const htmlType = "text/html; charset=utf-8"

// handleTimeout bounds one message, below the consumer's AckWait (1 min) so a
// stuck S3 or NATS call ends as a retry rather than as a second delivery
// racing the first.
const handleTimeout = 45 * time.Second

var (
	// articleIDPattern: ingest makes [a-z0-9]{16}; anything in this wider
	// set is still safe in a KV key, an S3 key and a URL.
	articleIDPattern = regexp.MustCompile(`^[a-z0-9]{1,64}$`)
	mediaIDPattern   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	categoryPattern  = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
)

// publisher is the part of the bus render publishes with.
type publisher interface {
	Publish(ctx context.Context, env *eventsv1.Envelope) error
}

// Renderer turns approved articles into static pages in S3 under
// site/<tenant>/, keeps the render-index of published articles, rebuilds the
// home and category pages from it, and announces article.published.
type Renderer struct {
	store    *blob.Store
	media    jetstream.KeyValue // "<tenant>.<media>" → MediaManifest, written by image-resize
	index    jetstream.KeyValue // "<tenant>.<article>" → Summary, written only here
	tenants  *tenant.Store
	bus      publisher
	pages    *pageTemplates
	siteURL  string
	viewsURL string
	log      *slog.Logger

	// mu serialises the work of one process on the index and the list pages,
	// so that a page is never rebuilt from an index read before a newer write.
	mu sync.Mutex
	// seen holds a fingerprint of each tenant's configuration as its list
	// pages were last built, so a changed name, banner or menu is rebuilt.
	seen map[string]string
}

// Handle is the bus handler of the render consumer.
func (r *Renderer) Handle(ctx context.Context, m *bus.Message) error {
	env := m.Envelope
	if err := tenant.ValidateID(env.GetTenant()); err != nil {
		return bus.Permanent(err)
	}
	if m.Subject != bus.Subject(env.GetType(), env.GetTenant()) {
		return bus.Permanent(fmt.Errorf("envelope of %s/%s arrived on %s", env.GetType(), env.GetTenant(), m.Subject))
	}
	ctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch p := env.Payload.(type) {
	case *eventsv1.Envelope_ArticleApproved:
		return r.publish(ctx, env, p.ArticleApproved.GetArticle())
	case *eventsv1.Envelope_ArticleUnpublished:
		return r.unpublish(ctx, env.GetTenant(), p.ArticleUnpublished)
	default:
		return bus.Permanent(fmt.Errorf("render does not handle %s (payload %T)", env.GetType(), env.Payload))
	}
}

func checkArticle(a *eventsv1.Article) error {
	switch {
	case a == nil:
		return errors.New("approved event without an article")
	case !articleIDPattern.MatchString(a.GetId()):
		return fmt.Errorf("article id %q is not [a-z0-9]{1,64}", truncate(a.GetId(), 70))
	case a.GetRevision() < 1:
		return fmt.Errorf("article %s: revision %d is not positive", a.GetId(), a.GetRevision())
	case !categoryPattern.MatchString(a.GetCategory()):
		return fmt.Errorf("article %s: category %q is not [a-z0-9-]{1,64}", a.GetId(), truncate(a.GetCategory(), 70))
	case strings.TrimSpace(a.GetTitle()) == "":
		return fmt.Errorf("article %s: empty title", a.GetId())
	}
	for _, b := range a.GetBody() {
		if img := b.GetImage(); img != nil && !mediaIDPattern.MatchString(img.GetMediaId()) {
			return fmt.Errorf("article %s: media id %q is not a hex sha-256", a.GetId(), truncate(img.GetMediaId(), 70))
		}
	}
	return nil
}

// publish renders one approved revision. Its steps are idempotent, so a
// redelivery (after a crash or while waiting for a photo) redoes them safely.
func (r *Renderer) publish(ctx context.Context, env *eventsv1.Envelope, a *eventsv1.Article) error {
	if err := checkArticle(a); err != nil {
		return bus.Permanent(err)
	}
	tid := env.GetTenant()
	log := r.log.With("tenant", tid, "article", a.GetId(), "revision", a.GetRevision())
	t, err := r.tenants.Get(ctx, tid)
	if err != nil {
		return fmt.Errorf("tenant of article %s: %w", a.GetId(), err) // may be on its way; retried
	}
	idx, err := loadIndex(ctx, r.index, tid)
	if err != nil {
		return err
	}
	prev, had := idx[a.GetId()]
	if had && prev.Revision > a.GetRevision() {
		log.Info("skipping an approved revision older than the published one", "published", prev.Revision)
		return nil
	}

	figures, thumb, err := r.figures(ctx, tid, a, log)
	if err != nil {
		return err
	}

	published := a.GetPublishedAt().AsTime()
	switch {
	case a.GetPublishedAt() != nil:
	case had: // a new revision keeps the date readers first saw
		published = prev.PublishedAt
	case env.GetOccurredAt() != nil:
		published = env.GetOccurredAt().AsTime()
	default:
		published = time.Now()
	}

	s := site{t: t, siteURL: r.siteURL}
	path := "bai-viet/" + slugify(a.GetTitle()) + "-" + a.GetId() + ".html"
	view := &articleView{
		ID: a.GetId(), Title: a.GetTitle(), Lead: a.GetLead(),
		DateLine: dateLine(published), DateISO: published.In(vietnam).Format(time.RFC3339),
		Category: s.categoryName(a.GetCategory()), CategoryURL: s.categoryURL(a.GetCategory()),
		Author:    a.GetAuthor(),
		ViewsPost: r.viewsURL + "/v1/tenants/" + tid + "/views/" + a.GetId(),
		ViewsGet:  r.viewsURL + "/v1/tenants/" + tid + "/views?ids=" + a.GetId(),
	}
	if src := a.GetSource(); src.GetName() != "" || src.GetUrl() != "" {
		name := src.GetName()
		if name == "" {
			name = src.GetUrl()
		}
		view.Source = &link{Name: name, URL: src.GetUrl()}
	}
	fi := 0
	for _, b := range a.GetBody() {
		switch {
		case b.GetParagraph() != nil:
			if text := strings.TrimSpace(b.GetParagraph().GetText()); text != "" {
				view.Blocks = append(view.Blocks, blockView{Text: text})
			}
		case b.GetImage() != nil:
			if f := figures[fi]; f != nil {
				view.Blocks = append(view.Blocks, blockView{Figure: f})
			}
			fi++
		}
	}
	body, err := execute(r.pages.article, s.articlePage(view, path, a.GetLead(), idx, a.GetCategory()))
	if err != nil {
		return bus.Permanent(err)
	}
	if err := r.store.PutBytes(ctx, siteKey(tid, path), body, htmlType); err != nil {
		return err
	}
	changed := []string{path}
	if had && prev.Path != path && prev.Path != "" {
		moved, err := execute(r.pages.notice, s.movedPage(a.GetTitle(), path))
		if err != nil {
			return bus.Permanent(err)
		}
		if err := r.store.PutBytes(ctx, siteKey(tid, prev.Path), moved, htmlType); err != nil {
			return err
		}
		changed = append(changed, prev.Path)
	}

	sum := Summary{ID: a.GetId(), Revision: a.GetRevision(), Title: a.GetTitle(), Lead: a.GetLead(),
		Category: a.GetCategory(), Path: path, PublishedAt: published.UTC(), Thumb: thumb}
	var prevEntry *indexEntry
	if had {
		prevEntry = &prev
	}
	kvRev, err := putSummary(ctx, r.index, tid, sum, prevEntry)
	if err != nil {
		return err
	}
	idx[a.GetId()] = indexEntry{Summary: sum, kvRevision: kvRev}

	cats := []string{a.GetCategory()}
	if had && prev.Category != a.GetCategory() {
		cats = append(cats, prev.Category)
	}
	lists, err := r.writeLists(ctx, s, idx, cats)
	if err != nil {
		return err
	}
	changed = append(changed, lists...)

	err = r.bus.Publish(ctx, &eventsv1.Envelope{
		Id:            fmt.Sprintf("%s.%s.%d.published", tid, a.GetId(), a.GetRevision()),
		Type:          bus.TypeArticlePublished,
		Tenant:        tid,
		CorrelationId: a.GetId(),
		Payload: &eventsv1.Envelope_ArticlePublished{ArticlePublished: &eventsv1.ArticlePublished{
			ArticleId: a.GetId(), Revision: a.GetRevision(),
			Path: path, Url: s.absolute(path), ChangedPaths: changed,
			InitialViews: a.GetInitialViews(), Category: a.GetCategory(),
		}},
	})
	if err != nil {
		return err
	}
	log.Info("article published", "url", s.absolute(path), "photos", fi)
	return nil
}

// figures reads the manifest of every photo of the article, in body order: a
// figure for a resized photo, nil for one that failed (it is left out). A
// photo without a manifest yet is still being resized: that is a transient
// error, and the bus redelivers the article with a growing delay. thumb is
// the smallest rendition of the first usable photo.
func (r *Renderer) figures(ctx context.Context, tid string, a *eventsv1.Article, log *slog.Logger) ([]*figureView, string, error) {
	var out []*figureView
	thumb := ""
	for _, b := range a.GetBody() {
		img := b.GetImage()
		if img == nil {
			continue
		}
		e, err := r.media.Get(ctx, tid+"."+img.GetMediaId())
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, "", fmt.Errorf("waiting for photo %s", img.GetMediaId())
		}
		if err != nil {
			return nil, "", fmt.Errorf("reading manifest of photo %s: %w", img.GetMediaId(), err)
		}
		var mf eventsv1.MediaManifest
		if err := proto.Unmarshal(e.Value(), &mf); err != nil {
			log.Error("leaving out a photo with an unreadable manifest", "media", img.GetMediaId(), "err", err)
			out = append(out, nil)
			continue
		}
		if f := mf.GetFailed(); f != nil {
			log.Warn("leaving out a photo that could not be resized", "media", img.GetMediaId(), "reason", f.GetReason())
			out = append(out, nil)
			continue
		}
		fig, small := figureOf(tid, img, mf.GetResized())
		if fig == nil {
			log.Warn("leaving out a photo without usable renditions", "media", img.GetMediaId())
			out = append(out, nil)
			continue
		}
		if thumb == "" {
			thumb = small
		}
		fig.Lazy = anyFigure(out) // the first photo is above the fold: load it at once
		out = append(out, fig)
	}
	return out, thumb, nil
}

func anyFigure(fs []*figureView) bool {
	for _, f := range fs {
		if f != nil {
			return true
		}
	}
	return false
}

// maxSrcWidth is the widest rendition used as src, for browsers without srcset.
const maxSrcWidth = 1024

// figureOf builds a photo's figure from its renditions: srcset lists every
// rendition stored where the conventions put it, src is the largest one up
// to maxSrcWidth. It returns the smallest rendition's URL for thumbnails.
func figureOf(tid string, img *eventsv1.Image, res *eventsv1.MediaResized) (*figureView, string) {
	var usable []*eventsv1.Rendition
	for _, rd := range res.GetRenditions() {
		if rd.GetWidth() > 0 && rd.GetKey() == fmt.Sprintf("media/%s/%s/%d.jpg", tid, img.GetMediaId(), rd.GetWidth()) {
			usable = append(usable, rd) // only where site serves renditions from
		}
	}
	if len(usable) == 0 {
		return nil, ""
	}
	slices.SortFunc(usable, func(a, b *eventsv1.Rendition) int { return cmp.Compare(a.GetWidth(), b.GetWidth()) })
	url := func(rd *eventsv1.Rendition) string {
		return fmt.Sprintf("/%s/media/%s/%d.jpg", tid, img.GetMediaId(), rd.GetWidth())
	}
	src := usable[0]
	srcset := make([]string, 0, len(usable))
	for _, rd := range usable {
		if rd.GetWidth() <= maxSrcWidth {
			src = rd
		}
		srcset = append(srcset, fmt.Sprintf("%s %dw", url(rd), rd.GetWidth()))
	}
	return &figureView{
		Src: url(src), Srcset: strings.Join(srcset, ", "), Width: src.GetWidth(), Height: src.GetHeight(),
		Caption: strings.TrimSpace(img.GetCaption()), Credit: strings.TrimSpace(img.GetCredit()),
	}, url(usable[0])
}

// unpublish takes an article off its tenant's site: its page becomes a short
// notice, it leaves the index and the lists.
func (r *Renderer) unpublish(ctx context.Context, tid string, u *eventsv1.ArticleUnpublished) error {
	if !articleIDPattern.MatchString(u.GetArticleId()) {
		return bus.Permanent(fmt.Errorf("article id %q is not [a-z0-9]{1,64}", truncate(u.GetArticleId(), 70)))
	}
	log := r.log.With("tenant", tid, "article", u.GetArticleId(), "revision", u.GetRevision())
	t, err := r.tenants.Get(ctx, tid)
	if err != nil {
		return fmt.Errorf("tenant of article %s: %w", u.GetArticleId(), err)
	}
	idx, err := loadIndex(ctx, r.index, tid)
	if err != nil {
		return err
	}
	prev, had := idx[u.GetArticleId()]
	if !had {
		log.Info("unpublish of an article that is not published; nothing to do")
		return nil
	}
	if u.GetRevision() > 0 && prev.Revision > u.GetRevision() {
		log.Info("skipping an unpublish older than the published revision", "published", prev.Revision)
		return nil
	}
	s := site{t: t, siteURL: r.siteURL}
	body, err := execute(r.pages.notice, s.removedPage(prev.Title, u.GetReason()))
	if err != nil {
		return bus.Permanent(err)
	}
	if err := r.store.PutBytes(ctx, siteKey(tid, prev.Path), body, htmlType); err != nil {
		return err
	}
	err = r.index.Delete(ctx, indexKey(tid, prev.ID), jetstream.LastRevision(prev.kvRevision))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("%w: %s", errIndexConflict, indexKey(tid, prev.ID))
	}
	if err != nil {
		return fmt.Errorf("removing %s from the index: %w", prev.ID, err)
	}
	delete(idx, prev.ID)
	if _, err := r.writeLists(ctx, s, idx, []string{prev.Category}); err != nil {
		return err
	}
	log.Info("article unpublished", "path", prev.Path)
	return nil
}

// writeLists rebuilds the home page and the named category pages from idx,
// returning the paths written.
func (r *Renderer) writeLists(ctx context.Context, s site, idx tenantIndex, categories []string) ([]string, error) {
	type out struct {
		path string
		t    *template.Template
		p    *page
	}
	pages := []out{{"index.html", r.pages.home, s.homePage(idx)}}
	for _, c := range categories {
		pages = append(pages, out{c + "/index.html", r.pages.category, s.categoryPage(idx, c)})
	}
	var paths []string
	for _, o := range pages {
		body, err := execute(o.t, o.p)
		if err != nil {
			return nil, err
		}
		if err := r.store.PutBytes(ctx, siteKey(s.t.ID, o.path), body, htmlType); err != nil {
			return nil, err
		}
		paths = append(paths, o.path)
	}
	return paths, nil
}

func siteKey(tid, path string) string { return "site/" + tid + "/" + path }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// refreshInterval is how often tenant configurations are compared with the
// ones the list pages were built with.
const refreshInterval = 30 * time.Second

// refreshSites rebuilds the home and category pages of every tenant whose
// configuration differs from the one they were built with — every tenant the
// first time, so /<tenant>/ and its menu's category pages work before any
// article, and a new deploy's templates reach them.
func (r *Renderer) refreshSites(ctx context.Context) error {
	ts, err := r.tenants.All(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range ts {
		if err := r.refreshSite(ctx, t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Renderer) refreshSite(ctx context.Context, t *tenant.Tenant) error {
	fp, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("fingerprinting tenant %s: %w", t.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[t.ID] == string(fp) {
		return nil
	}
	if err := tenant.ValidateID(t.ID); err != nil {
		return err
	}
	idx, err := loadIndex(ctx, r.index, t.ID)
	if err != nil {
		return err
	}
	if _, err := r.writeLists(ctx, site{t: t, siteURL: r.siteURL}, idx, listCategories(t, idx)); err != nil {
		return fmt.Errorf("building the pages of %s: %w", t.ID, err)
	}
	r.seen[t.ID] = string(fp)
	r.log.Info("tenant pages built", "tenant", t.ID, "articles", len(idx))
	return nil
}

// keepSitesCurrent runs refreshSites now and then every refreshInterval
// until ctx ends.
func (r *Renderer) keepSitesCurrent(ctx context.Context) {
	tick := time.NewTicker(refreshInterval)
	defer tick.Stop()
	for {
		if err := r.refreshSites(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("refreshing tenant pages; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
