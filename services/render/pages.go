package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/blocpress/blocpress/libs/tenant"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageTemplates are the site's page kinds, each the shared layout plus its own
// "main" definition. html/template escapes every value by context, so no
// editor-supplied text reaches a page as markup.
type pageTemplates struct {
	article, home, category, notice *template.Template
	// lists is the "Tin liên quan" / "Các bài viết khác" block alone, spliced
	// into a neighbouring article's page when a publish changes it.
	lists *template.Template
}

func parseTemplates() (*pageTemplates, error) {
	parse := func(files ...string) (*template.Template, error) {
		paths := []string{"templates/layout.html", "templates/list.html"}
		for _, f := range files {
			paths = append(paths, "templates/"+f)
		}
		t, err := template.New("layout").Option("missingkey=error").ParseFS(templateFS, paths...)
		if err != nil {
			return nil, fmt.Errorf("parsing templates %v: %w", files, err)
		}
		return t, nil
	}
	var pt pageTemplates
	var err error
	if pt.article, err = parse("article.html"); err != nil {
		return nil, err
	}
	if pt.home, err = parse("home.html"); err != nil {
		return nil, err
	}
	if pt.category, err = parse("category.html"); err != nil {
		return nil, err
	}
	if pt.notice, err = parse("notice.html"); err != nil {
		return nil, err
	}
	pt.lists = pt.article
	return &pt, nil
}

// page is what the layout and every page kind read; each kind fills its part.
type page struct {
	Tenant      *tenant.Tenant
	Home        string // "/<tenant>/"
	Title       string // of the browser tab
	Description string
	Canonical   string
	Section     string // category slug highlighted in the menu, "" for home
	Crumbs      []link // after "Trang chủ"
	NoIndex     bool
	Base        string // <base href> of a preview shown away from the site
	Refresh     string // meta refresh target of a moved page
	OG          *openGraph
	JSONLD      template.JS
	Feeds       []link // rel=alternate feeds
	Aside       aside

	Article  *articleView
	Lists    listsView
	Heading  string
	Intro    string
	Latest   []listItem
	Sections []section
	Pager    *pager
	Notice   string
	Reason   string
}

type link struct{ Name, URL string }

type listItem struct{ Title, URL, Lead, Date, Thumb string }

type section struct {
	Name, URL string
	Items     []listItem
}

// listsView is the block under an article.
type listsView struct {
	Related, Others []listItem
}

// aside is the side column: "Đọc nhiều", "Ảnh", "Video", "Website
// liên kết". Pages are static, so the first two are rendered with the
// latest articles as they were when the page was written (the no-JS
// fallback), and a small same-page script brings them up to date: the
// most-read list from view-counter (ids) joined with titles.json, which
// render rewrites with every publish (the newest titlesItems articles:
// id, title, URL, thumbnail); on article pages, which are not rewritten
// when another article is published, the photo box comes from titles.json
// too. An article too old to be in titles.json is left out of the
// most-read box; the script asks view-counter for more than it shows.
type aside struct {
	MostRead    []listItem // fallback: the latest articles
	MostReadURL string     // view-counter's most-read list for the script
	TitlesURL   string     // /<tenant>/titles.json
	Photos      []listItem // "Ảnh": latest articles with a photo
	LivePhotos  bool       // the script refreshes Photos (article pages)
	Videos      []tenant.Video
	Links       []tenant.Link
}

type pager struct {
	Newer, Older string
	Pages        []pageLink
}

type pageLink struct {
	N       int
	URL     string
	Current bool
	Gap     bool
}

type openGraph struct {
	Type, Title, Description, URL, SiteName string
	Image                                   string
	ImageWidth, ImageHeight                 int32
	Published, Modified, Section            string
}

type articleView struct {
	ID, Title, Lead       string
	DateLine, DateISO     string
	Category, CategoryURL string
	Blocks                []blockView
	Author, AuthorURL     string
	Source                *link
	Tags                  []link // "Từ khóa", each to its tag page
	ViewsPost, ViewsGet   string // view-counter endpoints the page's script calls
	Preview               bool   // an editor's preview: no view is counted
}

