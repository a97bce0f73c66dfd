package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
)

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
	// renditionName is a rendition's file name that site serves.
	renditionName = regexp.MustCompile(`^[a-z0-9][a-z0-9x-]{0,30}\.(jpg|png|webp)$`)
)

// publisher is the part of the bus render publishes with.
type publisher interface {
	Publish(ctx context.Context, env *eventsv1.Envelope) error
}

// Renderer turns approved articles into static pages under site/<tenant>/,
// keeps the render-index of published articles, rewrites the pages a
// change touches (lists, feeds, sitemaps, neighbours' related lists), and
// announces article.published.
type Renderer struct {
	out   output
	media jetstream.KeyValue // "<tenant>.<media>" → MediaManifest, written by image-resize
	index jetstream.KeyValue // "<tenant>.<article>" → Summary, written only here
	// scheduled is "<tenant>.<article>" → scheduledEntry, written only here
	// (schedule.go); nil in tools that never schedule.
	scheduled jetstream.KeyValue
	// replica names this process in the claims it writes.
	replica  string
	tenants  *tenant.Store
	bus      publisher
	pages    *pageTemplates
	siteURL  string
	viewsURL string
	log      *slog.Logger
	// invalidate tells every site replica that paths of a tenant changed
	// ("*" for all) when no article.published says so; may be nil.
	invalidate func(tid string, paths []string)
	now        func() time.Time

	// mu serialises the work of one process on the index and the pages, so
	// that a page is never rebuilt from an index read before a newer write.
	mu    sync.Mutex
	cache *indexCache
	// seen holds a fingerprint of each tenant's configuration and news
	// sitemap as its list pages were last built.
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

// builtArticle is an article ready to render: its summary, its view and
// the image for social cards.
type builtArticle struct {
	sum  Summary
	view *articleView
	og   openGraph
}

// build turns an approved article and its photos into what its page shows.
func build(s site, viewsURL string, a *eventsv1.Article, published, updated time.Time, figures []*figureView, og openGraph, thumb string) *builtArticle {
	tid := s.t.ID
	p := "bai-viet/" + slugify(a.GetTitle()) + "-" + a.GetId() + ".html"
	author := strings.TrimSpace(a.GetAuthor())
	view := &articleView{
		ID: a.GetId(), Title: a.GetTitle(), Lead: a.GetLead(),
		DateLine: dateLine(published), DateISO: published.In(vietnam).Format(time.RFC3339),
		Category: s.categoryName(a.GetCategory()), CategoryURL: s.categoryURL(a.GetCategory()),
		Author:    author,
		ViewsPost: viewsURL + "/v1/tenants/" + tid + "/views/" + a.GetId(),
		ViewsGet:  viewsURL + "/v1/tenants/" + tid + "/views?ids=" + a.GetId(),
	}
	if author != "" {
		view.AuthorURL = s.url(s.authorPath(author))
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
			if fi < len(figures) && figures[fi] != nil {
				view.Blocks = append(view.Blocks, blockView{Figure: figures[fi]})
			}
			fi++
		}
	}
	tags := cleanTags(a.GetTags())
	for _, tag := range tags {
		view.Tags = append(view.Tags, link{Name: tag, URL: s.url(tagPath(tag))})
	}
	sum := Summary{ID: a.GetId(), Revision: a.GetRevision(), Title: a.GetTitle(), Lead: a.GetLead(),
		Category: a.GetCategory(), Path: p, PublishedAt: published.UTC().Truncate(time.Second), Thumb: thumb, Author: author,
		Tags: tags}
	if updated.After(published) {
		sum.UpdatedAt = updated.UTC().Truncate(time.Second)
	}
	if og.Image != "" && strings.HasPrefix(og.Image, "/") {
		og.Image = s.siteURL + og.Image
	}
	return &builtArticle{sum: sum, view: view, og: og}
}

// articleFile renders a built article's page within model m.
func (r *Renderer) articleFile(m *model, b *builtArticle) (file, error) {
	og := b.og
	body, err := execute(r.pages.article, m.articlePage(b.view, b.sum, &og))
	if err != nil {
		return file{}, err
	}
	return file{path: b.sum.Path, body: body, ctype: htmlType}, nil
}

