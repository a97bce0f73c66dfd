package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
)

const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func TestBeaconsAreCounted(t *testing.T) {
	h := newHarness(t)
	const article = "a1b2c3d4e5f6g7h8"
	origin := map[string]string{"Origin": "http://hungyen.localhost:8080"}
	for i := range 2 {
		origin["User-Agent"] = browserUA(int64(1000 + i))
		resp := h.beaconWith("hungyen", article, origin)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("beacon: status %d, want 204", resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://hungyen.localhost:8080" {
			t.Errorf("beacon Access-Control-Allow-Origin = %q, want the page's origin", got)
		}
	}
	// The first reader again, within 30 minutes: not another view.
	origin["User-Agent"] = browserUA(1000)
	if resp := h.beaconWith("hungyen", article, origin); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("repeated beacon: status %d, want 204", resp.StatusCode)
	}
	h.waitDrained(bus.ConsumerViewCounter)
	counts, resp := h.counts("hungyen", article, "neverviewed")
	if counts[article] != 2 || counts["neverviewed"] != 0 || len(counts) != 2 {
		t.Errorf("counts = %v, want %s:2 neverviewed:0", counts, article)
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=5" {
		t.Errorf("Cache-Control = %q", got)
	}
	// Another tenant's counter of the same article id is its own.
	if c, _ := h.counts("namdinh", article); c[article] != 0 {
		t.Errorf("namdinh sees hungyen's views: %v", c)
	}

	// What was stored is a proper event, with opaque readers.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := h.js().Stream(ctx, bus.StreamViews)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stream.GetLastMsgForSubject(ctx, "views.hungyen")
	if err != nil {
		t.Fatal(err)
	}
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(raw.Data, env); err != nil {
		t.Fatal(err)
	}
	views := env.GetViewBatch().GetViews()
	if env.GetType() != bus.TypeView || env.GetTenant() != "hungyen" || env.GetId() == "" || env.GetOccurredAt() == nil || len(views) == 0 {
		t.Fatalf("stored envelope = %v", env)
	}
	if views[0].GetArticleId() != article || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(views[0].GetReader()) {
		t.Errorf("stored view = %v", views[0])
	}
	if strings.Contains(string(raw.Data), "127.0.0.1") {
		t.Error("the stored event contains the client IP")
	}
}

func TestCountsCarryCORSForTheTenantsOwnPagesOnly(t *testing.T) {
	h := newHarness(t)
	get := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, countsURL(h.url, "hungyen", "abc"), nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for origin, want := range map[string]string{
		"http://hungyen.localhost:8080":      "http://hungyen.localhost:8080",
		"https://dangbokhoi.hungyen.example": "https://dangbokhoi.hungyen.example",
		"http://localhost:8080":              "http://localhost:8080",
		"http://namdinh.localhost:8080":      "",
		"https://evil.example":               "",
		"":                                   "",
	} {
		resp := get(origin)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("origin %q: status %d", origin, resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %q: Access-Control-Allow-Origin = %q, want %q", origin, got, want)
		}
		if resp.Header.Get("Vary") != "Origin" {
			t.Errorf("origin %q: no Vary: Origin, so a cache could hand one origin's answer to another", origin)
		}
	}
}