// blockView is a paragraph (Text) or a photo (Figure).
type blockView struct {
	Text   string
	Figure *figureView
}

type figureView struct {
	Src, Srcset     string
	Width, Height   int32
	Caption, Credit string
	Lazy            bool
}

func execute(t *template.Template, p *page) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", p.Title, err)
	}
	return buf.Bytes(), nil
}

// site is one tenant's site as render builds it: where its pages link to.
type site struct {
	t        *tenant.Tenant
	siteURL  string // public base, no trailing slash
	viewsURL string // view-counter's public base, no trailing slash
}

func (s site) home() string                   { return "/" + s.t.ID + "/" }
func (s site) url(path string) string         { return s.home() + path }
func (s site) absolute(path string) string    { return s.siteURL + s.url(path) }
func (s site) categoryURL(slug string) string { return s.home() + slug + "/" }
func (s site) authorPath(author string) string {
	return "tac-gia/" + slugify(author) + "/"
}

// categoryName is the name the tenant gives a category; a category that was
// since removed from the tenant's configuration shows its slug.
func (s site) categoryName(slug string) string {
	if c, ok := s.t.Category(slug); ok {
		return c.Name
	}
	return slug
}

func (s site) chrome(title string) page {
	return page{Tenant: s.t, Home: s.home(), Title: title, Aside: aside{Links: s.t.Links, Videos: s.t.Videos},
		Feeds: []link{{Name: s.t.Name + " (RSS)", URL: s.url("rss.xml")}}}
}

func (s site) items(list []Summary, withLead bool) []listItem {
	out := make([]listItem, 0, len(list))
	for _, a := range list {
		it := listItem{Title: a.Title, URL: s.url(a.Path), Date: shortDate(a.PublishedAt), Thumb: a.Thumb}
		if withLead {
			it.Lead = truncateText(a.Lead, listLead)
		}
		out = append(out, it)
	}
	return out
}

// Numbers of articles in the lists.
const (
	homeLatest      = 10
	homePerCategory = 5
	perPage         = 20
	authorLatest    = 50
	feedItems       = 20
	relatedItems    = 5
	otherItems      = 5
	asidePhotos     = 4
	mostReadItems   = 5
	// titlesItems is how many of the newest articles titles.json holds.
	titlesItems = 300
	// listLead is how much of a lead a list shows, in characters.
	listLead = 240
)

// model is a tenant's published articles arranged the ways its pages list them.
type model struct {
	s       site
	all     []Summary            // oldest first
	cats    map[string][]Summary // oldest first
	authors map[string][]Summary // by author slug, oldest first
	tags    map[string][]Summary // by tag slug, oldest first
	// tagSlugs memoises slugify of every tag; read-only once built, as
	// pages are rendered concurrently.
	tagSlugs map[string]string
	now      time.Time
}

func newModel(s site, idx tenantIndex, now time.Time) *model {
	m := &model{s: s, all: idx.ascending(), cats: map[string][]Summary{}, authors: map[string][]Summary{},
		tags: map[string][]Summary{}, tagSlugs: map[string]string{}, now: now}
	// A tenant has few authors: slugify each name once, not per article
	// (this runs over the whole tenant once per publish).
	authorSlugs := map[string]string{}
	for _, a := range m.all {
		m.cats[a.Category] = append(m.cats[a.Category], a)
		if a.Author != "" {
			slug, ok := authorSlugs[a.Author]
			if !ok {
				slug = slugify(a.Author)
				authorSlugs[a.Author] = slug
			}
			m.authors[slug] = append(m.authors[slug], a)
		}
		for _, t := range a.Tags {
			slug, ok := m.tagSlugs[t]
			if !ok {
				slug = slugify(t)
				m.tagSlugs[t] = slug
			}
			m.tags[slug] = append(m.tags[slug], a)
		}
	}
	return m
}

