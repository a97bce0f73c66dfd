package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSegmentsMarkOverlappingFindings(t *testing.T) {
	text := "Đảng CSVN lãnh đạo phan dong"
	fs := []Finding{
		{Field: "lead", Start: 0, End: 9, Severity: "warn", Rule: ruleOfficialName, Message: "a"},
		{Field: "lead", Start: 5, End: 18, Severity: "hold", Rule: ruleBlocklistFold, Message: "b"},
		{Field: "title", Start: 0, End: 4, Severity: "reject"},
		{Field: "lead", Start: 19, End: 99, Severity: "reject"}, // out of range: not marked
	}
	var got []string
	for _, s := range segments(text, "lead", fs, false) {
		got = append(got, fmt.Sprintf("%s|%s|%s|%v", s.Text, s.Sev, s.Anchor, s.Refs))
	}
	want := "Đảng |warn|f-1|[];CSVN|hold|f-2|[1]; lãnh đạo|hold||[2]; phan dong|||[]"
	if strings.Join(got, ";") != want {
		t.Errorf("segments\n got %s\nwant %s", strings.Join(got, ";"), want)
	}
	if s := segments(text, "lead", fs, true); len(s) != 1 || s[0].Sev != "" {
		t.Errorf("clean preview %+v", s)
	}
}

func TestSessionCookie(t *testing.T) {
	ss, err := newSessions([]byte(strings.Repeat("k", 32)), time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	v := ss.encode(session{Tenant: "hung-yen", KeyHash: strings.Repeat("a", 64), Name: "Hoà", Expires: now.Add(time.Hour).Unix(), CSRF: "tok"})
	if s, ok := ss.decode(v, now); !ok || s.Tenant != "hung-yen" || s.Name != "Hoà" {
		t.Fatalf("decode = %+v, %v", s, ok)
	}
	if _, ok := ss.decode(v, now.Add(2*time.Hour)); ok {
		t.Error("an expired session was accepted")
	}
	other, err := newSessions([]byte(strings.Repeat("x", 32)), time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	forged := other.encode(session{Tenant: "nam-dinh", Expires: now.Add(time.Hour).Unix(), CSRF: "t"})
	flipped := []byte(v)
	flipped[20] ^= 1 // still base64url: A↔B, a↔b, 0↔1, -↔,
	if flipped[20] == ',' {
		flipped[20] = '_'
	}
	for _, bad := range []string{v[1:], v[:len(v)-1], string(flipped), forged, "", "."} {
		if _, ok := ss.decode(bad, now); ok {
			t.Errorf("a tampered cookie %.20q was accepted", bad)
		}
	}
	for next, want := range map[string]string{"/desk/articles/x": "/desk/articles/x", "https://evil": "/desk/", "//evil/desk/": "/desk/", "/deskx": "/desk/"} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}
}