func TestUnsafeAndUnknownTenantsAndArticlesAreRefused(t *testing.T) {
	h := newHarness(t)

	for _, bad := range []string{"a.b", "A", "x>y", "x*", strings.Repeat("a", 33), "a"} {
		if resp := h.beacon(bad, "a1b2c3"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("beacon for tenant %q: status %d, want 400", bad, resp.StatusCode)
		}
		if _, resp := h.counts(bad, "a1b2c3"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("counts for tenant %q: status %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp := h.beacon("thaibinh", "a1b2c3"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("beacon for an unknown tenant: status %d, want 404", resp.StatusCode)
	}
	if _, resp := h.counts("thaibinh", "a1b2c3"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("counts of an unknown tenant: status %d, want 404", resp.StatusCode)
	}
	for _, bad := range []string{"ABC", "a.b", "a_b", strings.Repeat("a", 41), "a>"} {
		if resp := h.beacon("hungyen", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("beacon for article %q: status %d, want 400", bad, resp.StatusCode)
		}
		if _, resp := h.counts("hungyen", "ok", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("counts with id %q: status %d, want 400", bad, resp.StatusCode)
		}
	}
	if _, resp := h.counts("hungyen"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("counts without ids: status %d, want 400", resp.StatusCode)
	}
	tooMany := make([]string, maxIDsPerQuery+1)
	for i := range tooMany {
		tooMany[i] = "a"
	}
	if _, resp := h.counts("hungyen", tooMany...); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("counts with %d ids: status %d, want 400", len(tooMany), resp.StatusCode)
	}
	if c, resp := h.counts("hungyen", tooMany[1:]...); resp.StatusCode != http.StatusOK || c["a"] != 0 {
		t.Errorf("counts with %d ids: status %d, %v", maxIDsPerQuery, resp.StatusCode, c)
	}
	if n := h.viewsStored(); n != 0 {
		t.Errorf("VIEWS stream holds %d messages after refused beacons, want 0", n)
	}
}

// The unit tests below serve the API on loopback with the tenants in memory
// and JetStream replaced by a recorder.

type fakeTenants map[string]*tenant.Tenant

func (f fakeTenants) Get(_ context.Context, id string) (*tenant.Tenant, error) {
	t, ok := f[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", tenant.ErrNotFound, id)
	}
	return t, nil
}

// recorder stands in for JetStream: it decodes what it is given, or fails.
type recorder struct {
	mu   sync.Mutex
	envs []*eventsv1.Envelope
	err  error
}

func (r *recorder) publish(_ context.Context, subject, msgID string, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(data, env); err != nil {
		return err
	}
	if subject != bus.Subject(env.GetType(), env.GetTenant()) || msgID != env.GetId() {
		return fmt.Errorf("subject %s, id %s for %v", subject, msgID, env)
	}
	r.envs = append(r.envs, env)
	return nil
}

func (r *recorder) views() []*eventsv1.View {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*eventsv1.View
	for _, e := range r.envs {
		out = append(out, e.GetViewBatch().GetViews()...)
	}
	return out
}

func testCalendar(t *testing.T) calendar {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	return calendar{loc: loc}
}

// serveTestAPI starts the API with a recorder for JetStream; change adjusts
// it before it serves.
func serveTestAPI(t *testing.T, rec *recorder, change func(*api)) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	bots, err := loadBots("")
	if err != nil {
		t.Fatal(err)
	}
	tenants := fakeTenants{}
	for _, tn := range testTenants {
		tenants[tn.ID] = tn
	}
	b := newBatcher(rec.publish, nil, 2*time.Second, 512, 4)
	log := slog.New(slog.DiscardHandler)
	a := &api{
		tenants: tenants, origins: &originPolicy{site: []string{"http://localhost:8080"}}, clients: &clientIPs{},
		bots: bots, readers: newReaderHasher("s", testCalendar(t)), batcher: b, cal: testCalendar(t), log: log, m: m, now: time.Now,
	}
	if change != nil {
		change(a)
	}
	srv, err := startServer(a, serverOptions{Addr: "127.0.0.1:0", Registry: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = b.Stop(ctx)
	})
	return "http://" + srv.Addr()
}

