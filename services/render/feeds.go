package main

import (
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Feeds (RSS 2.0 and Atom, per tenant and per category), sitemaps and
// robots.txt. encoding/xml escapes every value.

type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title       string    `xml:"title"`
	Link        string    `xml:"link"`
	Self        atomLink  `xml:"atom:link"`
	Description string    `xml:"description"`
	Language    string    `xml:"language"`
	LastBuild   string    `xml:"lastBuildDate,omitempty"`
	Items       []rssItem `xml:"item"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	Description string  `xml:"description,omitempty"`
	Category    string  `xml:"category,omitempty"`
	Author      string  `xml:"dc:creator,omitempty"`
	PubDate     string  `xml:"pubDate"`
}

type rssGUID struct {
	Value     string `xml:",chardata"`
	Permalink bool   `xml:"isPermaLink,attr"`
}

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title     string      `xml:"title"`
	ID        string      `xml:"id"`
	Link      atomLink    `xml:"link"`
	Published string      `xml:"published"`
	Updated   string      `xml:"updated"`
	Summary   string      `xml:"summary,omitempty"`
	Author    *atomAuthor `xml:"author,omitempty"`
	Category  *struct {
		Term  string `xml:"term,attr"`
		Label string `xml:"label,attr"`
	} `xml:"category,omitempty"`
}

func marshalXML(v any) []byte {
	b, err := xml.MarshalIndent(v, "", " ")
	if err != nil { // only for unsupported types, which these are not
		return nil
	}
	return append([]byte(xml.Header), append(b, '\n')...)
}

// feedScope is the tenant ("" category) or one category.
func (m *model) feedScope(cat string) (title, home string, list []Summary) {
	if cat == "" {
		return m.s.t.Name, m.s.absolute(""), m.all
	}
	return m.s.categoryName(cat) + " – " + m.s.t.Name, m.s.absolute(cat + "/"), m.cats[cat]
}

func feedPrefix(cat string) string {
	if cat == "" {
		return ""
	}
	return cat + "/"
}

// rss is the RSS 2.0 feed of the tenant or of one category.
func (m *model) rss(cat string) file {
	title, home, list := m.feedScope(cat)
	items := newest(list, feedItems)
	ch := rssChannel{Title: title, Link: home, Description: "Tin bài mới của " + title, Language: "vi",
		Self: atomLink{Href: m.s.absolute(feedPrefix(cat) + "rss.xml"), Rel: "self", Type: "application/rss+xml"}}
	if len(items) > 0 {
		ch.LastBuild = items[0].updated().UTC().Format(time.RFC1123Z)
	}
	for _, a := range items {
		u := m.s.absolute(a.Path)
		ch.Items = append(ch.Items, rssItem{Title: a.Title, Link: u, GUID: rssGUID{Value: u, Permalink: true},
			Description: a.Lead, Category: m.s.categoryName(a.Category), Author: a.Author,
			PubDate: a.PublishedAt.UTC().Format(time.RFC1123Z)})
	}
	doc := rssDoc{Version: "2.0", Atom: "http://www.w3.org/2005/Atom", Channel: ch}
	b := marshalXML(doc)
	// dc:creator needs its namespace; encoding/xml cannot declare a prefix on
	// the root besides by attribute, which is what this does.
	b = []byte(strings.Replace(string(b), `<rss version="2.0"`, `<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"`, 1))
	return file{path: feedPrefix(cat) + "rss.xml", body: b, ctype: rssType}
}

// atom is the Atom feed of the tenant or of one category.
func (m *model) atom(cat string) file {
	title, home, list := m.feedScope(cat)
	items := newest(list, feedItems)
	f := atomFeed{Lang: "vi", Title: title, ID: home, Author: atomAuthor{Name: m.s.t.Name},
		Updated: time.Unix(0, 0).UTC().Format(time.RFC3339),
		Links: []atomLink{{Href: home, Rel: "alternate", Type: "text/html"},
			{Href: m.s.absolute(feedPrefix(cat) + "atom.xml"), Rel: "self", Type: "application/atom+xml"}}}
	for _, a := range items {
		if up := a.updated().UTC().Format(time.RFC3339); up > f.Updated {
			f.Updated = up
		}
		u := m.s.absolute(a.Path)
		e := atomEntry{Title: a.Title, ID: u, Link: atomLink{Href: u, Rel: "alternate", Type: "text/html"},
			Published: a.PublishedAt.UTC().Format(time.RFC3339), Updated: a.updated().UTC().Format(time.RFC3339),
			Summary: a.Lead}
		if a.Author != "" {
			e.Author = &atomAuthor{Name: a.Author}
		}
		e.Category = &struct {
			Term  string `xml:"term,attr"`
			Label string `xml:"label,attr"`
		}{a.Category, m.s.categoryName(a.Category)}
		f.Entries = append(f.Entries, e)
	}
	return file{path: feedPrefix(cat) + "atom.xml", body: marshalXML(f), ctype: atomType}
}

