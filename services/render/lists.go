package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blocpress/blocpress/libs/tenant"
)

// listFiles are the list pages, feeds and sitemaps that change when an
// article goes from old to cur (either may be nil: a new article, an
// unpublished one): the home page, its categories' first page and the
// archive pages from its position on, its authors' pages, the feeds, the
// sitemap index, its month and the news sitemap.
func (r *Renderer) listFiles(oldM, newM *model, old, cur *Summary) ([]file, error) {
	var files []file
	add := func(f file, err error) error {
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	}
	if err := add(r.htmlFile("index.html", r.pages.home, newM.homePage())); err != nil {
		return nil, err
	}
	var cats, authors, months, tags []string
	for _, a := range []*Summary{old, cur} {
		if a == nil {
			continue
		}
		for _, t := range a.Tags {
			if slug := slugify(t); !slices.Contains(tags, slug) {
				tags = append(tags, slug)
			}
		}
		if !slices.Contains(cats, a.Category) {
			cats = append(cats, a.Category)
		}
		if a.Author != "" && !slices.Contains(authors, slugify(a.Author)) {
			authors = append(authors, slugify(a.Author))
		}
		if mo := month(a.PublishedAt); !slices.Contains(months, mo) {
			months = append(months, mo)
		}
	}
	for _, c := range cats {
		first := pageCount(len(oldM.cats[c]))
		if old != nil && old.Category == c {
			if i, ok := position(oldM.cats[c], *old); ok {
				first = min(first, pageOf(i))
			}
		}
		if cur != nil && cur.Category == c {
			if i, ok := position(newM.cats[c], *cur); ok {
				first = min(first, pageOf(i))
			}
		}
		fs, err := r.categoryFiles(oldM, newM, c, first)
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
		files = append(files, newM.rss(c), newM.atom(c))
	}
	for _, a := range authors {
		if err := add(r.htmlFile("tac-gia/"+a+"/index.html", r.pages.category, newM.authorPage(a))); err != nil {
			return nil, err
		}
	}
	for _, t := range tags {
		// A tag without articles any more keeps its (empty) page.
		if err := add(r.htmlFile("tag/"+t+"/index.html", r.pages.category, newM.tagPage(t))); err != nil {
			return nil, err
		}
	}
	files = append(files, newM.rss(""), newM.atom(""), newM.sitemapIndex(), newM.pagesSitemap(), newM.newsSitemap(), newM.titles())
	for _, mo := range months {
		files = append(files, newM.monthSitemap(mo))
	}
	return files, nil
}

// categoryFiles are a category's first page and its archive pages from
// page first on; archive pages past the new last one (after an unpublish)
// redirect to the category.
func (r *Renderer) categoryFiles(oldM, newM *model, c string, first int) ([]file, error) {
	f, err := r.htmlFile(c+"/index.html", r.pages.category, newM.categoryIndex(c))
	if err != nil {
		return nil, err
	}
	files := []file{f}
	total := pageCount(len(newM.cats[c]))
	for n := max(first, 1); n <= total; n++ {
		f, err := r.htmlFile(archivePath(c, n), r.pages.category, newM.archivePage(c, n))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if oldM != nil {
		for n := total + 1; n <= pageCount(len(oldM.cats[c])); n++ {
			f, err := r.movedFile(newM, archivePath(c, n), newM.s.categoryName(c), newM.s.categoryURL(c), "")
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	}
	return files, nil
}

func (r *Renderer) htmlFile(path string, t *template.Template, p *page) (file, error) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return file{}, fmt.Errorf("rendering %s: %w", path, err)
	}
	return file{path: path, body: buf.Bytes(), ctype: htmlType}, nil
}

// Markers around an article page's lists (html/template drops comments), which a neighbour's publish replaces.
var (
	listsStart = []byte(`<div class="lists">`)
	listsEnd   = []byte(`<div class="lists-end" hidden></div></div>`)
)