// publish renders one approved revision. Its steps are idempotent, so a
// redelivery (after a crash or while waiting for a photo) redoes them safely.
func (r *Renderer) publish(ctx context.Context, env *eventsv1.Envelope, a *eventsv1.Article) error {
	if err := checkArticle(a); err != nil {
		return bus.Permanent(err)
	}
	tid := env.GetTenant()
	log := r.log.With("tenant", tid, "article", a.GetId(), "revision", a.GetRevision())
	// A late approval of a revision submitted before a takedown must not
	// bring the article back (see schedule.go).
	// The article's render-schedule entry is read once per publish.
	entry, err := r.scheduleEntry(ctx, indexKey(tid, a.GetId()))
	if err != nil {
		return err
	}
	td, err := takenDown(entry)
	if err != nil {
		return err
	}
	if td >= a.GetRevision() {
		log.Info("skipping an approval of a revision taken down", "taken_down_revision", td)
		return nil
	}
	t, err := r.tenants.Get(ctx, tid)
	if err != nil {
		return fmt.Errorf("tenant of article %s: %w", a.GetId(), err) // may be on its way; retried
	}
	idx, err := r.cache.get(ctx, tid)
	if err != nil {
		return err
	}
	prev, had := idx[a.GetId()]
	if had && prev.Revision > a.GetRevision() {
		log.Info("skipping an approved revision older than the published one", "published", prev.Revision)
		return r.unschedule(ctx, tid, a.GetId(), a.GetRevision(), entry)
	}
	if r.isScheduled(a) {
		return r.schedule(ctx, env, a, entry)
	}

	figures, og, thumb, err := r.figures(ctx, tid, a, log)
	if err != nil {
		return err
	}
	published := a.GetPublishedAt().AsTime()
	switch {
	case a.GetPublishedAt() != nil:
	case had: // a new revision keeps the date readers first saw
		published = prev.PublishedAt
	case a.GetScheduledAt() != nil: // due: readers first see it at its time
		published = a.GetScheduledAt().AsTime()
	case env.GetOccurredAt() != nil:
		published = env.GetOccurredAt().AsTime()
	default:
		published = r.now()
	}
	updated := published
	if had && env.GetOccurredAt() != nil {
		updated = env.GetOccurredAt().AsTime()
		if at := a.GetScheduledAt(); at != nil && at.AsTime().After(updated) {
			updated = at.AsTime()
		}
	}
	s := site{t: t, siteURL: r.siteURL, viewsURL: r.viewsURL}
	b := build(s, r.viewsURL, a, published, updated, figures, og, thumb)

	next := idx.clone()
	next[a.GetId()] = indexEntry{Summary: b.sum}
	var old *Summary
	if had {
		old = &prev.Summary
	}
	now := r.now()
	oldM := newModel(s, idx, now)
	newM := oldM.with(old, &b.sum)
	page, err := r.articleFile(newM, b)
	if err != nil {
		return bus.Permanent(err)
	}
	files := []file{page}
	if old != nil && old.Path != b.sum.Path {
		moved, err := r.movedFile(newM, old.Path, a.GetTitle(), s.url(b.sum.Path), "")
		if err != nil {
			return bus.Permanent(err)
		}
		files = append(files, moved)
	}
	lists, err := r.listFiles(oldM, newM, old, &b.sum)
	if err != nil {
		return bus.Permanent(err)
	}
	files = append(files, lists...)

	var prevEntry *indexEntry
	if had {
		prevEntry = &prev
	}
	kvRev, err := putSummary(ctx, r.index, tid, b.sum, prevEntry)
	if err != nil {
		r.cache.forget()
		return err
	}
	next[a.GetId()] = indexEntry{Summary: b.sum, kvRevision: kvRev}
	r.cache.wrote(tid, next, kvRev)

	spliced, err := r.writeChange(ctx, tid, files, oldM, newM, old, &b.sum)
	if err != nil {
		return err
	}
	changed := paths(files)
	changed = append(changed, spliced...)
	if _, built := r.seen[tid]; !built {
		// A tenant created after this process started has no 404 page,
		// robots.txt or empty category pages yet: build them with its first
		// publish rather than at the next refresh tick.
		if err := r.refreshSiteLocked(ctx, t); err != nil {
			log.Warn("building the tenant's pages; the next refresh retries", "err", err)
		}
	}
	err = r.bus.Publish(ctx, &eventsv1.Envelope{
		Id:            fmt.Sprintf("%s.%s.%d.published", tid, a.GetId(), a.GetRevision()),
		Type:          bus.TypeArticlePublished,
		Tenant:        tid,
		CorrelationId: a.GetId(),
		Payload: &eventsv1.Envelope_ArticlePublished{ArticlePublished: &eventsv1.ArticlePublished{
			ArticleId: a.GetId(), Revision: a.GetRevision(),
			Path: b.sum.Path, Url: s.absolute(b.sum.Path), ChangedPaths: changed,
			InitialViews: a.GetInitialViews(), Category: a.GetCategory(),
		}},
	})
	if err != nil {
		return err
	}
	// A waiting scheduled entry of this revision or an older one, or a
	// tombstone of an older takedown, is done with: this revision is the
	// one readers see now.
	if err := r.unschedule(ctx, tid, a.GetId(), a.GetRevision(), entry); err != nil {
		return err
	}
	log.Info("article published", "url", s.absolute(b.sum.Path), "pages", len(changed))
	return nil
}

