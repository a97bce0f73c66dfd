package legacy

import (
	"fmt"
	"strings"
)

// Category is one of a tenant's categories.
type Category struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Categories maps the section names printed on legacy pages to a tenant's
// category slugs. The rule, in order:
//
//  1. Map: an operator's explicit "page name → slug" (the --category-map
//     flag), compared folded (case, diacritics and đ ignored).
//  2. The tenant's category whose name or slug, folded to a slug, equals
//     the page's name folded to a slug ("Hoạt động đảng bộ khối" and "HOẠT
//     ĐỘNG ĐẢNG BỘ KHỐI" both find hoat-dong-dang-bo-khoi), or, failing that,
//     is the longest one that starts the page's slug or that the page's slug
//     starts (a section name with dates appended).
//  3. Otherwise Default (the --category flag, else the tenant's first
//     category), with a warning naming the page's section.
//
// With no tenant list (Tenant empty, e.g. a dry run without the API), the
// page's name made into a slug is used as it is.
type Categories struct {
	Tenant  []Category
	Map     map[string]string
	Default string
}

// Resolve returns the slug for a page's section name and a warning when it
// had to guess.
func (c Categories) Resolve(pageName string) (string, string) {
	for name, slug := range c.Map {
		if Slug(name) == Slug(pageName) && pageName != "" {
			return slug, ""
		}
	}
	def := c.Default
	if def == "" && len(c.Tenant) > 0 {
		def = c.Tenant[0].Slug
	}
	if pageName == "" {
		if def == "" {
			// The parser already warned that the page names none.
			return "", "none given (--category)"
		}
		return def, ""
	}
	want := Slug(pageName)
	if len(c.Tenant) == 0 {
		return want, ""
	}
	for _, cat := range c.Tenant {
		if Slug(cat.Name) == want || cat.Slug == want {
			return cat.Slug, ""
		}
	}
	best, bestLen := "", 0
	for _, cat := range c.Tenant {
		for _, s := range []string{cat.Slug, Slug(cat.Name)} {
			if len(s) > bestLen && (strings.HasPrefix(want, s+"-") || strings.HasPrefix(s, want+"-")) {
				best, bestLen = cat.Slug, len(s)
			}
		}
	}
	if best != "" {
		return best, ""
	}
	return def, fmt.Sprintf("section %q is not a category of the tenant: filed under %s", pageName, def)
}
