package main

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"unsafe"

	"github.com/blocpress/blocpress/libs/tenant"
)

// originPolicy decides which pages may send beacons for a tenant, and read
// its counts from a script: the tenant's own hosts (libs/tenant.Tenant.Hosts,
// any scheme and port, as site serves them) and the public site's origins,
// which serve every tenant under a path prefix.
//
// A browser always sends Origin with a POST (sendBeacon or fetch), so a
// beacon from another site's page is refused. A request without Origin (nor
// Referer) is not from a page — curl, a server, a test — and is accepted like
// any other client: the bot list and the per-IP limit apply to it, and an
// Origin header is as easy to forge as it is to leave out.
type originPolicy struct {
	site []string // lower-case scheme://host[:port]
}

// allowed reports whether origin ("scheme://host[:port]") may act for t.
func (p *originPolicy) allowed(t *tenant.Tenant, origin []byte) bool {
	for _, o := range p.site {
		if len(o) == len(origin) && bytes.EqualFold([]byte(o), origin) {
			return true
		}
	}
	host, ok := originHost(origin)
	if !ok {
		return false
	}
	for _, h := range t.Hosts {
		if strings.EqualFold(strings.TrimSuffix(h, "."), bytesString(host)) {
			return true
		}
	}
	return false
}

// originHost is the host of "http(s)://host[:port]", without a trailing dot.
func originHost(origin []byte) ([]byte, bool) {
	var rest []byte
	switch {
	case hasPrefixFold(origin, "https://"):
		rest = origin[len("https://"):]
	case hasPrefixFold(origin, "http://"):
		rest = origin[len("http://"):]
	default:
		return nil, false // "null", file://, extensions …
	}
	if bytes.ContainsAny(rest, "/?#@") || len(rest) == 0 {
		return nil, false
	}
	if i := bytes.LastIndexByte(rest, ':'); i >= 0 && rest[len(rest)-1] != ']' {
		rest = rest[:i]
	}
	rest = bytes.TrimSuffix(rest, []byte("."))
	return rest, len(rest) > 0
}

// refererOrigin is the "scheme://host[:port]" part of a Referer.
func refererOrigin(ref []byte) []byte {
	i := bytes.Index(ref, []byte("://"))
	if i < 0 {
		return nil
	}
	if j := bytes.IndexAny(ref[i+3:], "/?#"); j >= 0 {
		return ref[:i+3+j]
	}
	return ref
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}

// bytesString views b as a string for a comparison or a parse that does not
// keep it.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// clientIPs finds the reader's address: the peer, or — when the peer is a
// trusted proxy — the right-most X-Forwarded-For address that is not one.
type clientIPs struct {
	trusted []netip.Prefix
}

func (c *clientIPs) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// resolve returns the client address for a peer and its X-Forwarded-For.
func (c *clientIPs) resolve(peer net.IP, xff []byte) netip.Addr {
	addr, _ := netip.AddrFromSlice(peer)
	addr = addr.Unmap()
	if len(c.trusted) == 0 || len(xff) == 0 || !c.isTrusted(addr) {
		return addr
	}
	for len(xff) > 0 {
		var part []byte
		if i := bytes.LastIndexByte(xff, ','); i >= 0 {
			part, xff = xff[i+1:], xff[:i]
		} else {
			part, xff = xff, nil
		}
		a, err := netip.ParseAddr(bytesString(bytes.TrimSpace(part)))
		if err != nil {
			return addr // a malformed hop: trust nothing further left
		}
		addr = a.Unmap()
		if !c.isTrusted(addr) {
			return addr
		}
	}
	return addr
}
