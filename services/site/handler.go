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
	"net/url"
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

// robotsKey marks the platform's own /robots.txt (tenants' hosts get theirs from render).
const robotsKey = "robots.txt"

// maxPathLen bounds request paths; render's longest is well under it.
const maxPathLen = 512

var (
	// segmentPattern is every character render and image-resize use in a path.
	segmentPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	mediaIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// renditionPattern: "<width>.jpg" and the other renditions image-resize
	// may add ("1200-16x9.jpg", "640.webp"); "original" never matches.
	renditionPattern = regexp.MustCompile(`^[1-9][0-9]{0,4}(-16x9|x[1-9][0-9]{0,4})?\.(jpg|png|webp)$`)
)

// Site serves tenants' pages and photo renditions from S3.
type Site struct {
	store   objectStore
	tenants tenantSource
	// cache holds what S3 answered; nil disables it.
	cache *pageCache
	pages *pageTemplates
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
		s.errorPage(w, r, http.StatusMethodNotAllowed, target{home: "/"})
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
	case status == http.StatusOK && t.key == robotsKey:
		w.Header().Set("Cache-Control", cachePage)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "User-agent: *\nAllow: /\n")
	case status == http.StatusOK && t.tenant == "":
		s.tenantList(w, r)
	case status == http.StatusOK:
		s.serveObject(w, r, t)
	default:
		s.errorPage(w, r, status, t)
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
	case p == "/robots.txt":
		t.key = robotsKey
		return t, "", http.StatusOK
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
		if len(segs) != 3 || !mediaIDPattern.MatchString(segs[1]) || !renditionPattern.MatchString(segs[2]) {
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

// fetch reads an object through the cache: fresh entries are served from
// memory; otherwise S3 is asked, and when it cannot answer a stale entry is
// served rather than an error. A nil entry with a nil error means the object
// is too large to cache: body is then the open S3 object, for streaming.
func (s *Site) fetch(r *http.Request, key string) (e *cached, body io.ReadCloser, err error) {
	e, fresh := s.cache.get(key)
	if fresh {
		return e, nil, nil
	}
	// Bound the wait for S3's first answer only; a slow reader may take
	// longer to download a large body.
	ctx, cancel := context.WithCancel(r.Context())
	timer := time.AfterFunc(s.s3Timeout, cancel)
	rc, info, err := s.store.Get(ctx, key)
	timedOut := !timer.Stop()
	if err != nil {
		cancel()
		if errors.Is(err, blob.ErrNotFound) {
			s.cache.put(key, &cached{missing: true})
			return &cached{missing: true}, nil, nil
		}
		if e != nil && r.Context().Err() == nil {
			s.log.Warn("s3 unavailable; serving the cached copy", "key", key, "timed_out", timedOut, "err", err)
			return e, nil, nil
		}
		if r.Context().Err() == nil {
			s.log.Warn("reading from s3", "key", key, "timed_out", timedOut, "err", err)
		}
		return nil, nil, err
	}
	if info.Size > maxCachedObject {
		return nil, closeFunc{rc, cancel}, nil
	}
	b, err := io.ReadAll(io.LimitReader(rc, maxCachedObject+1))
	rc.Close()
	cancel()
	if err != nil {
		if e != nil {
			return e, nil, nil
		}
		return nil, nil, err
	}
	ne := &cached{body: b, info: info}
	if compressible(contentType(info.ContentType, key)) && len(b) > 256 {
		ne.gz = gzipped(b)
	}
	s.cache.put(key, ne)
	return ne, nil, nil
}

// closeFunc closes the object and releases its context.
type closeFunc struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c closeFunc) Close() error { err := c.ReadCloser.Close(); c.cancel(); return err }

func (s *Site) serveObject(w http.ResponseWriter, r *http.Request, t target) {
	e, stream, err := s.fetch(r, t.key)
	switch {
	case err != nil:
		if r.Context().Err() == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, t)
		}
		return
	case stream != nil:
		defer stream.Close()
	case e.missing:
		s.errorPage(w, r, http.StatusNotFound, t)
		return
	}

	var info blob.Info
	if e != nil {
		info = e.info
	} else {
		info = s.streamInfo(r, t.key)
	}
	h := w.Header()
	ctype, status, location := pageStatus(contentType(info.ContentType, t.key))
	if status == http.StatusMovedPermanently {
		h.Set("Cache-Control", cachePage)
		http.Redirect(w, r, location, status)
		return
	}
	compress := compressible(ctype) && (e == nil || e.gz != nil)
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
	if status == http.StatusOK && notModified(r, etag, info.LastModified) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ctype)
	if e != nil {
		body := e.body
		if compress {
			body = e.gz
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
		return
	}
	if !compress {
		h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			if _, err := io.Copy(w, stream); err != nil && r.Context().Err() == nil {
				s.log.Warn("sending object", "key", t.key, "err", err)
			}
		}
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
	if _, err := io.Copy(gz, stream); err != nil {
		if r.Context().Err() == nil {
			s.log.Warn("sending object", "key", t.key, "err", err)
		}
		return
	}
	_ = gz.Close()
}

// streamInfo describes a large object being streamed.
func (s *Site) streamInfo(r *http.Request, key string) blob.Info {
	info, err := s.store.Stat(r.Context(), key)
	if err != nil {
		return blob.Info{}
	}
	return info
}

// pageStatus reads the status render asks for in a page's Content-Type
// (x-status=410, or 301 with x-location; see render's takedown.go) and
// returns the type without those parameters.
func pageStatus(ctype string) (clean string, status int, location string) {
	if !strings.Contains(ctype, "x-status") {
		return ctype, http.StatusOK, ""
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return ctype, http.StatusOK, ""
	}
	status = http.StatusOK
	switch params["x-status"] {
	case "410":
		status = http.StatusGone
	case "301":
		loc := params["x-location"]
		u, err := url.Parse(loc)
		local := strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && err == nil && u.Host == ""
		remote := err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
		if local || remote {
			status, location = http.StatusMovedPermanently, loc
		}
	}
	delete(params, "x-status")
	delete(params, "x-location")
	return mime.FormatMediaType(mt, params), status, location
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
	mt, _, _ := strings.Cut(ctype, ";")
	return strings.HasPrefix(mt, "text/") || strings.HasPrefix(mt, "application/json") ||
		mt == "application/xml" || strings.HasSuffix(mt, "+xml")
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
		s.errorPage(w, r, http.StatusServiceUnavailable, target{home: "/"})
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

func (s *Site) errorPage(w http.ResponseWriter, r *http.Request, status int, t target) {
	cache := cacheNever
	if status == http.StatusNotFound {
		cache = cacheNotFound
		// The tenant's own 404 page (render's 404.html), with its menu and latest articles.
		if t.tenant != "" {
			if e, _, err := s.fetch(r, "site/"+t.tenant+"/404.html"); err == nil && e != nil && !e.missing {
				writeHTML(w, r, status, cache, e.body)
				return
			}
		}
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	body, err := s.pages.errorPage(status, t.home)
	if err != nil {
		s.log.Error("rendering an error page", "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	writeHTML(w, r, status, cache, body)
}