type urlSet struct {
	XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	News    string       `xml:"xmlns:news,attr,omitempty"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string    `xml:"loc"`
	LastMod string    `xml:"lastmod,omitempty"`
	News    *newsItem `xml:"news:news,omitempty"`
}

type newsItem struct {
	Publication struct {
		Name     string `xml:"news:name"`
		Language string `xml:"news:language"`
	} `xml:"news:publication"`
	Date  string `xml:"news:publication_date"`
	Title string `xml:"news:title"`
}

type sitemapIndex struct {
	XMLName  xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
	Sitemaps []sitemapURL `xml:"sitemap"`
}

// month is the sitemap an article is listed in, by its month in Vietnam.
func month(t time.Time) string { return t.In(vietnam).Format("2006-01") }

func monthSitemapPath(mo string) string { return "sitemap-" + mo + ".xml" }

// sitemapIndex lists the pages sitemap and one sitemap per month, so that a
// publish rewrites the index and one month only.
func (m *model) sitemapIndex() file {
	lastmods := map[string]time.Time{}
	var months []string
	for _, a := range m.all {
		mo := month(a.PublishedAt)
		if _, ok := lastmods[mo]; !ok {
			months = append(months, mo)
		}
		if u := a.updated(); u.After(lastmods[mo]) {
			lastmods[mo] = u
		}
	}
	idx := sitemapIndex{Sitemaps: []sitemapURL{{Loc: m.s.absolute("sitemap-pages.xml")}}}
	if len(m.all) > 0 {
		idx.Sitemaps[0].LastMod = m.all[len(m.all)-1].updated().UTC().Format(time.RFC3339)
	}
	slices.Sort(months)
	for _, mo := range slices.Backward(months) {
		idx.Sitemaps = append(idx.Sitemaps, sitemapURL{Loc: m.s.absolute(monthSitemapPath(mo)),
			LastMod: lastmods[mo].UTC().Format(time.RFC3339)})
	}
	return file{path: "sitemap.xml", body: marshalXML(idx), ctype: xmlType}
}

// monthSitemap lists the articles published in one month.
func (m *model) monthSitemap(mo string) file {
	set := urlSet{URLs: []sitemapURL{}}
	for _, a := range m.all {
		if month(a.PublishedAt) == mo {
			set.URLs = append(set.URLs, sitemapURL{Loc: m.s.absolute(a.Path), LastMod: a.updated().UTC().Format(time.RFC3339)})
		}
	}
	return file{path: monthSitemapPath(mo), body: marshalXML(set), ctype: xmlType}
}

// pagesSitemap lists the home, category and author pages.
func (m *model) pagesSitemap() file {
	set := urlSet{URLs: []sitemapURL{{Loc: m.s.absolute("")}}}
	for _, c := range m.categories() {
		set.URLs = append(set.URLs, sitemapURL{Loc: m.s.absolute(c + "/")})
	}
	authors := make([]string, 0, len(m.authors))
	for a := range m.authors {
		authors = append(authors, a)
	}
	slices.Sort(authors)
	for _, a := range authors {
		set.URLs = append(set.URLs, sitemapURL{Loc: m.s.absolute("tac-gia/" + a + "/")})
	}
	return file{path: "sitemap-pages.xml", body: marshalXML(set), ctype: xmlType}
}

// newsWindow is how far back the Google News sitemap reaches.
const newsWindow = 48 * time.Hour

// newsArticles are the articles published in the last 48 hours, newest first.
func (m *model) newsArticles() []Summary {
	var out []Summary
	for i := len(m.all) - 1; i >= 0 && len(out) < 1000; i-- {
		a := m.all[i]
		if m.now.Sub(a.PublishedAt) > newsWindow {
			break
		}
		if a.PublishedAt.After(m.now.Add(time.Hour)) {
			continue // dated in the future: not news yet
		}
		out = append(out, a)
	}
	return out
}

// newsSitemap is the Google News sitemap.
func (m *model) newsSitemap() file {
	set := urlSet{News: "http://www.google.com/schemas/sitemap-news/0.9", URLs: []sitemapURL{}}
	for _, a := range m.newsArticles() {
		n := &newsItem{Date: a.PublishedAt.In(vietnam).Format(time.RFC3339), Title: a.Title}
		n.Publication.Name, n.Publication.Language = m.s.t.Name, "vi"
		set.URLs = append(set.URLs, sitemapURL{Loc: m.s.absolute(a.Path), News: n})
	}
	return file{path: "sitemap-news.xml", body: marshalXML(set), ctype: xmlType}
}

// robots lets every crawler in and names the sitemaps. site serves it at
// /robots.txt on the tenant's own hosts.
func (m *model) robots() file {
	body := fmt.Sprintf("User-agent: *\nAllow: /\n\nSitemap: %s\nSitemap: %s\n",
		m.s.absolute("sitemap.xml"), m.s.absolute("sitemap-news.xml"))
	return file{path: "robots.txt", body: []byte(body), ctype: textType}
}
