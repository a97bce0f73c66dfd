package main

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/tenant"
)

// objectStore is the part of blob.Store the site reads with.
type objectStore interface {
	Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error)
	Stat(ctx context.Context, key string) (blob.Info, error)
}

// tenantSource is the part of tenant.Store the site reads with.
type tenantSource interface {
	Get(ctx context.Context, id string) (*tenant.Tenant, error)
	All(ctx context.Context) ([]*tenant.Tenant, error)
}

// Cache lifetimes. A rendition's key is derived from the photo's content and
// width, so it never changes; pages change when articles are published.
const (
	cacheRendition = "public, max-age=31536000, immutable"
	cachePage      = "public, max-age=60"
	cacheNotFound  = "public, max-age=10"
	cacheNever     = "no-store"
)

// maxPathLen bounds request paths; render's longest is well under it.
const maxPathLen = 512

var (
	// segmentPattern is every character render and image-resize use in a path.
	segmentPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	mediaIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	widthPattern   = regexp.MustCompile(`^[1-9][0-9]{0,4}\.jpg$`)
)

// Site serves tenants' pages and photo renditions from S3.
type Site struct {
	store   objectStore
	tenants tenantSource
	pages   *pageTemplates
	// s3Timeout bounds the wait for S3's first answer.
	s3Timeout time.Duration
	log       *slog.Logger
}

// target is what a request path resolved to.
type target struct {
	tenant string
	key    string // S3 key
	media  bool   // a rendition (immutable) rather than a page
	home   string // the tenant's home as this request addresses it, for error pages
}

func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.errorPage(w, r, http.StatusMethodNotAllowed, "/")
		return
	}
	t, redirect, status := s.resolve(r)
	switch {
	case redirect != "":
		if r.URL.RawQuery != "" {
			redirect += "?" + r.URL.RawQuery
		}
		w.Header().Set("Cache-Control", cachePage)
		http.Redirect(w, r, redirect, http.StatusMovedPermanently)
	case status == http.StatusOK && t.tenant == "":
		s.tenantList(w, r)
	case status == http.StatusOK:
		s.serveObject(w, r, t)
	default:
		s.errorPage(w, r, status, t.home)
	}
}

// resolve maps a request to an S3 key, a redirect, or an error status. Every
// check happens here, before any S3 call: a path that is not one the site
// publishes never reaches storage.
func (s *Site) resolve(r *http.Request) (t target, redirect string, status int) {
	t.home = "/"
	p := r.URL.Path
	// RawPath is set only when the escaped form is not the default one, e.g.
	// an encoded "/" (%2F) that would otherwise pass as one segment.
	if r.URL.RawPath != "" || strings.ContainsAny(p, "\\\x00") || !strings.HasPrefix(p, "/") {
		return t, "", http.StatusBadRequest
	}
	if len(p) > maxPathLen {
		return t, "", http.StatusNotFound
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		bad := seg == "." || seg == ".." ||
			(seg == "" && i < len(segs)-1) || // "//" inside the path
			(seg != "" && !segmentPattern.MatchString(seg)) // nothing the site publishes
		if bad {
			return t, "", http.StatusBadRequest
		}
	}

	hostTenant := s.hostTenant(r.Context(), r.Host)
	switch {
	case hostTenant != "":
		t.tenant, t.home = hostTenant, "/"
		if segs[0] == hostTenant { // links render writes carry the prefix; they work here too
			if len(segs) == 1 {
				return t, "/" + hostTenant + "/", 0
			}
			segs = segs[1:]
		}
	case p == "/":
		return t, "", http.StatusOK // the list of tenants
	default:
		if err := tenant.ValidateID(segs[0]); err != nil {
			return t, "", http.StatusBadRequest
		}
		if _, err := s.tenants.Get(r.Context(), segs[0]); err != nil {
			if errors.Is(err, tenant.ErrNotFound) {
				return t, "", http.StatusNotFound
			}
			return t, "", http.StatusServiceUnavailable
		}
		t.tenant, t.home = segs[0], "/"+segs[0]+"/"
		if len(segs) == 1 {
			return t, t.home, 0
		}
		segs = segs[1:]
	}

	if segs[0] == "media" {
		// Only renditions: media/<id>/original and anything else stays private.
		if len(segs) != 3 || !mediaIDPattern.MatchString(segs[1]) || !widthPattern.MatchString(segs[2]) {
			return t, "", http.StatusNotFound
		}
		t.key, t.media = "media/"+t.tenant+"/"+segs[1]+"/"+segs[2], true
		return t, "", http.StatusOK
	}
	last := segs[len(segs)-1]
	switch {
	case last == "":
		segs[len(segs)-1] = "index.html"
	case !strings.Contains(last, "."): // a category without its trailing slash
		return t, p + "/", 0
	}
	t.key = "site/" + t.tenant + "/" + strings.Join(segs, "/")
	return t, "", http.StatusOK
}

// hostTenant is the tenant that lists the request's host name, or "".
func (s *Site) hostTenant(ctx context.Context, hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return ""
	}
	all, err := s.tenants.All(ctx)
	if err != nil {
		return ""
	}
	for _, t := range all {
		for _, h := range t.Hosts {
			if strings.EqualFold(strings.TrimSuffix(h, "."), host) {
				return t.ID
			}
		}
	}
	return ""
}

