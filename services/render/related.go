package main

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// "Tin liên quan" is a scored choice among a bounded pool of older
// articles, so that it stays cheap to compute and a publish changes only
// the lists of a bounded set of pages:
//
//   - pool: the relatedPool nearest older articles of the same category, and
//     for each of the article's tags the tagPool nearest older articles
//     with that tag (any category);
//   - score: 3 per shared tag + 1 for the same category + recency, which is
//     1 for the same day and falls to ½ at 30 days apart (1/(1+days/30));
//   - the relatedItems best, ties to the newer one.
//
// So a shared tag outweighs category and age (an older article of another
// category about the same subject beats yesterday's unrelated news), and
// for untagged articles the list is the nearest older ones of the category,
// as before tags existed. Only older articles are related: a new article
// never rewrites older pages' "Tin liên quan", only their "Các bài viết
// khác" (the newer ones of the category), which spliceNeighbours updates.
// An article changes the lists of the articles up to categoryReach away in
// its category and tagPool after it in each of its tags' lists; those are
// the candidates spliceNeighbours re-evaluates.
const (
	relatedPool = 20
	tagPool     = 10
	// categoryReach covers the related pool (older) and "Các bài viết
	// khác" (otherItems newer, and older ones not already related).
	categoryReach = max(relatedPool, relatedItems+otherItems)
	// Tag limits, as ingest's: 20 tags of at most 60 characters.
	maxTags   = 20
	maxTagLen = 60
)

// cleanTags trims tags, drops those without a letter or digit, keeps one
// per slug (the first spelling) and at most maxTags of at most maxTagLen
// characters.
func cleanTags(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.Join(strings.Fields(norm.NFC.String(t)), " ")
		if utf8.RuneCountInString(t) > maxTagLen {
			t = string([]rune(t)[:maxTagLen])
		}
		if !strings.ContainsFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue
		}
		slug := slugify(t)
		if seen[slug] {
			continue
		}
		seen[slug] = true
		out = append(out, t)
		if len(out) == maxTags {
			break
		}
	}
	return out
}

// tagPath is the page listing a tag's articles.
func tagPath(tag string) string { return "tag/" + slugify(tag) + "/" }

// lists are the two lists under an article: "Tin liên quan" (see above) and
// "Các bài viết khác", the next newer articles of its category, filled with
// older ones not already related.
func (m *model) lists(a Summary) listsView {
	list := m.cats[a.Category]
	i, ok := position(list, a)
	if !ok {
		return listsView{}
	}
	related := m.related(a, list, i)
	taken := map[string]bool{a.ID: true}
	for _, r := range related {
		taken[r.ID] = true
	}
	var others []Summary
	for j := min(len(list)-1, i+otherItems); j > i; j-- {
		others = append(others, list[j])
	}
	for j := i - 1; j >= 0 && len(others) < otherItems; j-- {
		if !taken[list[j].ID] {
			others = append(others, list[j])
		}
	}
	return listsView{Related: m.s.items(related, false), Others: m.s.items(others, false)}
}

// related chooses "Tin liên quan" for a, at position i of its category list.
func (m *model) related(a Summary, list []Summary, i int) []Summary {
	pool := map[string]Summary{}
	for j := i - 1; j >= max(0, i-relatedPool); j-- {
		pool[list[j].ID] = list[j]
	}
	aTags := make(map[string]bool, len(a.Tags))
	for _, t := range a.Tags {
		slug := m.tagSlug(t)
		aTags[slug] = true
		tl := m.tags[slug]
		k, _ := position(tl, a)
		for j := k - 1; j >= max(0, k-tagPool); j-- {
			pool[tl[j].ID] = tl[j]
		}
	}
	if len(pool) == 0 {
		return nil
	}
	type scored struct {
		s     Summary
		score float64
	}
	cands := make([]scored, 0, len(pool))
	for _, c := range pool {
		score := 0.0
		if len(aTags) > 0 {
			for _, t := range c.Tags {
				if aTags[m.tagSlug(t)] {
					score += 3
				}
			}
		}
		if c.Category == a.Category {
			score++
		}
		days := max(0, a.PublishedAt.Sub(c.PublishedAt).Hours()/24)
		score += 1 / (1 + days/30)
		cands = append(cands, scored{c, score})
	}
	slices.SortFunc(cands, func(x, y scored) int {
		if c := cmp.Compare(y.score, x.score); c != 0 {
			return c
		}
		return before(y.s, x.s) // newer first
	})
	out := make([]Summary, 0, relatedItems)
	for _, c := range cands[:min(len(cands), relatedItems)] {
		out = append(out, c.s)
	}
	return out
}

// tagSlug is slugify(t), memoised for the model's tags.
func (m *model) tagSlug(t string) string {
	if slug, ok := m.tagSlugs[t]; ok {
		return slug
	}
	return slugify(t)
}

// tagPage lists a tag's latest articles.
func (m *model) tagPage(slug string) *page {
	s := m.s
	list := m.tags[slug]
	name := slug
	if len(list) > 0 {
		latest := list[len(list)-1]
		for _, t := range latest.Tags {
			if slugify(t) == slug {
				name = t
			}
		}
	}
	p := s.chrome("Từ khóa " + name + " – " + s.t.Name)
	p.Description = "Các bài viết về " + name + " trên " + s.t.Name
	p.Canonical = s.absolute("tag/" + slug + "/")
	p.Crumbs = []link{{Name: "Từ khóa " + name, URL: s.url("tag/" + slug + "/")}}
	p.Heading = "Từ khóa: " + name
	p.Intro = strconv.Itoa(len(list)) + " bài viết"
	p.Latest = s.items(newest(list, authorLatest), true)
	p.OG = &openGraph{Type: "website", Title: name, Description: p.Description, URL: p.Canonical, SiteName: s.t.Name}
	m.boxes(&p)
	return &p
}

// titlesPath is the JSON the side column's script reads (see aside).
const titlesPath = "titles.json"

// titles is titles.json: the newest titlesItems articles, newest first,
// each [id, title, URL, thumbnail URL or ""] — arrays keep it small.
func (m *model) titles() file {
	list := newest(m.all, titlesItems)
	rows := make([][4]string, 0, len(list))
	for _, a := range list {
		rows = append(rows, [4]string{a.ID, a.Title, m.s.url(a.Path), a.Thumb})
	}
	b, err := json.Marshal(map[string]any{"articles": rows})
	if err != nil { // cannot happen with strings
		b = []byte(`{"articles":[]}`)
	}
	return file{path: titlesPath, body: b, ctype: jsonType}
}