func paths(files []file) []string {
	out := make([]string, 0, len(files))
	for _, f := range files {
		out = append(out, f.path)
	}
	return out
}

// writeChange writes files and splices the lists of the neighbouring
// articles whose lists changed, returning the spliced paths.
func (r *Renderer) writeChange(ctx context.Context, tid string, files []file, oldM, newM *model, old, cur *Summary) ([]string, error) {
	if err := putAll(ctx, r.out, tid, files, nil); err != nil {
		return nil, err
	}
	return r.spliceNeighbours(ctx, tid, oldM, newM, old, cur)
}

// figures reads the manifest of every photo of the article, in body order: a
// figure for a resized photo, nil for one that failed (it is left out). A
// photo without a manifest yet is still being resized: that is a transient
// error, and the bus redelivers the article with a growing delay.
func (r *Renderer) figures(ctx context.Context, tid string, a *eventsv1.Article, log *slog.Logger) ([]*figureView, openGraph, string, error) {
	manifests, err := r.manifests(ctx, tid, a, true, log)
	if err != nil {
		return nil, openGraph{}, "", err
	}
	figs, og, thumb := figuresOf(tid, a, manifests, log)
	return figs, og, thumb, nil
}

// manifests reads the manifest of every photo of a, in body order, nil for
// an unreadable one. A photo without a manifest yet is an error when wait
// (publishing waits for it), nil otherwise (a preview shows it without).
func (r *Renderer) manifests(ctx context.Context, tid string, a *eventsv1.Article, wait bool, log *slog.Logger) ([]*eventsv1.MediaManifest, error) {
	var out []*eventsv1.MediaManifest
	for _, b := range a.GetBody() {
		img := b.GetImage()
		if img == nil {
			continue
		}
		e, err := r.media.Get(ctx, tid+"."+img.GetMediaId())
		if errors.Is(err, jetstream.ErrKeyNotFound) && !wait {
			out = append(out, nil)
			continue
		}
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, fmt.Errorf("waiting for photo %s", img.GetMediaId())
		}
		if err != nil {
			return nil, fmt.Errorf("reading manifest of photo %s: %w", img.GetMediaId(), err)
		}
		var mf eventsv1.MediaManifest
		if err := proto.Unmarshal(e.Value(), &mf); err != nil {
			log.Error("leaving out a photo with an unreadable manifest", "media", img.GetMediaId(), "err", err)
			out = append(out, nil)
			continue
		}
		out = append(out, &mf)
	}
	return out, nil
}