func (s *Site) serveObject(w http.ResponseWriter, r *http.Request, t target) {
	// Bound the wait for S3's first answer only; a slow reader may take
	// longer to download the body.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	timer := time.AfterFunc(s.s3Timeout, cancel)
	var (
		body io.ReadCloser
		info blob.Info
		err  error
	)
	if r.Method == http.MethodHead {
		info, err = s.store.Stat(ctx, t.key)
	} else {
		body, info, err = s.store.Get(ctx, t.key)
	}
	timedOut := !timer.Stop()
	if err != nil {
		switch {
		case errors.Is(err, blob.ErrNotFound):
			s.errorPage(w, r, http.StatusNotFound, t.home)
		case r.Context().Err() != nil: // the reader left
		default:
			s.log.Warn("reading from s3", "key", t.key, "timed_out", timedOut, "err", err)
			s.errorPage(w, r, http.StatusServiceUnavailable, t.home)
		}
		return
	}
	if body != nil {
		defer body.Close()
	}

	h := w.Header()
	ctype := contentType(info.ContentType, t.key)
	compress := compressible(ctype)
	etag := `"` + strings.Trim(info.ETag, `"`) + `"`
	if compress {
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			etag = "W/" + etag // the gzipped bytes differ; only weakly the same entity
		} else {
			compress = false
		}
	}
	if t.media {
		h.Set("Cache-Control", cacheRendition)
	} else {
		h.Set("Cache-Control", cachePage)
	}
	h.Set("ETag", etag)
	if !info.LastModified.IsZero() {
		h.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	}
	if notModified(r, etag, info.LastModified) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ctype)
	if !compress {
		h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
		w.WriteHeader(http.StatusOK)
		if body != nil {
			if _, err := io.Copy(w, body); err != nil && r.Context().Err() == nil {
				s.log.Warn("sending object", "key", t.key, "err", err)
			}
		}
		return
	}
	h.Set("Content-Encoding", "gzip")
	w.WriteHeader(http.StatusOK)
	if body == nil { // HEAD
		return
	}
	gz := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(gz)
	gz.Reset(w)
	if _, err := io.Copy(gz, body); err != nil {
		if r.Context().Err() == nil {
			s.log.Warn("sending object", "key", t.key, "err", err)
		}
		return
	}
	_ = gz.Close()
}

// notModified applies If-None-Match, else If-Modified-Since (RFC 9110 §13.2.2).
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		want := strings.TrimPrefix(etag, "W/")
		for c := range strings.SplitSeq(inm, ",") {
			c = strings.TrimSpace(c)
			if c == "*" || strings.TrimPrefix(c, "W/") == want {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !modified.IsZero() {
		t, err := http.ParseTime(ims)
		return err == nil && !modified.Truncate(time.Second).After(t)
	}
	return false
}

// contentType is the object's type, or one from its extension when the
// object was stored without a useful one.
func contentType(stored, key string) string {
	if stored != "" && stored != "application/octet-stream" && stored != "binary/octet-stream" {
		return stored
	}
	switch ext := path.Ext(key); ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".jpg":
		return "image/jpeg"
	default:
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/json") ||
		strings.HasPrefix(ctype, "application/xml") || strings.HasPrefix(ctype, "image/svg+xml")
}

// acceptsGzip reads Accept-Encoding (RFC 9110 §12.5.3): gzip, or "*", with
// a non-zero weight; "gzip;q=0" refuses it even when "*" is accepted.
func acceptsGzip(r *http.Request) bool {
	gzipQ, anyQ := -1.0, -1.0
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				if k, v, ok := strings.Cut(param, "="); ok && strings.TrimSpace(k) == "q" {
					f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil {
						f = 0
					}
					q = f
				}
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "gzip", "x-gzip":
				gzipQ = max(gzipQ, q)
			case "*":
				anyQ = max(anyQ, q)
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return anyQ > 0
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// writeHTML sends a page the site makes itself, gzipped when the reader accepts it.
func writeHTML(w http.ResponseWriter, r *http.Request, status int, cache string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", cache)
	h.Set("Vary", "Accept-Encoding")
	if !acceptsGzip(r) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	h.Set("Content-Encoding", "gzip")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	gz := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(gz)
	gz.Reset(w)
	_, _ = gz.Write(body)
	_ = gz.Close()
}

func (s *Site) tenantList(w http.ResponseWriter, r *http.Request) {
	all, err := s.tenants.All(r.Context())
	if err != nil {
		s.log.Warn("listing tenants", "err", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "/")
		return
	}
	slices.SortFunc(all, func(a, b *tenant.Tenant) int { return strings.Compare(a.Name, b.Name) })
	body, err := s.pages.tenantList(all)
	if err != nil {
		s.log.Error("rendering the tenant list", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeHTML(w, r, http.StatusOK, cachePage, body)
}

func (s *Site) errorPage(w http.ResponseWriter, r *http.Request, status int, home string) {
	cache := cacheNever
	if status == http.StatusNotFound {
		cache = cacheNotFound
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	body, err := s.pages.errorPage(status, home)
	if err != nil {
		s.log.Error("rendering an error page", "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	writeHTML(w, r, status, cache, body)
}
