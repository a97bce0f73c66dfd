package editor

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// articleForm is the write/edit form as the editor typed it: kept as text
// so a form sent back with errors shows exactly what was typed.
type articleForm struct {
	ID           string
	BaseRevision int64
	Category     string
	Title        string
	Lead         string
	Body         string // paragraphs separated by blank lines
	Author       string
	SourceName   string
	SourceURL    string
	Tags         string // comma-separated
	ScheduledAt  string // datetime-local, in the newsroom's zone
	Photos       []photoField
	// Draft is whether the article is still a draft (a new one is).
	Draft bool
}

// photoField is one photo of the form: its media id, its caption and
// credit, and after which paragraph it stands (0: before the first).
type photoField struct {
	Media   string
	Caption string
	Credit  string
	After   int
}

var (
	blankLine   = regexp.MustCompile(`\n[ \t]*\n`)
	mediaIDForm = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func clean(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }

// formFromRequest reads a parsed POST form.
func formFromRequest(r *http.Request) articleForm {
	v := r.PostForm
	f := articleForm{
		ID:          v.Get("id"),
		Category:    strings.TrimSpace(v.Get("category")),
		Title:       norm.NFC.String(v.Get("title")),
		Lead:        norm.NFC.String(v.Get("lead")),
		Body:        norm.NFC.String(strings.ReplaceAll(v.Get("body"), "\r\n", "\n")),
		Author:      norm.NFC.String(v.Get("author")),
		SourceName:  norm.NFC.String(v.Get("source_name")),
		SourceURL:   strings.TrimSpace(v.Get("source_url")),
		Tags:        norm.NFC.String(v.Get("tags")),
		ScheduledAt: strings.TrimSpace(v.Get("scheduled_at")),
		Draft:       v.Get("draft") == "1",
	}
	f.BaseRevision, _ = strconv.ParseInt(v.Get("base_revision"), 10, 64)
	media, captions, credits, after := v["photo_media"], v["photo_caption"], v["photo_credit"], v["photo_after"]
	for i, m := range media {
		m = strings.TrimSpace(m)
		if !mediaIDForm.MatchString(m) || v.Get("photo_remove_"+m) == "1" {
			continue
		}
		p := photoField{Media: m, After: 1}
		if i < len(captions) {
			p.Caption = norm.NFC.String(captions[i])
		}
		if i < len(credits) {
			p.Credit = norm.NFC.String(credits[i])
		}
		if i < len(after) {
			if n, err := strconv.Atoi(strings.TrimSpace(after[i])); err == nil && n >= 0 {
				p.After = n
			}
		}
		f.Photos = append(f.Photos, p)
	}
	return f
}

// paragraphs splits the body on blank lines; the line breaks inside a
// paragraph are the textarea's wrapping, not the author's.
func (f *articleForm) paragraphs() []string {
	var out []string
	for _, p := range blankLine.Split(strings.TrimSpace(f.Body), -1) {
		p = strings.Join(strings.Fields(p), " ")
		if p != "" {
			out = append(out, clean(p))
		}
	}
	return out
}

func (f *articleForm) tags() []string {
	var out []string
	for _, t := range strings.Split(f.Tags, ",") {
		if t = clean(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// blockOrigin says which form field a body block came from, so an API
// error on "body[3].caption" is shown next to the right photo.
type blockOrigin struct {
	field string // "body" or "photo<i>"
}

// document builds the API's article body; origins[i] is where body[i] came from.
func (f *articleForm) document(zone string) (articleDocument, []blockOrigin) {
	doc := articleDocument{
		Category: f.Category, Title: clean(f.Title), Lead: clean(f.Lead), Author: clean(f.Author),
		Tags: f.tags(), BaseRevision: f.BaseRevision,
	}
	if name, u := clean(f.SourceName), strings.TrimSpace(f.SourceURL); name != "" || u != "" {
		doc.Source = &source{Name: name, URL: u}
	}
	if f.ScheduledAt != "" {
		doc.ScheduledAt, doc.TimeZone = f.ScheduledAt, zone
	}
	paras := f.paragraphs()
	var origins []blockOrigin
	addPhotos := func(after int, last bool) {
		for i, p := range f.Photos {
			if p.After == after || (last && p.After > after) {
				doc.Body = append(doc.Body, block{Type: "image", Media: p.Media, Caption: clean(p.Caption), Credit: clean(p.Credit)})
				origins = append(origins, blockOrigin{field: "photo" + strconv.Itoa(i)})
			}
		}
	}
	addPhotos(0, len(paras) == 0)
	for i, p := range paras {
		doc.Body = append(doc.Body, block{Type: "paragraph", Text: p})
		origins = append(origins, blockOrigin{field: "body"})
		addPhotos(i+1, i == len(paras)-1)
	}
	return doc, origins
}

// formFromDocument fills the form from an article's current revision.
func formFromDocument(id string, rev int64, doc *articleDocument, draft bool) articleForm {
	f := articleForm{ID: id, BaseRevision: rev, Draft: draft}
	if doc == nil {
		return f
	}
	f.Category, f.Title, f.Lead, f.Author = doc.Category, doc.Title, doc.Lead, doc.Author
	if doc.Source != nil {
		f.SourceName, f.SourceURL = doc.Source.Name, doc.Source.URL
	}
	f.Tags = strings.Join(doc.Tags, ", ")
	f.ScheduledAt = doc.ScheduledAt
	var paras []string
	for _, b := range doc.Body {
		switch b.Type {
		case "paragraph":
			paras = append(paras, b.Text)
		case "image":
			f.Photos = append(f.Photos, photoField{Media: b.Media, Caption: b.Caption, Credit: b.Credit, After: len(paras)})
		}
	}
	f.Body = strings.Join(paras, "\n\n")
	return f
}

// fieldOf maps an API field name ("body[3].caption", "source.url") to the
// form field that holds it.
func fieldOf(apiField string, origins []blockOrigin) string {
	switch {
	case apiField == "source.name" || apiField == "source":
		return "source_name"
	case apiField == "source.url":
		return "source_url"
	case strings.HasPrefix(apiField, "tags"):
		return "tags"
	case strings.HasPrefix(apiField, "scheduled_at") || apiField == "time_zone":
		return "scheduled_at"
	case strings.HasPrefix(apiField, "body["):
		end := strings.IndexByte(apiField, ']')
		if n, err := strconv.Atoi(apiField[len("body["):max(end, len("body["))]); err == nil && n >= 0 && n < len(origins) {
			return origins[n].field
		}
		return "body"
	}
	return apiField
}
