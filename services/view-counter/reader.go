package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"sync/atomic"
	"time"
)

const (
	// readerHexLen hex characters (128 bits) keep readers apart without
	// keeping more of the hash than needed.
	readerHexLen = 32
	// maxHashedUA bounds the user-agent bytes hashed; longer ones are
	// refused as bots before this matters.
	maxHashedUA = 512
	// dayLayout names a day in Redis keys; the API shows dayLayoutISO.
	dayLayout    = "20060102"
	dayLayoutISO = "2006-01-02"
)

// calendar says which day it is for the readers: the reader salt rotates,
// and today's most-read list and unique readers start, at midnight of the
// configured time zone.
type calendar struct{ loc *time.Location }

// day is the key form of t's date, e.g. "20261123".
func (c calendar) day(t time.Time) string { return t.In(c.loc).Format(dayLayout) }

// bounds returns the start of t's day and of the next one.
func (c calendar) bounds(t time.Time) (time.Time, time.Time) {
	y, m, d := t.In(c.loc).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, c.loc)
	return start, start.AddDate(0, 0, 1)
}

// readerHasher derives each day's salt as HMAC-SHA256(secret, date): every
// replica configured with the same secret hashes a reader alike on a given
// day, no salt is stored anywhere, and a hash says nothing about the same
// reader's hash on another day.
type readerHasher struct {
	secret []byte
	cal    calendar
	cur    atomic.Pointer[daySalt]
}

type daySalt struct {
	day        string
	start, end int64 // unix nanoseconds
	salt       [sha256.Size]byte
}

func newReaderHasher(secret string, cal calendar) *readerHasher {
	return &readerHasher{secret: []byte(secret), cal: cal}
}

// saltFor returns the salt of now's day, derived once per day.
func (h *readerHasher) saltFor(now time.Time) *daySalt {
	n := now.UnixNano()
	if s := h.cur.Load(); s != nil && n >= s.start && n < s.end {
		return s
	}
	start, end := h.cal.bounds(now)
	s := &daySalt{day: start.Format(dayLayout), start: start.UnixNano(), end: end.UnixNano()}
	mac := hmac.New(sha256.New, h.secret)
	mac.Write([]byte("blocpress view-counter reader salt " + start.Format(dayLayoutISO)))
	mac.Sum(s.salt[:0])
	h.cur.Store(s)
	return s
}

// reader writes the hex of the first 128 bits of SHA-256(salt ‖ IP ‖ UA) into
// dst: readers are told apart without their IP being kept anywhere.
func (s *daySalt) reader(dst *[readerHexLen]byte, ip netip.Addr, ua []byte) {
	var buf [sha256.Size + 16 + maxHashedUA]byte
	n := copy(buf[:], s.salt[:])
	a16 := ip.As16()
	n += copy(buf[n:], a16[:])
	n += copy(buf[n:], ua[:min(len(ua), maxHashedUA)])
	sum := sha256.Sum256(buf[:n])
	hex.Encode(dst[:], sum[:readerHexLen/2])
}
