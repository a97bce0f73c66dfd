// Package tenant holds what every service knows about a tenant: how its id is
// validated, and its configuration as stored in the "tenants" KV bucket, whose
// single writer is ingest.
package tenant

import (
	"errors"
	"fmt"
	"regexp"
)

var idPattern = regexp.MustCompile(`^[a-z0-9-]{2,32}$`)

// ErrInvalidID is returned for a tenant id outside [a-z0-9-]{2,32}.
var ErrInvalidID = errors.New("tenant id must match [a-z0-9-]{2,32}")

// ValidateID refuses anything that is not a safe tenant id. It is called before
// an id reaches a NATS subject (where ".", "*" and ">" are injections), an S3
// key or a path.
func ValidateID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%w: got %q", ErrInvalidID, truncate(id, 40))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Category is one section of a tenant's site.
type Category struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Link is an entry of the "Website liên kết" box.
type Link struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Tenant is one bloc's site configuration.
type Tenant struct {
	ID string `json:"id"`
	// Name is the bloc's name in the site header.
	Name string `json:"name"`
	// Banner is the current greeting shown above the header, may be empty.
	Banner string `json:"banner,omitempty"`
	// Hosts are the host names that serve this tenant at "/" (site).
	Hosts      []string   `json:"hosts,omitempty"`
	Categories []Category `json:"categories"`
	// Blocklist are terms that get an article rejected by moderation: the
	// short form of Moderation.Blocklist entries of severity "reject".
	Blocklist []string `json:"blocklist,omitempty"`
	Links     []Link   `json:"links,omitempty"`
	// Moderation are the moderation rules; nil keeps the defaults.
	Moderation *Moderation `json:"moderation,omitempty"`
}

// Category returns the category with the given slug.
func (t *Tenant) Category(slug string) (Category, bool) {
	for _, c := range t.Categories {
		if c.Slug == slug {
			return c, true
		}
	}
	return Category{}, false
}

var slugPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// Validate checks a configuration before it is stored.
func (t *Tenant) Validate() error {
	if err := ValidateID(t.ID); err != nil {
		return err
	}
	if t.Name == "" {
		return errors.New("name is required")
	}
	if len(t.Categories) == 0 {
		return errors.New("categories: at least one is required")
	}
	for i, c := range t.Categories {
		if !slugPattern.MatchString(c.Slug) {
			return fmt.Errorf("categories[%d].slug must match [a-z0-9-]{1,64}", i)
		}
		if c.Name == "" {
			return fmt.Errorf("categories[%d].name is required", i)
		}
	}
	if len(t.Blocklist) > MaxBlockedTerms {
		return fmt.Errorf("blocklist must have at most %d terms", MaxBlockedTerms)
	}
	if t.Moderation != nil {
		return t.Moderation.validate()
	}
	return nil
}
