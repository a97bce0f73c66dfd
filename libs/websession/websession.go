// Package websession keeps a signed-in person's session in an HTTP-only
// cookie, sealed with AES-GCM, and gives forms their CSRF tokens.
//
// The cookie is sealed rather than only signed so that a session may carry a
// secret the server needs again on every request (the editor web app keeps
// the editor's API key there, to call the API on their behalf) without the
// browser, a proxy log or a stolen backup of cookies revealing it. Replicas
// that share the secret open each other's cookies; the key is derived from
// the secret and the cookie's name, so two apps given the same secret do not
// accept each other's sessions.
//
// CSRF: every session carries a random token that its forms repeat in a
// field; the sign-in form, before there is a session, uses a double-submit
// token kept in a cookie of its own. Tokens are compared in constant time.
// SafeNext keeps the redirect after sign-in inside the app.
package websession

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// MinSecret is the shortest secret New accepts, in bytes.
const MinSecret = 32

// ErrNoSession is returned by Read when the request has no session cookie,
// or one that is expired, tampered with or sealed with another secret.
var ErrNoSession = errors.New("no valid session")

// Options configure a Manager.
type Options struct {
	// Secret is shared by every replica; at least MinSecret bytes.
	Secret []byte
	// Cookie is the session cookie's name; LoginCookie that of the sign-in
	// form's CSRF token.
	Cookie, LoginCookie string
	// Path limits both cookies to the app's pages, e.g. "/editor/".
	Path string
	// TTL is how long a sign-in lasts.
	TTL time.Duration
	// Secure marks cookies Secure even on plain HTTP (the app sits behind a
	// TLS-terminating proxy that does not say X-Forwarded-Proto).
	Secure bool
	// SameSite of the session cookie; Lax when zero, so a link from a mail
	// to a page of the app opens it signed in.
	SameSite http.SameSite
}

// Manager seals sessions into cookies and opens them again.
type Manager struct {
	opts Options
	aead cipher.AEAD
}

// New checks the options and derives the sealing key.
func New(o Options) (*Manager, error) {
	if len(o.Secret) < MinSecret {
		return nil, fmt.Errorf("session secret: %d bytes, need at least %d", len(o.Secret), MinSecret)
	}
	if o.Cookie == "" || o.LoginCookie == "" || o.Cookie == o.LoginCookie {
		return nil, errors.New("session cookies: two different names are needed")
	}
	if !strings.HasPrefix(o.Path, "/") {
		return nil, fmt.Errorf("session cookie path %q must start with /", o.Path)
	}
	if o.TTL < time.Minute {
		return nil, fmt.Errorf("session TTL %s is too short", o.TTL)
	}
	if o.SameSite == 0 {
		o.SameSite = http.SameSiteLaxMode
	}
	key, err := hkdf.Key(sha256.New, o.Secret, nil, "blocpress websession "+o.Cookie, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the session key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session cipher: %w", err)
	}
	return &Manager{opts: o, aead: aead}, nil
}

// TTL is how long a new session lasts.
func (m *Manager) TTL() time.Duration { return m.opts.TTL }

// envelope is what is sealed: the caller's value and its expiry, so an
// old cookie replayed after its expiry is refused whatever its Expires
// attribute said.
type envelope struct {
	Expires int64           `json:"e"`
	Value   json.RawMessage `json:"v"`
}

// Seal encrypts v (JSON-encoded) until expires. The cookie's name is the
// additional data, so a value sealed for one cookie does not open as another.
func (m *Manager) Seal(v any, expires time.Time) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding the session: %w", err)
	}
	plain, err := json.Marshal(envelope{Expires: expires.Unix(), Value: raw})
	if err != nil {
		return "", fmt.Errorf("encoding the session: %w", err)
	}
	nonce := make([]byte, m.aead.NonceSize(), m.aead.NonceSize()+len(plain)+m.aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	sealed := m.aead.Seal(nonce, nonce, plain, []byte(m.opts.Cookie))
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open decrypts a sealed value into v; ErrNoSession if it was tampered
// with, sealed with another key or has expired at now.
func (m *Manager) Open(sealed string, now time.Time, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < m.aead.NonceSize() {
		return ErrNoSession
	}
	plain, err := m.aead.Open(nil, b[:m.aead.NonceSize()], b[m.aead.NonceSize():], []byte(m.opts.Cookie))
	if err != nil {
		return ErrNoSession
	}
	var env envelope
	if json.Unmarshal(plain, &env) != nil || now.Unix() >= env.Expires {
		return ErrNoSession
	}
	if json.Unmarshal(env.Value, v) != nil {
		return ErrNoSession
	}
	return nil
}

// Read opens the request's session cookie into v.
func (m *Manager) Read(r *http.Request, now time.Time, v any) error {
	c, err := r.Cookie(m.opts.Cookie)
	if err != nil || c.Value == "" {
		return ErrNoSession
	}
	return m.Open(c.Value, now, v)
}

// Set seals v into the session cookie until now + TTL.
func (m *Manager) Set(w http.ResponseWriter, r *http.Request, v any, now time.Time) error {
	expires := now.Add(m.opts.TTL)
	sealed, err := m.Seal(v, expires)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: m.opts.Cookie, Value: sealed, Path: m.opts.Path, HttpOnly: true, Secure: m.secureFor(r),
		SameSite: m.opts.SameSite, Expires: expires, MaxAge: int(m.opts.TTL.Seconds()),
	})
	return nil
}

// Clear ends the session in the browser.
func (m *Manager) Clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: m.opts.Cookie, Value: "", Path: m.opts.Path, HttpOnly: true,
		Secure: m.secureFor(r), SameSite: m.opts.SameSite, MaxAge: -1})
}

// LoginToken is the CSRF token of the sign-in form, kept in a cookie of its
// own until there is a session (a double-submit token: another site can
// make the browser post the form but cannot read the cookie to fill it in).
func (m *Manager) LoginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(m.opts.LoginCookie); err == nil && len(c.Value) >= 20 {
		return c.Value
	}
	t := Token()
	http.SetCookie(w, &http.Cookie{Name: m.opts.LoginCookie, Value: t, Path: m.opts.Path, HttpOnly: true,
		Secure: m.secureFor(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return t
}

func (m *Manager) secureFor(r *http.Request) bool {
	return m.opts.Secure || r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// Token is a fresh random CSRF token.
func Token() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// SameToken compares a submitted token with the expected one in constant
// time; an empty token never matches.
func SameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// SafeNext is where to send a person after sign-in: next, the page they
// asked for, when it is a path under within (the app's own pages), else
// fallback. It keeps the sign-in form from being an open redirect: an
// absolute URL, a scheme-relative "//host", or a backslash or line break
// that a browser may read as one never passes.
func SafeNext(next, within, fallback string) string {
	if strings.HasPrefix(next, within) && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return fallback
}
