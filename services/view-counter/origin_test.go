package main

import (
	"net"
	"net/netip"
	"testing"

	"github.com/blocpress/blocpress/libs/tenant"
)

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := parsePrefixes([]string{s})
	if err != nil {
		t.Fatal(err)
	}
	return p[0]
}

func TestOriginPolicy(t *testing.T) {
	site, err := parseOrigins([]string{"http://localhost:8080", "https://Tin.Example.VN/"})
	if err != nil {
		t.Fatal(err)
	}
	p := &originPolicy{site: site}
	tn := &tenant.Tenant{ID: "hungyen", Hosts: []string{"hungyen.localhost", "dangbokhoi.hungyen.example."}}
	for origin, want := range map[string]bool{
		"http://localhost:8080":               true,
		"HTTP://LOCALHOST:8080":               true,
		"https://tin.example.vn":              true,
		"http://localhost:8081":               false,
		"http://hungyen.localhost":            true,
		"http://hungyen.localhost:8080":       true,
		"https://dangbokhoi.hungyen.example":  true,
		"https://dangbokhoi.hungyen.example.": true,
		"https://hungyen.localhost.evil.io":   false,
		"https://evilhungyen.localhost":       false,
		"http://user@hungyen.localhost":       false,
		"http://hungyen.localhost/path":       false,
		"ftp://hungyen.localhost":             false,
		"null":                                false,
		"":                                    false,
	} {
		if got := p.allowed(tn, []byte(origin)); got != want {
			t.Errorf("allowed(%q) = %v, want %v", origin, got, want)
		}
	}
	for ref, want := range map[string]string{
		"http://hungyen.localhost:8080/bai-viet/x.html?a=1": "http://hungyen.localhost:8080",
		"https://a.example":   "https://a.example",
		"https://a.example?x": "https://a.example",
		"garbage":             "",
	} {
		if got := string(refererOrigin([]byte(ref))); got != want {
			t.Errorf("refererOrigin(%q) = %q, want %q", ref, got, want)
		}
	}
	if _, err := parseOrigins([]string{"localhost:8080"}); err == nil {
		t.Error("an origin without a scheme was accepted")
	}
}

func TestClientIPBehindTrustedProxies(t *testing.T) {
	c := &clientIPs{trusted: []netip.Prefix{mustPrefix(t, "10.0.0.0/8"), mustPrefix(t, "127.0.0.1")}}
	for _, tc := range []struct{ peer, xff, want string }{
		{"203.0.113.9", "198.51.100.1", "203.0.113.9"},             // not a proxy: its header is a lie
		{"10.1.2.3", "", "10.1.2.3"},                               // a proxy without the header
		{"10.1.2.3", "198.51.100.1", "198.51.100.1"},               // the client
		{"10.1.2.3", "6.6.6.6, 198.51.100.1", "198.51.100.1"},      // a forged left part is ignored
		{"10.1.2.3", "198.51.100.1, 10.9.9.9", "198.51.100.1"},     // two proxies
		{"127.0.0.1", " 2001:db8::1 ", "2001:db8::1"},              // IPv6, spaces
		{"10.1.2.3", "not-an-ip, 10.9.9.9", "10.9.9.9"},            // malformed: stop at the last good hop
		{"::ffff:10.1.2.3", "::ffff:198.51.100.1", "198.51.100.1"}, // mapped addresses
	} {
		got := c.resolve(net.ParseIP(tc.peer), []byte(tc.xff))
		if got != mustAddr(t, tc.want) {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	if got := (&clientIPs{}).resolve(net.ParseIP("10.1.2.3"), []byte("198.51.100.1")); got != mustAddr(t, "10.1.2.3") {
		t.Errorf("without trusted proxies the header was believed: %s", got)
	}
}
