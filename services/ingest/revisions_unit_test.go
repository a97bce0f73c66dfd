package main

import (
	"slices"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Đảng bộ Khối":                "dang bo khoi",
		"ĐẢNG  BỘ":                    "dang bo",
		norm.NFD.String("Hội nghị"):   "hoi nghi",
		"Chuyển đổi số":               "chuyen doi so",
		"Thành phố Hồ Chí Minh 2024.": "thanh pho ho chi minh 2024.",
	} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	hcm, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	for _, tc := range []struct {
		value, zone string
		want        time.Time
	}{
		{"2026-11-24T08:00", "", time.Date(2026, 11, 24, 8, 0, 0, 0, hcm)},
		{"2026-11-24T08:00:30", "", time.Date(2026, 11, 24, 8, 0, 30, 0, hcm)},
		{"2026-11-24T08:00", "UTC", time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)},
		{"2026-11-24T08:00:00+07:00", "Europe/Paris", time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)},
		{"", "", time.Time{}},
	} {
		got, err := parseSchedule(tc.value, tc.zone)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseSchedule(%q, %q) = %v, %v; want %v", tc.value, tc.zone, got, err, tc.want)
		}
	}
	for _, bad := range []string{"24/11/2026 08:00", "2026-11-24", "mai"} {
		if _, err := parseSchedule(bad, ""); err == nil {
			t.Errorf("parseSchedule(%q) accepted", bad)
		}
	}
}

func TestNormalizeTags(t *testing.T) {
	got := normalizeTags([]string{" Chuyển  đổi số", norm.NFD.String("chuyển đổi số"), "", "Đảng bộ", "ĐẢNG BỘ"})
	if want := []string{"Chuyển đổi số", "Đảng bộ"}; !slices.Equal(got, want) {
		t.Errorf("normalizeTags = %q, want %q", got, want)
	}
}

func TestTakedownReasonRoundTrip(t *testing.T) {
	for _, tc := range []struct{ mode, target, text, reason string }{
		{modeGone, "", "Sai sự thật", "gone: Sai sự thật"},
		{modeNotice, "", "Theo yêu cầu", "notice: Theo yêu cầu"},
		{modeRedirect, "https://x.vn/a", "Bài mới", "redirect https://x.vn/a: Bài mới"},
	} {
		r := takedownReason(tc.mode, tc.target, tc.text)
		if r != tc.reason || takedownMode(r) != tc.mode {
			t.Errorf("%s: reason %q (mode %q), want %q", tc.mode, r, takedownMode(r), tc.reason)
		}
	}
}

// An event of an older revision goes into the history and may change what
// is online, never the status of the newer revision.
func TestApplyOlder(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	d := &statusDoc{ID: "a", Revision: 2, Status: statusSubmitted, StatusAt: t0, PublicURL: "http://s/1", OnlineRevision: 1}
	if !d.applyOlder(statusEvent{id: "e1", revision: 1, status: statusApproved, at: t0.Add(time.Minute)}) {
		t.Fatal("not recorded")
	}
	if d.Status != statusSubmitted || len(d.History) != 1 || d.History[0].Revision != 1 {
		t.Errorf("after an old approval: %+v", d)
	}
	if d.applyOlder(statusEvent{id: "e1", revision: 1, status: statusApproved, at: t0.Add(time.Minute)}) {
		t.Error("a redelivered event was recorded twice")
	}
	d.applyOlder(statusEvent{id: "e2", revision: 1, status: statusUnpublished, at: t0.Add(2 * time.Minute), reasons: []string{"gone: x"}})
	if d.Status != statusSubmitted || d.PublicURL != "" || d.OnlineRevision != 0 || d.History[1].Mode != modeGone {
		t.Errorf("after an old takedown: %+v", d)
	}
}

// Approval of an article scheduled after the approval's time is "scheduled".
func TestScheduledApproval(t *testing.T) {
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	d := &statusDoc{ID: "a", Revision: 1, Status: statusSubmitted, StatusAt: at}
	when := at.Add(24 * time.Hour)
	d.apply(statusEvent{id: "e", revision: 1, status: statusScheduled, at: at.Add(time.Second), scheduledAt: &when})
	if d.Status != statusScheduled || d.ScheduledAt == nil || !d.ScheduledAt.Equal(when) {
		t.Errorf("scheduled: %+v", d)
	}
	// A late plain approval does not move it back; publication moves it on.
	d.apply(statusEvent{id: "e2", revision: 1, status: statusApproved, at: at.Add(2 * time.Second)})
	if d.Status != statusScheduled {
		t.Errorf("after a late approval: %s", d.Status)
	}
	d.apply(statusEvent{id: "e3", revision: 1, status: statusPublished, at: when, url: "http://s/a"})
	if d.Status != statusPublished || d.ScheduledAt != nil || d.OnlineRevision != 1 {
		t.Errorf("published: %+v", d)
	}
}
