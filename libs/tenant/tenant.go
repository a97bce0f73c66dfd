// Package tenant holds what every service knows about a tenant: how its id is
// validated, and its configuration as stored in the "tenants" KV bucket, whose
// single writer is ingest.
package tenant

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
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

// Video is an entry of the "Video" box. Pages load nothing from another
// host, so a video is a link, never an embedded player: URL is a YouTube or
// Facebook https link, or the path of an mp4 on the tenant's own site
// ("/<tenant>/…/x.mp4").
type Video struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Limits of the side boxes' configuration.
const (
	MaxLinks      = 50
	MaxVideos     = 20
	MaxBoxTitle   = 200
	MaxBoxURLSize = 2000
)

// videoHosts are the hosts a video link may point to.
var videoHosts = map[string]bool{
	"youtube.com": true, "www.youtube.com": true, "m.youtube.com": true, "youtu.be": true,
	"facebook.com": true, "www.facebook.com": true, "m.facebook.com": true, "fb.watch": true,
}

// validateVideo checks one video of the "Video" box.
func validateVideo(i int, v Video) error {
	switch {
	case strings.TrimSpace(v.Title) == "":
		return fmt.Errorf("videos[%d].title is required", i)
	case utf8.RuneCountInString(v.Title) > MaxBoxTitle:
		return fmt.Errorf("videos[%d].title must be at most %d characters", i, MaxBoxTitle)
	case len(v.URL) > MaxBoxURLSize:
		return fmt.Errorf("videos[%d].url must be at most %d bytes", i, MaxBoxURLSize)
	}
	u, err := url.Parse(v.URL)
	if err != nil {
		return fmt.Errorf("videos[%d].url: %w", i, err)
	}
	if u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(u.Path, "//") &&
		strings.HasSuffix(strings.ToLower(u.Path), ".mp4") && !strings.Contains(u.Path, "..") {
		return nil
	}
	if u.Scheme != "https" || !videoHosts[strings.ToLower(u.Hostname())] || u.User != nil {
		return fmt.Errorf("videos[%d].url must be an https YouTube or Facebook link or the path of an mp4 on the site", i)
	}
	return nil
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
	// Links fill the "Website liên kết" box.
	Links []Link `json:"links,omitempty"`
	// Videos fill the "Video" box, newest first as the bloc lists them.
	Videos []Video `json:"videos,omitempty"`
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
	if len(t.Links) > MaxLinks {
		return fmt.Errorf("links must have at most %d entries", MaxLinks)
	}
	if len(t.Videos) > MaxVideos {
		return fmt.Errorf("videos must have at most %d entries", MaxVideos)
	}
	for i, v := range t.Videos {
		if err := validateVideo(i, v); err != nil {
			return err
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
