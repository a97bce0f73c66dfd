package main

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"slices"

	"github.com/blocpress/blocpress/libs/tenant"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageTemplates are the site's page kinds, each the shared layout plus its own
// "main" (and "script") definitions. html/template escapes every value by
// context, so no editor-supplied text reaches a page as markup.
type pageTemplates struct {
	article, home, category, notice *template.Template
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
	Refresh     string // meta refresh target of a moved page

	Article  *articleView
	Others   []listItem // "Các bài viết khác"
	Heading  string
	Latest   []listItem
	Sections []section
	Notice   string
	Reason   string
}

type link struct{ Name, URL string }

type listItem struct{ Title, URL, Lead, Date, Thumb string }

type section struct {
	Name, URL string
	Items     []listItem
}

type articleView struct {
	ID, Title, Lead       string
	DateLine, DateISO     string
	Category, CategoryURL string
	Blocks                []blockView
	Author                string
	Source                *link
	ViewsPost, ViewsGet   string // view-counter endpoints the page's script calls
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
	t       *tenant.Tenant
	siteURL string // public base, no trailing slash
}

func (s site) home() string                   { return "/" + s.t.ID + "/" }
func (s site) url(path string) string         { return s.home() + path }
func (s site) absolute(path string) string    { return s.siteURL + s.url(path) }
func (s site) categoryURL(slug string) string { return s.home() + slug + "/" }

// categoryName is the name the tenant gives a category; a category that was
// since removed from the tenant's configuration shows its slug.
func (s site) categoryName(slug string) string {
	if c, ok := s.t.Category(slug); ok {
		return c.Name
	}
	return slug
}

func (s site) chrome(title string) page {
	return page{Tenant: s.t, Home: s.home(), Title: title}
}

func (s site) items(list []Summary, withLead bool) []listItem {
	out := make([]listItem, 0, len(list))
	for _, a := range list {
		it := listItem{Title: a.Title, URL: s.url(a.Path), Date: shortDate(a.PublishedAt), Thumb: a.Thumb}
		if withLead {
			it.Lead = a.Lead
		}
		out = append(out, it)
	}
	return out
}

// Numbers of articles in the lists.
const (
	homeLatest      = 10
	homePerCategory = 5
	categoryLatest  = 50
	otherArticles   = 5
)

// homePage lists the latest articles, then a block per category.
func (s site) homePage(idx tenantIndex) *page {
	p := s.chrome(s.t.Name)
	p.Description = s.t.Name
	p.Canonical = s.absolute("")
	p.Latest = s.items(idx.latest(homeLatest, nil), true)
	for _, c := range s.t.Categories {
		list := idx.latest(homePerCategory, func(a Summary) bool { return a.Category == c.Slug })
		if len(list) == 0 {
			continue
		}
		p.Sections = append(p.Sections, section{Name: c.Name, URL: s.categoryURL(c.Slug), Items: s.items(list, false)})
	}
	return &p
}

// categoryPage lists a category's latest articles with photos and dates.
func (s site) categoryPage(idx tenantIndex, slug string) *page {
	name := s.categoryName(slug)
	p := s.chrome(name + " – " + s.t.Name)
	p.Description = name + " – " + s.t.Name
	p.Canonical = s.absolute(slug + "/")
	p.Section = slug
	p.Crumbs = []link{{Name: name, URL: s.categoryURL(slug)}}
	p.Heading = name
	p.Latest = s.items(idx.latest(categoryLatest, func(a Summary) bool { return a.Category == slug }), true)
	return &p
}

// articlePage is one article with the other latest articles of its category.
func (s site) articlePage(a *articleView, path string, lead string, idx tenantIndex, category string) *page {
	p := s.chrome(a.Title + " – " + s.t.Name)
	p.Description = lead
	p.Canonical = s.absolute(path)
	p.Section = category
	p.Crumbs = []link{{Name: a.Category, URL: a.CategoryURL}}
	p.Article = a
	others := idx.latest(otherArticles, func(o Summary) bool { return o.Category == category && o.ID != a.ID })
	p.Others = s.items(others, false)
	return &p
}

// removedPage replaces an unpublished article.
func (s site) removedPage(title, reason string) *page {
	p := s.chrome("Bài viết đã được gỡ bỏ – " + s.t.Name)
	p.NoIndex = true
	p.Heading = title
	p.Notice = "Bài viết đã được gỡ bỏ."
	p.Reason = reason
	return &p
}

// movedPage stands at an article's old address after its title (and so its
// slug) changed; static storage cannot answer 301, so it refreshes to the new one.
func (s site) movedPage(title, newPath string) *page {
	p := s.chrome(title + " – " + s.t.Name)
	p.NoIndex = true
	p.Canonical = s.absolute(newPath)
	p.Refresh = s.url(newPath)
	p.Heading = title
	p.Notice = "Bài viết đã chuyển sang địa chỉ mới."
	return &p
}

// listCategories are the categories whose pages a tenant's site has: its
// configured ones and any that still hold articles.
func listCategories(t *tenant.Tenant, idx tenantIndex) []string {
	var out []string
	for _, c := range t.Categories {
		out = append(out, c.Slug)
	}
	for _, c := range idx.categories() {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
