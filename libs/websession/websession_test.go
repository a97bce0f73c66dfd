package websession

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type sess struct {
	Tenant string `json:"t"`
	Key    string `json:"k"`
}

func manager(t *testing.T, secret, cookie string) *Manager {
	t.Helper()
	m, err := New(Options{Secret: []byte(secret), Cookie: cookie, LoginCookie: cookie + "_login", Path: "/editor/", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSealOpenRoundTripHidesTheValue(t *testing.T) {
	m := manager(t, strings.Repeat("s", 32), "bp_editor")
	now := time.Unix(1_800_000_000, 0)
	sealed, err := m.Seal(sess{Tenant: "hungyen", Key: "bp_secretkey"}, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "hungyen") || strings.Contains(sealed, "secretkey") {
		t.Fatalf("sealed value shows its content: %s", sealed)
	}
	var got sess
	if err := m.Open(sealed, now, &got); err != nil || got.Key != "bp_secretkey" || got.Tenant != "hungyen" {
		t.Fatalf("open: %+v %v", got, err)
	}
	if err := m.Open(sealed, now.Add(time.Hour), &got); !errors.Is(err, ErrNoSession) {
		t.Errorf("expired session opened: %v", err)
	}
	// One changed character anywhere, another secret or another cookie name: refused.
	for i := 0; i < len(sealed); i += 7 {
		c := byte('A')
		if sealed[i] == 'A' {
			c = 'B'
		}
		bad := sealed[:i] + string(c) + sealed[i+1:]
		if err := m.Open(bad, now, &got); !errors.Is(err, ErrNoSession) {
			t.Fatalf("tampered at %d opened", i)
		}
	}
	if err := manager(t, strings.Repeat("x", 32), "bp_editor").Open(sealed, now, &got); !errors.Is(err, ErrNoSession) {
		t.Error("a session of another secret opened")
	}
	if err := manager(t, strings.Repeat("s", 32), "bp_desk").Open(sealed, now, &got); !errors.Is(err, ErrNoSession) {
		t.Error("a session of another cookie opened with the same secret")
	}
}

func TestCookieAttributes(t *testing.T) {
	m := manager(t, strings.Repeat("s", 32), "bp_editor")
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/editor/", nil)
	if err := m.Set(w, r, sess{Tenant: "a"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	c := w.Result().Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/editor/" || c.Secure || c.MaxAge != 3600 {
		t.Errorf("cookie %+v", c)
	}
	r.Header.Set("X-Forwarded-Proto", "https")
	w = httptest.NewRecorder()
	m.Clear(w, r)
	if c := w.Result().Cookies()[0]; !c.Secure || c.MaxAge >= 0 {
		t.Errorf("clearing cookie behind TLS %+v", c)
	}
}

func TestNewRefusesAShortSecret(t *testing.T) {
	if _, err := New(Options{Secret: []byte("short"), Cookie: "a", LoginCookie: "b", Path: "/", TTL: time.Hour}); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
}

func TestSameToken(t *testing.T) {
	tok := Token()
	if !SameToken(tok, tok) || SameToken("", "") || SameToken(tok, Token()) || SameToken(tok[:5], tok) {
		t.Error("token comparison")
	}
}

func TestSafeNextKeepsRedirectsInsideTheApp(t *testing.T) {
	for next, want := range map[string]string{
		"/editor/articles/x":    "/editor/articles/x",
		"/editor/":              "/editor/",
		"https://evil/editor/":  "/editor/articles",
		"//evil/editor/":        "/editor/articles",
		"/editorx":              "/editor/articles",
		"/editor/\\evil":        "/editor/articles",
		"/editor/a\r\nSet-X: 1": "/editor/articles",
		"":                      "/editor/articles",
	} {
		if got := SafeNext(next, "/editor/", "/editor/articles"); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