func mustPost(t *testing.T, base, tenantID, article string, header map[string]string) *http.Response {
	t.Helper()
	resp, err := postBeacon(base, tenantID, article, header)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestBeaconsFromOtherSitesAreRefused(t *testing.T) {
	rec := &recorder{}
	base := serveTestAPI(t, rec, nil)
	for _, c := range []struct {
		header map[string]string
		want   int
	}{
		{map[string]string{"Origin": "http://hungyen.localhost:8080"}, 204},
		{map[string]string{"Origin": "https://DangBoKhoi.HungYen.example"}, 204},
		{map[string]string{"Origin": "http://localhost:8080"}, 204}, // the site, serving /hungyen/
		{map[string]string{"Referer": "http://hungyen.localhost:8080/bai-viet/x-abc.html"}, 204},
		{map[string]string{}, 204}, // not from a page: curl, a server
		{map[string]string{"Origin": "http://namdinh.localhost:8080"}, 403},
		{map[string]string{"Origin": "http://localhost:9999"}, 403},
		{map[string]string{"Origin": "null"}, 403},
		{map[string]string{"Origin": "https://hungyen.localhost.evil.example"}, 403},
		{map[string]string{"Referer": "https://evil.example/hungyen.localhost"}, 403},
	} {
		c.header["User-Agent"] = chromeUA
		before := len(rec.views())
		resp := mustPost(t, base, "hungyen", "abc", c.header)
		if resp.StatusCode != c.want {
			t.Errorf("%v: status %d, want %d", c.header, resp.StatusCode, c.want)
		}
		stored := len(rec.views()) - before
		if (c.want == 204) != (stored == 1) {
			t.Errorf("%v: %d views stored", c.header, stored)
		}
		acao := resp.Header.Get("Access-Control-Allow-Origin")
		if origin := c.header["Origin"]; c.want == 204 && origin != "" && acao != origin {
			t.Errorf("%v: Access-Control-Allow-Origin = %q", c.header, acao)
		}
		if c.want == 403 && acao != "" {
			t.Errorf("%v: a refused origin got Access-Control-Allow-Origin %q", c.header, acao)
		}
	}
}

func TestPreflight(t *testing.T) {
	base := serveTestAPI(t, &recorder{}, nil)
	for _, target := range []string{"/v1/tenants/hungyen/views/abc", "/v1/tenants/hungyen/views?ids=abc"} {
		for origin, want := range map[string]int{"http://hungyen.localhost:8080": 204, "https://evil.example": 403} {
			req, _ := http.NewRequest(http.MethodOptions, base+target, nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("OPTIONS %s from %s: status %d, want %d", target, origin, resp.StatusCode, want)
				continue
			}
			if want != 204 {
				if resp.Header.Get("Access-Control-Allow-Origin") != "" {
					t.Errorf("OPTIONS %s from %s: allowed", target, origin)
				}
				continue
			}
			for k, v := range map[string]string{
				"Access-Control-Allow-Origin":  origin,
				"Access-Control-Allow-Methods": "POST, GET",
				"Access-Control-Allow-Headers": "Content-Type",
			} {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("OPTIONS %s: %s = %q, want %q", target, k, got, v)
				}
			}
		}
	}
}

