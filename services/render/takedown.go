package main

import (
	"mime"
	"net/url"
	"strconv"
	"strings"
)

// Takedown forms. article.unpublished carries only a free-text reason, and
// the event schema is not changed for this, so the form is chosen by a
// keyword at the start of the reason (case-insensitive):
//
//	"gone: <text>" or "410: <text>"           → 410 Gone, a page saying the article was removed
//	"redirect <target>: <text>"               → 301 to target: a path on the tenant's site
//	                                            ("/hungyen/bai-viet/…" or "bai-viet/…") or an
//	                                            absolute http(s) URL
//	"notice: <text>" or any other reason      → 200 with a notice "Bài viết đã được gỡ bỏ" (noindex)
//
// <text> is shown to readers as the reason (it may be empty). In every form
// the article leaves the render-index, and so every list, feed and sitemap.
//
// S3 stores pages, not statuses, so render says which status site answers
// with in a parameter of the page's Content-Type: "x-status" (410 or 301)
// and "x-location" for a redirect. site strips them before answering.
const (
	formNotice   = "notice"
	formGone     = "gone"
	formRedirect = "redirect"
)

// takedown is a parsed reason.
type takedown struct {
	form   string
	target string // for redirect: a path under the tenant ("bai-viet/…") or an absolute URL
	text   string
}

func parseTakedown(reason string) takedown {
	reason = strings.TrimSpace(reason)
	head, text, ok := strings.Cut(reason, ":")
	if !ok {
		return takedown{form: formNotice, text: reason}
	}
	// "redirect https://x/y: text" — the URL's own ":" comes first, so split on whitespace.
	lower := strings.ToLower(reason)
	if strings.HasPrefix(lower, "redirect ") || strings.HasPrefix(lower, "redirect\t") {
		rest := strings.TrimSpace(reason[len("redirect"):])
		target, text, _ := strings.Cut(rest, " ")
		target = strings.TrimSuffix(target, ":")
		return takedown{form: formRedirect, target: target, text: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), ":"))}
	}
	switch strings.ToLower(strings.TrimSpace(head)) {
	case "gone", "410":
		return takedown{form: formGone, text: strings.TrimSpace(text)}
	case "notice":
		return takedown{form: formNotice, text: strings.TrimSpace(text)}
	}
	return takedown{form: formNotice, text: reason}
}

// redirectTarget resolves a redirect target for site s: a site-relative
// URL ("/hungyen/…") or an absolute http(s) URL, or "" when it is neither.
func (s site) redirectTarget(target string) string {
	if target == "" || strings.ContainsAny(target, " \t\r\n\"<>\\") {
		return ""
	}
	if u, err := url.Parse(target); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return u.String()
	}
	p := strings.TrimPrefix(target, s.home())
	p = strings.TrimPrefix(p, "/")
	if strings.HasPrefix(target, "//") || strings.Contains(p, "..") {
		return ""
	}
	return s.url(p)
}

// statusType is a Content-Type that tells site to answer with status (and
// Location for a redirect).
func statusType(base string, status int, location string) string {
	params := map[string]string{"charset": "utf-8", "x-status": strconv.Itoa(status)}
	if location != "" {
		params["x-location"] = location
	}
	mt, _, _ := strings.Cut(base, ";")
	return mime.FormatMediaType(mt, params)
}

// removedPage replaces an unpublished article (notice and gone forms).
func (m *model) removedPage(title string, td takedown) *page {
	p := m.s.chrome("Bài viết đã được gỡ bỏ – " + m.s.t.Name)
	p.NoIndex = true
	p.Heading = title
	p.Notice = "Bài viết đã được gỡ bỏ."
	p.Reason = td.text
	p.Latest = m.s.items(newest(m.all, 5), false)
	return &p
}

// movedPage stands at an address that now redirects: an article's old slug,
// a redirect takedown, or an archive page that no longer exists. site
// answers 301; the page's refresh serves a plain static host.
func (m *model) movedPage(title, target, reason string) *page {
	p := m.s.chrome(title + " – " + m.s.t.Name)
	p.NoIndex = true
	if strings.HasPrefix(target, "/") {
		p.Canonical = m.s.siteURL + target
	} else {
		p.Canonical = target
	}
	p.Refresh = target
	p.Heading = title
	p.Notice = "Nội dung đã chuyển sang địa chỉ mới."
	p.Reason = reason
	return &p
}
