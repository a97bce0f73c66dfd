package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Cookies of the review desk's pages.
const (
	sessionCookie = "bp_desk"
	loginCookie   = "bp_desk_login"
	deskPath      = "/desk/"
)

// sessions signs the review desk's session cookies. A session names the
// tenant, the reviewer key's hash (so that every request checks the key is
// still valid and still a reviewer's), the reviewer's name, an expiry and
// the CSRF token the session's forms carry. The cookie is HTTP-only, so
// page scripts — there are none — could not read it either.
type sessions struct {
	secret []byte
	ttl    time.Duration
	secure bool
}

type session struct {
	Tenant  string `json:"t"`
	KeyHash string `json:"h"`
	Name    string `json:"n,omitempty"`
	Expires int64  `json:"e"`
	CSRF    string `json:"c"`
}

func randomToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

func (ss *sessions) sign(payload string) string {
	m := hmac.New(sha256.New, ss.secret)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (ss *sessions) encode(s session) string {
	b, _ := json.Marshal(s) // strings and an int always encode
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + ss.sign(p)
}

func (ss *sessions) decode(v string, now time.Time) (session, bool) {
	p, mac, ok := strings.Cut(v, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(ss.sign(p))) {
		return session{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return session{}, false
	}
	var s session
	if json.Unmarshal(b, &s) != nil || now.Unix() >= s.Expires || s.CSRF == "" {
		return session{}, false
	}
	return s, true
}

func (ss *sessions) secureFor(r *http.Request) bool {
	return ss.secure || r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (ss *sessions) set(w http.ResponseWriter, r *http.Request, s session) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: ss.encode(s), Path: deskPath, HttpOnly: true, Secure: ss.secureFor(r),
		SameSite: http.SameSiteLaxMode, Expires: time.Unix(s.Expires, 0),
	})
}

func (ss *sessions) clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: deskPath, HttpOnly: true, Secure: ss.secureFor(r),
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// loginToken is the CSRF token of the sign-in form, kept in a cookie of its
// own until there is a session (a double-submit token: another site can
// make the browser post the form but cannot read the cookie to fill it).
func (ss *sessions) loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) >= 20 {
		return c.Value
	}
	t := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: t, Path: deskPath, HttpOnly: true, Secure: ss.secureFor(r),
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return t
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