// with is the model of m's index with old (nil: none) replaced by cur (nil:
// none), as newModel would build it, without going over the whole tenant
// again: a publish needs both models. old must be in m. The lists cur and
// old are not in are shared with m, and so is tagSlugs (tagSlug slugifies
// tags it lacks); neither model is changed afterwards.
func (m *model) with(old, cur *Summary) *model {
	n := *m
	n.all = replaced(m.all, old, cur)
	n.cats = replacedIn(m.cats, func(a *Summary) []string { return []string{a.Category} }, old, cur)
	n.authors = replacedIn(m.authors, func(a *Summary) []string {
		if a.Author == "" {
			return nil
		}
		return []string{slugify(a.Author)}
	}, old, cur)
	n.tags = replacedIn(m.tags, func(a *Summary) []string {
		slugs := make([]string, 0, len(a.Tags))
		for _, t := range a.Tags {
			slugs = append(slugs, m.tagSlug(t))
		}
		return slugs
	}, old, cur)
	return &n
}

// replaced is a copy of list (oldest first) without old and with cur.
func replaced(list []Summary, old, cur *Summary) []Summary {
	out := slices.Clone(list)
	if old != nil {
		if i, ok := position(out, *old); ok {
			out = slices.Delete(out, i, i+1)
		}
	}
	if cur != nil {
		i, _ := position(out, *cur)
		out = slices.Insert(out, i, *cur)
	}
	return out
}

// replacedIn is lists (by key, oldest first) without old and with cur under
// the keys keys gives for each, once per key as newModel adds them; a list
// left empty goes.
func replacedIn(lists map[string][]Summary, keys func(*Summary) []string, old, cur *Summary) map[string][]Summary {
	out := maps.Clone(lists)
	if old != nil {
		for _, k := range keys(old) {
			if l := replaced(out[k], old, nil); len(l) > 0 {
				out[k] = l
			} else {
				delete(out, k)
			}
		}
	}
	if cur != nil {
		for _, k := range keys(cur) {
			out[k] = replaced(out[k], nil, cur)
		}
	}
	return out
}

// newest returns up to n of list, newest first.
func newest(list []Summary, n int) []Summary {
	out := make([]Summary, 0, min(n, len(list)))
	for i := len(list) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, list[i])
	}
	return out
}

// position is where a lies in list (oldest first), or where it would be.
func position(list []Summary, a Summary) (int, bool) {
	return slices.BinarySearchFunc(list, a, before)
}