// spliceNeighbours rewrites the lists of the articles near old and cur in
// their categories whose "Tin liên quan" or "Các bài viết khác" changed, by
// replacing the marked block in their stored pages; their content is not
// rendered again. It returns the paths rewritten.
func (r *Renderer) spliceNeighbours(ctx context.Context, tid string, oldM, newM *model, old, cur *Summary) ([]string, error) {
	candidates := map[string]Summary{}
	around := func(list []Summary, a Summary, reach int) {
		i, _ := position(list, a)
		for j := max(0, i-reach); j < min(len(list), i+reach+1); j++ {
			candidates[list[j].ID] = list[j]
		}
	}
	for _, a := range []*Summary{old, cur} {
		if a == nil {
			continue
		}
		around(oldM.cats[a.Category], *a, categoryReach)
		around(newM.cats[a.Category], *a, categoryReach)
		// A tagged article is in the related pool of the next tagPool
		// newer articles of each of its tags.
		for _, t := range a.Tags {
			around(oldM.tags[slugify(t)], *a, tagPool)
			around(newM.tags[slugify(t)], *a, tagPool)
		}
	}
	type job struct {
		path  string
		lists listsView
	}
	var jobs []job
	for id, a := range candidates {
		if (cur != nil && id == cur.ID) || (old != nil && id == old.ID) {
			continue
		}
		if _, ok := position(newM.cats[a.Category], a); !ok {
			continue // not published any more
		}
		after := newM.lists(a)
		before := oldM.lists(a)
		if !slices.Equal(before.Related, after.Related) || !slices.Equal(before.Others, after.Others) {
			jobs = append(jobs, job{a.Path, after})
		}
	}
	slices.SortFunc(jobs, func(a, b job) int { return strings.Compare(a.path, b.path) })

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
		spliced []string
	)
	sem := make(chan struct{}, writeConcurrency)
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ok, err := r.splice(ctx, tid, j.path, j.lists)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				spliced = append(spliced, j.path)
			}
		})
	}
	wg.Wait()
	slices.Sort(spliced)
	return spliced, errors.Join(errs...)
}

func (r *Renderer) splice(ctx context.Context, tid, path string, lv listsView) (bool, error) {
	body, err := r.out.Get(ctx, tid, path)
	if errors.Is(err, errNotWritten) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	start := bytes.Index(body, listsStart)
	end := bytes.Index(body, listsEnd)
	if start < 0 || end < start {
		return false, nil // an older template's page: the next rebuild renews it
	}
	var buf bytes.Buffer
	buf.Write(body[:start])
	if err := r.pages.lists.ExecuteTemplate(&buf, "lists", lv); err != nil {
		return false, fmt.Errorf("rendering the lists of %s: %w", path, err)
	}
	buf.Write(body[end+len(listsEnd):])
	if err := r.out.Put(ctx, tid, file{path: path, body: buf.Bytes(), ctype: htmlType}); err != nil {
		return false, err
	}
	return true, nil
}

// tenantFiles are the pages that depend on the tenant's configuration
// rather than on one article: home, every category's first page, feeds,
// sitemaps, robots.txt and the 404 page.
func (r *Renderer) tenantFiles(m *model) ([]file, error) {
	var files []file
	f, err := r.htmlFile("index.html", r.pages.home, m.homePage())
	if err != nil {
		return nil, err
	}
	files = append(files, f)
	for _, c := range m.categories() {
		f, err := r.htmlFile(c+"/index.html", r.pages.category, m.categoryIndex(c))
		if err != nil {
			return nil, err
		}
		files = append(files, f, m.rss(c), m.atom(c))
	}
	nf, err := r.htmlFile("404.html", r.pages.notice, m.notFoundPage())
	if err != nil {
		return nil, err
	}
	files = append(files, nf, m.rss(""), m.atom(""), m.robots(), m.sitemapIndex(), m.pagesSitemap(), m.newsSitemap(), m.titles())
	return files, nil
}

// refreshInterval is how often tenant configurations (and the 48-hour news
// window) are compared with the ones the pages were built with.
const refreshInterval = 30 * time.Second

// refreshSites rebuilds the configuration-dependent pages of every tenant
// whose configuration (or news sitemap) differs from the one they were built
// with — every tenant the first time, so /<tenant>/ and its menu's category
// pages work before any article, and a new deploy's templates reach them.
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
	if err := tenant.ValidateID(t.ID); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refreshSiteLocked(ctx, t)
}

// refreshSiteLocked is refreshSite for a caller holding r.mu.
func (r *Renderer) refreshSiteLocked(ctx context.Context, t *tenant.Tenant) error {
	idx, err := r.cache.get(ctx, t.ID)
	if err != nil {
		return err
	}
	m := newModel(site{t: t, siteURL: r.siteURL, viewsURL: r.viewsURL}, idx, r.now())
	var news []string
	for _, a := range m.newsArticles() {
		news = append(news, a.ID)
	}
	fp, err := json.Marshal(struct {
		T    *tenant.Tenant
		News []string
	}{t, news})
	if err != nil {
		return fmt.Errorf("fingerprinting tenant %s: %w", t.ID, err)
	}
	if r.seen[t.ID] == string(fp) {
		return nil
	}
	files, err := r.tenantFiles(m)
	if err != nil {
		return err
	}
	if err := putAll(ctx, r.out, t.ID, files, nil); err != nil {
		return fmt.Errorf("building the pages of %s: %w", t.ID, err)
	}
	if r.invalidate != nil {
		r.invalidate(t.ID, paths(files))
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