// figuresOf builds the figures from the manifests (nil for an unreadable
// one), in body order; og is the photo for social cards (the first photo's
// 16:9 crop when image-resize made one), thumb the first photo's smallest
// rendition.
func figuresOf(tid string, a *eventsv1.Article, manifests []*eventsv1.MediaManifest, log *slog.Logger) ([]*figureView, openGraph, string) {
	var out []*figureView
	var og openGraph
	thumb := ""
	i := 0
	for _, b := range a.GetBody() {
		img := b.GetImage()
		if img == nil {
			continue
		}
		mf := manifests[i]
		i++
		if mf == nil {
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
			og = socialImage(tid, img, mf.GetResized())
		}
		fig.Lazy = anyFigure(out) // the first photo is above the fold: load it at once
		out = append(out, fig)
	}
	return out, og, thumb
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

// renditionURL is where site serves a rendition, or "" when its key is not
// one site serves (media/<tenant>/<media>/<name>).
func renditionURL(tid, mediaID string, rd *eventsv1.Rendition) string {
	dir, name := path.Split(rd.GetKey())
	if dir != "media/"+tid+"/"+mediaID+"/" || !renditionName.MatchString(name) {
		return ""
	}
	return "/" + tid + "/media/" + mediaID + "/" + name
}

// srcsetRendition: only plain-width JPEG and PNG renditions go in srcset;
// other formats image-resize may add (WebP, crops) are ignored.
func srcsetRendition(tid, mediaID string, rd *eventsv1.Rendition) bool {
	if rd.GetWidth() <= 0 || rd.GetHeight() <= 0 {
		return false
	}
	ext := map[string]string{"jpeg": "jpg", "png": "png"}[rd.GetFormat()]
	if ext == "" {
		return false
	}
	return rd.GetKey() == fmt.Sprintf("media/%s/%s/%d.%s", tid, mediaID, rd.GetWidth(), ext)
}

// figureOf builds a photo's figure from its renditions: srcset lists every
// plain rendition, src is the largest one up to maxSrcWidth. It returns the
// smallest rendition's URL for thumbnails.
func figureOf(tid string, img *eventsv1.Image, res *eventsv1.MediaResized) (*figureView, string) {
	var usable []*eventsv1.Rendition
	for _, rd := range res.GetRenditions() {
		if srcsetRendition(tid, img.GetMediaId(), rd) {
			usable = append(usable, rd)
		}
	}
	if len(usable) == 0 {
		return nil, ""
	}
	slices.SortFunc(usable, func(a, b *eventsv1.Rendition) int { return cmp.Compare(a.GetWidth(), b.GetWidth()) })
	src := usable[0]
	srcset := make([]string, 0, len(usable))
	for _, rd := range usable {
		if rd.GetWidth() <= maxSrcWidth {
			src = rd
		}
		srcset = append(srcset, fmt.Sprintf("%s %dw", renditionURL(tid, img.GetMediaId(), rd), rd.GetWidth()))
	}
	return &figureView{
		Src: renditionURL(tid, img.GetMediaId(), src), Srcset: strings.Join(srcset, ", "), Width: src.GetWidth(), Height: src.GetHeight(),
		Caption: strings.TrimSpace(img.GetCaption()), Credit: strings.TrimSpace(img.GetCredit()),
	}, renditionURL(tid, img.GetMediaId(), usable[0])
}

// socialImage is the photo for Open Graph and Twitter cards: the "jpeg-16x9"
// crop when present (the widest), else the widest plain rendition up to 1600.
func socialImage(tid string, img *eventsv1.Image, res *eventsv1.MediaResized) openGraph {
	var best *eventsv1.Rendition
	for _, rd := range res.GetRenditions() {
		if rd.GetFormat() == "jpeg-16x9" && renditionURL(tid, img.GetMediaId(), rd) != "" && (best == nil || rd.GetWidth() > best.GetWidth()) {
			best = rd
		}
	}
	if best == nil {
		for _, rd := range res.GetRenditions() {
			if srcsetRendition(tid, img.GetMediaId(), rd) && rd.GetWidth() <= 1600 && (best == nil || rd.GetWidth() > best.GetWidth()) {
				best = rd
			}
		}
	}
	if best == nil {
		return openGraph{}
	}
	return openGraph{Image: renditionURL(tid, img.GetMediaId(), best), ImageWidth: best.GetWidth(), ImageHeight: best.GetHeight()}
}

// unpublish takes an article off its tenant's site in the form its reason
// names (see takedown.go); it leaves the index, every list, feed and sitemap.
func (r *Renderer) unpublish(ctx context.Context, tid string, u *eventsv1.ArticleUnpublished) error {
	if !articleIDPattern.MatchString(u.GetArticleId()) {
		return bus.Permanent(fmt.Errorf("article id %q is not [a-z0-9]{1,64}", truncate(u.GetArticleId(), 70)))
	}
	log := r.log.With("tenant", tid, "article", u.GetArticleId(), "revision", u.GetRevision())
	idx, err := r.cache.get(ctx, tid)
	if err != nil {
		return err
	}
	prev, had := idx[u.GetArticleId()]
	if had && u.GetRevision() > 0 && prev.Revision > u.GetRevision() {
		log.Info("skipping an unpublish older than the published revision", "published", prev.Revision)
		return nil
	}
	// The tombstone keeps the article down against late approvals of the
	// revisions taken down, and a scheduled article taken down before its
	// time never appears.
	rev := u.GetRevision()
	if rev == 0 && had {
		rev = prev.Revision
	}
	if err := r.entomb(ctx, tid, u.GetArticleId(), rev); err != nil {
		return err
	}
	if !had {
		log.Info("unpublish of an article that is not published; nothing else to do")
		return nil
	}
	t, err := r.tenants.Get(ctx, tid)
	if err != nil {
		return fmt.Errorf("tenant of article %s: %w", u.GetArticleId(), err)
	}
	s := site{t: t, siteURL: r.siteURL, viewsURL: r.viewsURL}
	next := idx.clone()
	delete(next, prev.ID)
	now := r.now()
	oldM := newModel(s, idx, now)
	newM := oldM.with(&prev.Summary, nil)
	td := parseTakedown(u.GetReason())
	gone, err := r.takedownFile(newM, prev.Summary, td)
	if err != nil {
		return bus.Permanent(err)
	}
	lists, err := r.listFiles(oldM, newM, &prev.Summary, nil)
	if err != nil {
		return bus.Permanent(err)
	}
	files := append([]file{gone}, lists...)

	err = r.index.Delete(ctx, indexKey(tid, prev.ID), jetstream.LastRevision(prev.kvRevision))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		r.cache.forget()
		return fmt.Errorf("%w: %s", errIndexConflict, indexKey(tid, prev.ID))
	}
	if err != nil {
		return fmt.Errorf("removing %s from the index: %w", prev.ID, err)
	}
	r.cache.wrote(tid, next, r.cache.known+1)
	spliced, err := r.writeChange(ctx, tid, files, oldM, newM, &prev.Summary, nil)
	if err != nil {
		return err
	}
	if r.invalidate != nil {
		r.invalidate(tid, append(paths(files), spliced...))
	}
	log.Info("article unpublished", "path", prev.Path, "form", td.form)
	return nil
}

// takedownFile is what stands at an unpublished article's address.
func (r *Renderer) takedownFile(m *model, a Summary, td takedown) (file, error) {
	if td.form == formRedirect {
		if target := m.s.redirectTarget(td.target); target != "" {
			return r.movedFile(m, a.Path, a.Title, target, td.text)
		}
		td.form = formNotice // a target site would not follow: say it was removed
	}
	body, err := execute(r.pages.notice, m.removedPage(a.Title, td))
	if err != nil {
		return file{}, err
	}
	ctype := htmlType
	if td.form == formGone {
		ctype = statusType(htmlType, 410, "")
	}
	return file{path: a.Path, body: body, ctype: ctype}, nil
}

// movedFile is a page at path that site answers with a 301 to target.
func (r *Renderer) movedFile(m *model, at, title, target, reason string) (file, error) {
	body, err := execute(r.pages.notice, m.movedPage(title, target, reason))
	if err != nil {
		return file{}, err
	}
	return file{path: at, body: body, ctype: statusType(htmlType, 301, target)}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