// categories are the categories whose pages a tenant's site has: its
// configured ones and any that still hold articles.
func (m *model) categories() []string {
	var out []string
	for _, c := range m.s.t.Categories {
		out = append(out, c.Slug)
	}
	var extra []string
	for c := range m.cats {
		if !slices.Contains(out, c) {
			extra = append(extra, c)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// boxes fills the side column's article boxes of p.
func (m *model) boxes(p *page) {
	p.Aside.Photos = m.photos()
	p.Aside.MostRead = m.s.items(newest(m.all, mostReadItems), false)
	if len(p.Aside.MostRead) > 0 {
		p.Aside.MostReadURL = fmt.Sprintf("%s/v1/tenants/%s/views/most-read?period=week&limit=%d", m.s.viewsURL, m.s.t.ID, 4*mostReadItems)
		p.Aside.TitlesURL = m.s.url(titlesPath)
	}
}

func (m *model) photos() []listItem {
	var out []Summary
	for i := len(m.all) - 1; i >= 0 && len(out) < asidePhotos; i-- {
		if m.all[i].Thumb != "" {
			out = append(out, m.all[i])
		}
	}
	return m.s.items(out, false)
}

// homePage lists the latest articles, then a block per category.
func (m *model) homePage() *page {
	s := m.s
	p := s.chrome(s.t.Name)
	p.Description = "Trang thông tin điện tử " + s.t.Name
	if s.t.Banner != "" {
		p.Description += " – " + s.t.Banner
	}
	p.Canonical = s.absolute("")
	p.OG = &openGraph{Type: "website", Title: s.t.Name, Description: p.Description, URL: p.Canonical, SiteName: s.t.Name}
	p.Latest = s.items(newest(m.all, homeLatest), true)
	for _, c := range s.t.Categories {
		list := newest(m.cats[c.Slug], homePerCategory)
		if len(list) == 0 {
			continue
		}
		p.Sections = append(p.Sections, section{Name: c.Name, URL: s.categoryURL(c.Slug), Items: s.items(list, false)})
	}
	m.boxes(&p)
	p.JSONLD = jsonLD(map[string]any{
		"@context": "https://schema.org", "@type": "WebSite", "name": s.t.Name, "url": p.Canonical, "inLanguage": "vi",
	})
	return &p
}

// pageCount is how many archive pages a category of n articles has (at least one).
func pageCount(n int) int { return max(1, (n+perPage-1)/perPage) }

// pageOf is the archive page holding the article at position i (oldest first).
func pageOf(i int) int { return i/perPage + 1 }

func archivePath(slug string, n int) string { return slug + "/trang-" + strconv.Itoa(n) + ".html" }

// categoryIndex is a category's first page: its newest articles, and links
// to every archive page. Archive pages are numbered from the oldest article,
// so publishing a new one rewrites only the last of them.
func (m *model) categoryIndex(slug string) *page {
	list := m.cats[slug]
	p := m.categoryChrome(slug, m.s.absolute(slug+"/"))
	p.Latest = m.s.items(newest(list, perPage), true)
	if total := pageCount(len(list)); total > 1 || len(list) > perPage {
		pg := &pager{Older: m.s.url(archivePath(slug, total-1))}
		if len(list) <= perPage {
			pg.Older = ""
		}
		pg.Pages = pageLinks(m.s, slug, total, 0)
		p.Pager = pg
	}
	m.boxes(p)
	return p
}

func (m *model) categoryChrome(slug, canonical string) *page {
	s := m.s
	name := s.categoryName(slug)
	p := s.chrome(name + " – " + s.t.Name)
	p.Description = name + " – tin bài của " + s.t.Name
	p.Canonical = canonical
	p.Section = slug
	p.Crumbs = []link{{Name: name, URL: s.categoryURL(slug)}}
	p.Heading = name
	p.Feeds = append(p.Feeds, link{Name: name + " (RSS)", URL: s.url(slug + "/rss.xml")})
	p.OG = &openGraph{Type: "website", Title: name, Description: p.Description, URL: canonical, SiteName: s.t.Name}
	return &p
}

// archivePage is page n of a category, its articles newest first.
func (m *model) archivePage(slug string, n int) *page {
	list := m.cats[slug]
	total := pageCount(len(list))
	p := m.categoryChrome(slug, m.s.absolute(archivePath(slug, n)))
	p.Title = fmt.Sprintf("%s – Trang %d – %s", m.s.categoryName(slug), n, m.s.t.Name)
	p.Heading = fmt.Sprintf("%s – trang %d", m.s.categoryName(slug), n)
	lo, hi := (n-1)*perPage, min(n*perPage, len(list))
	if lo < hi {
		p.Latest = m.s.items(newest(list[lo:hi], perPage), true)
	}
	pg := &pager{Newer: m.s.categoryURL(slug)}
	if n < total {
		pg.Newer = m.s.url(archivePath(slug, n+1))
	}
	if n > 1 {
		pg.Older = m.s.url(archivePath(slug, n-1))
	}
	p.Pager = pg
	return p
}

// pageLinks lists archive pages newest first, the first and last few and
// those around the current one.
func pageLinks(s site, slug string, total, current int) []pageLink {
	var out []pageLink
	gap := false
	for n := total; n >= 1; n-- {
		if n > total-5 || n <= 2 || (current > 0 && n >= current-2 && n <= current+2) {
			out = append(out, pageLink{N: n, URL: s.url(archivePath(slug, n)), Current: n == current})
			gap = false
		} else if !gap {
			out = append(out, pageLink{Gap: true})
			gap = true
		}
	}
	return out
}

// authorPage lists an author's latest articles.
func (m *model) authorPage(slug string) *page {
	s := m.s
	list := m.authors[slug]
	name := slug
	if len(list) > 0 {
		name = list[len(list)-1].Author
	}
	p := s.chrome("Tác giả " + name + " – " + s.t.Name)
	p.Description = "Các bài viết của tác giả " + name + " trên " + s.t.Name
	p.Canonical = s.absolute("tac-gia/" + slug + "/")
	p.Crumbs = []link{{Name: "Tác giả " + name, URL: s.url("tac-gia/" + slug + "/")}}
	p.Heading = "Tác giả: " + name
	p.Intro = fmt.Sprintf("%d bài viết", len(list))
	p.Latest = s.items(newest(list, authorLatest), true)
	p.OG = &openGraph{Type: "profile", Title: name, Description: p.Description, URL: p.Canonical, SiteName: s.t.Name}
	p.JSONLD = jsonLD(map[string]any{"@context": "https://schema.org", "@type": "Person", "name": name, "url": p.Canonical})
	m.boxes(&p)
	return &p
}

// articlePage is one article with its lists.
func (m *model) articlePage(a *articleView, sum Summary, og *openGraph) *page {
	s := m.s
	p := s.chrome(a.Title + " – " + s.t.Name)
	p.Description = truncateText(firstNonEmpty(a.Lead, a.Title), 300)
	p.Canonical = s.absolute(sum.Path)
	p.Section = sum.Category
	p.Crumbs = []link{{Name: a.Category, URL: a.CategoryURL}}
	p.Article = a
	p.Lists = m.lists(sum)
	m.boxes(&p)
	p.Aside.LivePhotos = true
	og.Type, og.Title, og.Description, og.URL, og.SiteName = "article", a.Title, p.Description, p.Canonical, s.t.Name
	og.Published, og.Section = a.DateISO, a.Category
	og.Modified = sum.updated().In(vietnam).Format(time.RFC3339)
	p.OG = og
	ld := map[string]any{
		"@context": "https://schema.org", "@type": "NewsArticle",
		"headline": truncateText(a.Title, 110), "description": p.Description,
		"datePublished": a.DateISO, "dateModified": og.Modified,
		"mainEntityOfPage": p.Canonical, "inLanguage": "vi", "articleSection": a.Category,
		"publisher": map[string]any{"@type": "Organization", "name": s.t.Name, "url": s.absolute("")},
	}
	if og.Image != "" {
		ld["image"] = []string{og.Image}
	}
	if a.Author != "" {
		ld["author"] = []map[string]any{{"@type": "Person", "name": a.Author, "url": s.siteURL + a.AuthorURL}}
	} else {
		ld["author"] = []map[string]any{{"@type": "Organization", "name": s.t.Name}}
	}
	p.JSONLD = jsonLD(ld)
	p.Feeds = append(p.Feeds, link{Name: a.Category + " (RSS)", URL: s.url(sum.Category + "/rss.xml")})
	return &p
}

// notFoundPage is the tenant's 404 page, served by site.
func (m *model) notFoundPage() *page {
	p := m.s.chrome("Không tìm thấy trang – " + m.s.t.Name)
	p.NoIndex = true
	p.Heading = "Không tìm thấy trang"
	p.Notice = "Trang bạn tìm không tồn tại hoặc đã được chuyển đi."
	p.Latest = m.s.items(newest(m.all, 5), false)
	return &p
}

// jsonLD encodes v for a <script type="application/ld+json">; encoding/json
// escapes <, > and & so the text cannot end the script element.
func jsonLD(v any) template.JS {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return template.JS(b) //nolint:gosec // JSON with <, >, & escaped
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// truncateText cuts s to at most n runes at a word boundary, adding "…".
func truncateText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := n - 1
	for i := cut; i > n/2; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	return string(r[:cut]) + "…"
}