func TestBotsPrefetchesAndEmptyUserAgentsAreNotCounted(t *testing.T) {
	rec := &recorder{}
	base := serveTestAPI(t, rec, nil)
	notCounted := []map[string]string{
		{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
		{"User-Agent": "Mozilla/5.0 (compatible; coccocbot-web/1.0; +http://help.coccoc.com/searchengine)"},
		{"User-Agent": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"},
		{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"},
		{"User-Agent": "curl/8.5.0"},
		{"User-Agent": "Go-http-client/1.1"},
		{"User-Agent": "python-requests/2.31.0"},
		{"User-Agent": ""},
		{"User-Agent": strings.Repeat("Mozilla/5.0 ", 100)},
		{"User-Agent": chromeUA, "Sec-Purpose": "prefetch;prerender"},
		{"User-Agent": chromeUA, "Sec-Purpose": "prefetch"},
		{"User-Agent": chromeUA, "Purpose": "prefetch"},
		{"User-Agent": chromeUA, "X-Moz": "prefetch"},
	}
	for _, hdr := range notCounted {
		if resp := mustPost(t, base, "hungyen", "abc", hdr); resp.StatusCode != http.StatusNoContent {
			t.Errorf("%v: status %d, want 204 (answered, not counted)", hdr, resp.StatusCode)
		}
	}
	if n := len(rec.views()); n != 0 {
		t.Errorf("%d bot, prefetch or empty user-agent views stored, want 0", n)
	}
	readers := []string{
		chromeUA,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/130.0.0 Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Linux; Android 12; CUBOT KINGKONG 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (Linux; Android 13; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.0.0 Mobile Safari/537.36 Zalo android/12110000 ZaloTheme/light ZaloLanguage/vi",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	}
	for _, ua := range readers {
		if resp := mustPost(t, base, "hungyen", "abc", map[string]string{"User-Agent": ua}); resp.StatusCode != http.StatusNoContent {
			t.Errorf("%s: status %d", ua, resp.StatusCode)
		}
	}
	if n := len(rec.views()); n != len(readers) {
		t.Errorf("%d readers' views stored, want %d", n, len(readers))
	}
}

func TestBeaconsAreLimitedPerIP(t *testing.T) {
	rec := &recorder{}
	var mu sync.Mutex
	clock := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	base := serveTestAPI(t, rec, func(a *api) {
		a.limiter = newIPLimiter(1, 3)
		a.clients = &clientIPs{trusted: []netip.Prefix{mustPrefix(t, "127.0.0.1/32")}}
		a.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	from := func(ip string) int {
		return mustPost(t, base, "hungyen", "abc", map[string]string{"User-Agent": chromeUA, "X-Forwarded-For": "198.51.100.1, " + ip}).StatusCode
	}
	for i := range 3 {
		if code := from("203.0.113.7"); code != 204 {
			t.Fatalf("beacon %d within the burst: %d", i+1, code)
		}
	}
	resp := mustPost(t, base, "hungyen", "abc", map[string]string{"User-Agent": chromeUA, "X-Forwarded-For": "203.0.113.7"})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("beacon over the limit: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if code := from("203.0.113.8"); code != 204 {
		t.Errorf("another address: %d, want 204", code)
	}
	// One IPv6 subscriber's /64 is one client.
	for i := range 3 {
		if code := from(fmt.Sprintf("2001:db8:1:2::%x", i+1)); code != 204 {
			t.Errorf("IPv6 beacon %d: %d", i+1, code)
		}
	}
	if code := from("2001:db8:1:2::ffff"); code != 429 {
		t.Errorf("a 4th beacon from the same /64: %d, want 429", code)
	}
	mu.Lock()
	clock = clock.Add(time.Second)
	mu.Unlock()
	if code := from("203.0.113.7"); code != 204 {
		t.Errorf("a second later: %d, want 204", code)
	}
	if n := len(rec.views()); n != 8 {
		t.Errorf("%d views stored, want 8 (the refused ones are not)", n)
	}
}

func TestBeaconBodyIsCapped(t *testing.T) {
	rec := &recorder{}
	base := serveTestAPI(t, rec, nil)
	post := func(body string) int {
		req, _ := http.NewRequest(http.MethodPost, viewURL(base, "hungyen", "abc"), strings.NewReader(body))
		req.Header.Set("User-Agent", chromeUA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(strings.Repeat("x", maxBeaconBody)); code != http.StatusNoContent {
		t.Errorf("1 KiB body: status %d, want 204", code)
	}
	if code := post(strings.Repeat("x", maxBeaconBody+1)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 KiB + 1 body: status %d, want 413", code)
	}
	if n := len(rec.views()); n != 1 {
		t.Errorf("stored %d views, want 1", n)
	}
}

func TestBeaconAnswers503WhenTheViewIsNotStored(t *testing.T) {
	base := serveTestAPI(t, &recorder{err: errors.New("nats: timeout")}, nil)
	resp := mustPost(t, base, "hungyen", "abc", map[string]string{"User-Agent": chromeUA, "Origin": "http://hungyen.localhost:8080"})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", resp.StatusCode)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://hungyen.localhost:8080" {
		t.Error("a 503 must carry CORS headers so the page can read it")
	}
}

func TestReaderIsADailySaltedHashWithoutTheIP(t *testing.T) {
	cal := testCalendar(t)
	day := time.Date(2026, 11, 23, 10, 0, 0, 0, cal.loc)
	hash := func(h *readerHasher, at time.Time, ip, ua string) string {
		var dst [readerHexLen]byte
		h.saltFor(at).reader(&dst, mustAddr(t, ip), []byte(ua))
		return string(dst[:])
	}
	a, replica, other := newReaderHasher("secret", cal), newReaderHasher("secret", cal), newReaderHasher("another", cal)
	r1 := hash(a, day, "203.0.113.7", "Firefox")
	for name, r := range map[string]string{
		"another replica, same secret":      hash(replica, day, "203.0.113.7", "Firefox"),
		"the same day, later":               hash(a, day.Add(13*time.Hour+59*time.Minute), "203.0.113.7", "Firefox"),
		"the same reader, IPv4-mapped IPv6": hash(a, day, "::ffff:203.0.113.7", "Firefox"),
	} {
		if r != r1 {
			t.Errorf("%s: hashed differently", name)
		}
	}
	for name, r := range map[string]string{
		"another IP":           hash(a, day, "203.0.113.8", "Firefox"),
		"another user agent":   hash(a, day, "203.0.113.7", "Chrome"),
		"another secret":       hash(other, day, "203.0.113.7", "Firefox"),
		"the next day":         hash(a, day.Add(14*time.Hour), "203.0.113.7", "Firefox"),
		"the day before (UTC)": hash(a, day.Add(-11*time.Hour), "203.0.113.7", "Firefox"),
	} {
		if r == r1 {
			t.Errorf("%s: hashed alike", name)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(r1) {
		t.Errorf("reader = %q", r1)
	}
	if s := a.saltFor(day); s.day != "20261123" {
		t.Errorf("salt day %s, want 20261123 (Vietnamese date)", s.day)
	}
}
