package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

const (
	// maxBeaconBody: a beacon carries nothing we read, but sendBeacon always
	// sends a body (text/plain); anything larger is not a beacon.
	maxBeaconBody = 1 << 10
	// publishTimeout bounds the wait for JetStream's ack, retries included;
	// a reader's page must not hang on a NATS outage.
	publishTimeout = 2 * time.Second
	countsTimeout  = 2 * time.Second
	maxIDsPerQuery = 100
	// readerHashLen hex characters (128 bits) keep readers apart without
	// keeping more of the hash than needed.
	readerHashLen = 32
)

// publisher is what the beacon endpoint needs of the bus.
type publisher interface {
	Publish(ctx context.Context, env *eventsv1.Envelope) error
}

// countReader is what the counts endpoint needs of Redis.
type countReader interface {
	MGet(ctx context.Context, keys ...string) *redis.SliceCmd
}

// beaconAPI serves the public, unauthenticated endpoints that readers' pages
// call.
type beaconAPI struct {
	pub    publisher
	counts countReader
	salt   string
	log    *slog.Logger
	m      *metrics
}

func (a *beaconAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tenants/{tenant}/views/{article}", a.postView)
	mux.HandleFunc("GET /v1/tenants/{tenant}/views", a.getCounts)
	mux.HandleFunc("OPTIONS /v1/tenants/{tenant}/views/{article}", preflight)
	mux.HandleFunc("OPTIONS /v1/tenants/{tenant}/views", preflight)
	return allowAnyOrigin(mux)
}

// allowAnyOrigin lets every site's pages call us, since a tenant's site may
// be served from any of its hosts. Restricting the origin to the hosts of the
// tenant in the path (libs/tenant.Tenant.Hosts) is a later issue; until then
// the endpoints are as public as the pages themselves.
func allowAnyOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		next.ServeHTTP(w, r)
	})
}

func preflight(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, GET")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// postView records one view: 204 once JetStream has stored it, 503 if it
// could not be stored in time.
func (a *beaconAPI) postView(w http.ResponseWriter, r *http.Request) {
	tenantID, article := r.PathValue("tenant"), r.PathValue("article")
	if !validTenant(w, tenantID) || !validArticle(w, "article", article) {
		a.m.beacons.WithLabelValues("invalid").Inc()
		return
	}
	if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxBeaconBody)); err != nil {
		a.m.beacons.WithLabelValues("invalid").Inc()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpx.Error(w, http.StatusRequestEntityTooLarge, "a beacon body is at most 1 KiB",
				httpx.FieldError{Field: "body", Message: "too large", Limit: maxBeaconBody})
			return
		}
		httpx.Error(w, http.StatusBadRequest, "reading the request body failed")
		return
	}
	env := &eventsv1.Envelope{
		Id:            randomID(),
		Type:          bus.TypeView,
		Tenant:        tenantID,
		CorrelationId: article,
		Payload:       &eventsv1.Envelope_View{View: &eventsv1.View{ArticleId: article, Reader: a.reader(r)}},
	}
	// Not cancelled with the request: a page being closed may drop its
	// connection, and its view should still be recorded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), publishTimeout)
	defer cancel()
	if err := a.pub.Publish(ctx, env); err != nil {
		a.m.beacons.WithLabelValues("unavailable").Inc()
		a.log.Warn("view not stored", "tenant", tenantID, "article", article, "err", err)
		w.Header().Set("Retry-After", "5")
		httpx.Error(w, http.StatusServiceUnavailable, "the view could not be recorded, try again later")
		return
	}
	a.m.beacons.WithLabelValues("accepted").Inc()
	w.WriteHeader(http.StatusNoContent)
}

// getCounts answers ?ids=a,b,c with {"counts":{"a":2,"b":0,"c":0}}.
func (a *beaconAPI) getCounts(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("tenant")
	if !validTenant(w, tenantID) {
		return
	}
	raw := r.URL.Query().Get("ids")
	if raw == "" {
		httpx.Error(w, http.StatusBadRequest, "ids is required",
			httpx.FieldError{Field: "ids", Message: "comma-separated article ids", Limit: maxIDsPerQuery})
		return
	}
	ids := strings.Split(raw, ",")
	if len(ids) > maxIDsPerQuery {
		httpx.Error(w, http.StatusBadRequest, "too many ids",
			httpx.FieldError{Field: "ids", Message: "at most " + strconv.Itoa(maxIDsPerQuery) + " ids", Limit: maxIDsPerQuery})
		return
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		if !validArticle(w, "ids", id) {
			return
		}
		keys[i] = countKey(tenantID, id)
	}
	ctx, cancel := context.WithTimeout(r.Context(), countsTimeout)
	defer cancel()
	vals, err := a.counts.MGet(ctx, keys...).Result()
	if err != nil {
		a.log.Warn("reading counts", "tenant", tenantID, "err", err)
		w.Header().Set("Retry-After", "5")
		httpx.Error(w, http.StatusServiceUnavailable, "counts are unavailable, try again later")
		return
	}
	counts := make(map[string]int64, len(ids))
	for i, v := range vals {
		var n int64
		if s, ok := v.(string); ok {
			if n, err = strconv.ParseInt(s, 10, 64); err != nil {
				a.log.Error("counter is not a number", "key", keys[i], "value", truncate(s, 40))
				httpx.Error(w, http.StatusInternalServerError, "a counter is corrupt")
				return
			}
		}
		counts[ids[i]] = n
	}
	w.Header().Set("Cache-Control", "public, max-age=5")
	httpx.JSON(w, http.StatusOK, map[string]any{"counts": counts})
}

// reader is an opaque, salted hash of the client: readers can be told apart
// without the IP being kept. The IP is the peer address; behind a proxy it is
// the proxy's, until trusted X-Forwarded-For handling is added.
func (a *beaconAPI) reader(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	h := sha256.New()
	for _, part := range []string{a.salt, ip, r.UserAgent()} {
		h.Write([]byte(part))
		h.Write([]byte{0}) // separator: ("ab","c") and ("a","bc") differ
	}
	return hex.EncodeToString(h.Sum(nil))[:readerHashLen]
}

func validTenant(w http.ResponseWriter, id string) bool {
	if err := tenant.ValidateID(id); err != nil {
		httpx.Error(w, http.StatusBadRequest, "invalid tenant id",
			httpx.FieldError{Field: "tenant", Message: "must match [a-z0-9-]{2,32}", Limit: 32})
		return false
	}
	return true
}

func validArticle(w http.ResponseWriter, field, id string) bool {
	if !articleIDPattern.MatchString(id) {
		httpx.Error(w, http.StatusBadRequest, "invalid article id",
			httpx.FieldError{Field: field, Message: "article ids match [a-z0-9]{1,40}", Limit: 40})
		return false
	}
	return true
}

// randomID is a beacon's message id: every beacon is a distinct view, so
// only a retried publish of the same beacon may be deduplicated.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}
