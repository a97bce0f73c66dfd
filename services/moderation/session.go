package main

import (
	"net/http"
	"time"

	"github.com/blocpress/blocpress/libs/websession"
)

// Cookies of the review desk's pages.
const (
	sessionCookie = "bp_desk"
	loginCookie   = "bp_desk_login"
	deskPath      = "/desk/"
)

// sessions keeps the review desk's sessions in HTTP-only cookies sealed by
// libs/websession (the editor web app uses the same). A session names the
// tenant, the reviewer key's hash (so that every request checks the key is
// still valid and still a reviewer's), the reviewer's name, an expiry and
// the CSRF token the session's forms carry.
type sessions struct {
	m   *websession.Manager
	ttl time.Duration
}

func newSessions(secret []byte, ttl time.Duration, secure bool) (*sessions, error) {
	m, err := websession.New(websession.Options{Secret: secret, Cookie: sessionCookie, LoginCookie: loginCookie,
		Path: deskPath, TTL: ttl, Secure: secure})
	if err != nil {
		return nil, err
	}
	return &sessions{m: m, ttl: ttl}, nil
}

type session struct {
	Tenant  string `json:"t"`
	KeyHash string `json:"h"`
	Name    string `json:"n,omitempty"`
	Expires int64  `json:"e"`
	CSRF    string `json:"c"`
}

func randomToken() string { return websession.Token() }

func (ss *sessions) encode(s session) string {
	v, _ := ss.m.Seal(s, time.Unix(s.Expires, 0)) // strings and an int always encode
	return v
}

func (ss *sessions) decode(v string, now time.Time) (session, bool) {
	var s session
	if ss.m.Open(v, now, &s) != nil || now.Unix() >= s.Expires || s.CSRF == "" {
		return session{}, false
	}
	return s, true
}

// set starts the session; its cookie lasts the sessions' TTL from now.
func (ss *sessions) set(w http.ResponseWriter, r *http.Request, s session, now time.Time) {
	_ = ss.m.Set(w, r, s, now) // a session of strings and an int always seals
}

func (ss *sessions) clear(w http.ResponseWriter, r *http.Request) { ss.m.Clear(w, r) }

// loginToken is the sign-in form's double-submit CSRF token.
func (ss *sessions) loginToken(w http.ResponseWriter, r *http.Request) string {
	return ss.m.LoginToken(w, r)
}

func sameToken(a, b string) bool { return websession.SameToken(a, b) }
