package tenant

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"hungyen", "nam-dinh", "a1", strings.Repeat("x", 32)} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("ValidateID(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "a.b", "a*", "a>", "a/b", "../x", "HungYen", "hưngyên", "a b",
		strings.Repeat("x", 33), "views.>", "a\nb"} {
		if err := ValidateID(bad); !errors.Is(err, ErrInvalidID) {
			t.Errorf("ValidateID(%q) = %v, want ErrInvalidID", bad, err)
		}
	}
}

func TestValidateTenant(t *testing.T) {
	good := Tenant{ID: "hungyen", Name: "Đảng bộ Khối", Categories: []Category{{Slug: "tin-tuc", Name: "Tin tức"}}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Categories = []Category{{Slug: "Tin Tức", Name: "x"}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "categories[0].slug") {
		t.Errorf("bad slug: %v", err)
	}
	if c, ok := good.Category("tin-tuc"); !ok || c.Name != "Tin tức" {
		t.Errorf("Category lookup = %v, %v", c, ok)
	}
}

func TestValidateVideos(t *testing.T) {
	base := Tenant{ID: "hungyen", Name: "Đảng bộ Khối", Categories: []Category{{Slug: "tin-tuc", Name: "Tin tức"}}}
	for _, ok := range []string{"https://www.youtube.com/watch?v=abc", "https://youtu.be/abc", "https://www.facebook.com/watch/?v=1",
		"https://fb.watch/x", "/hungyen/video/dai-hoi.mp4"} {
		tn := base
		tn.Videos = []Video{{Title: "Đại hội Đảng bộ Khối", URL: ok}}
		if err := tn.Validate(); err != nil {
			t.Errorf("video %q: %v", ok, err)
		}
	}
	for _, bad := range []Video{
		{Title: "", URL: "https://youtu.be/abc"},
		{Title: "x", URL: "http://www.youtube.com/watch?v=abc"},
		{Title: "x", URL: "https://evil.example/watch?v=abc"},
		{Title: "x", URL: "javascript:alert(1)"},
		{Title: "x", URL: "//evil.example/a.mp4"},
		{Title: "x", URL: "/hungyen/../a.mp4"},
		{Title: "x", URL: "/hungyen/a.webm"},
	} {
		tn := base
		tn.Videos = []Video{bad}
		if err := tn.Validate(); err == nil || !strings.Contains(err.Error(), "videos[0]") {
			t.Errorf("video %+v: %v, want an error naming videos[0]", bad, err)
		}
	}
	tn := base
	tn.Videos = make([]Video, MaxVideos+1)
	if err := tn.Validate(); err == nil || !strings.Contains(err.Error(), "at most 20") {
		t.Errorf("too many videos: %v", err)
	}
}

func TestModerationRules(t *testing.T) {
	const doc = `{
	  "id": "hungyen", "name": "Đảng bộ Khối", "categories": [{"slug": "tin-tuc", "name": "Tin tức"}],
	  "blocklist": ["cờ bạc"],
	  "moderation": {
	    "policy": "review",
	    "blocklist": ["phản động", {"term": "du", "severity": "hold", "inside_words": true, "reason": "thử"}],
	    "words": ["du lịch"],
	    "required": ["lead", "author", "caption"],
	    "limits": {"title_max": 200, "body_max_words": 3000},
	    "link_domains": ["baonamdinh.vn", "dangcongsan.vn"],
	    "official_names": [{"name": "Đảng Cộng sản Việt Nam", "variants": ["Đảng CSVN"]}],
	    "misspellings": [{"wrong": "sát nhập", "right": "sáp nhập"}],
	    "severity": {"link": "reject", "look-alike": "off"},
	    "duplicate_threshold": 0.6
	  }
	}`
	var tn Tenant
	if err := json.Unmarshal([]byte(doc), &tn); err != nil {
		t.Fatal(err)
	}
	if err := tn.Validate(); err != nil {
		t.Fatal(err)
	}
	m := tn.Moderation
	if m.EffectivePolicy() != PolicyReview || len(m.Blocklist) != 2 || m.Blocklist[0] != (BlockedTerm{Term: "phản động"}) ||
		m.Blocklist[1] != (BlockedTerm{Term: "du", Severity: "hold", InsideWords: true, Reason: "thử"}) ||
		m.Limits.TitleMax != 200 || m.OfficialNames[0].Variants[0] != "Đảng CSVN" || m.Severity["link"] != "reject" {
		t.Errorf("decoded %+v", m)
	}
	if (*Moderation)(nil).EffectivePolicy() != PolicyAuto || (&Moderation{}).EffectivePolicy() != PolicyAuto {
		t.Error("the default policy is not auto")
	}
	// What was decoded encodes back to the same configuration.
	again, err := json.Marshal(&tn)
	if err != nil {
		t.Fatal(err)
	}
	var back Tenant
	if err := json.Unmarshal(again, &back); err != nil || !reflect.DeepEqual(back, tn) {
		t.Errorf("round trip: %s (%v)", again, err)
	}
	// A tenant without the section encodes as before.
	if b, _ := json.Marshal(Tenant{ID: "x", Name: "y"}); strings.Contains(string(b), "moderation") {
		t.Errorf("empty moderation encoded: %s", b)
	}

	bad := map[string]func(m *Moderation){
		"moderation.policy":                     func(m *Moderation) { m.Policy = "sometimes" },
		"moderation.blocklist[2].term":          func(m *Moderation) { m.Blocklist = append(m.Blocklist, BlockedTerm{Term: "  "}) },
		"moderation.blocklist[0].severity":      func(m *Moderation) { m.Blocklist[0].Severity = "off" },
		"moderation.words[0]":                   func(m *Moderation) { m.Words[0] = strings.Repeat("a", MaxTermRunes+1) },
		"moderation.required[3]":                func(m *Moderation) { m.Required = append(m.Required, "photo") },
		"moderation.limits.title_max":           func(m *Moderation) { m.Limits.TitleMax = -1 },
		"moderation.limits.body_min_words":      func(m *Moderation) { m.Limits.BodyMinWords = 5000 },
		"moderation.link_domains[0]":            func(m *Moderation) { m.LinkDomains[0] = "https://baonamdinh.vn/" },
		"moderation.official_names[0].name":     func(m *Moderation) { m.OfficialNames[0].Name = "" },
		"moderation.misspellings[0].right":      func(m *Moderation) { m.Misspellings[0].Right = "" },
		"moderation.severity: unknown rule":     func(m *Moderation) { m.Severity = map[string]string{"blocklist": "warn"} },
		"moderation.severity: link":             func(m *Moderation) { m.Severity = map[string]string{"link": "sometimes"} },
		"moderation.duplicate_threshold":        func(m *Moderation) { m.DuplicateThreshold = 1.5 },
		"moderation.official_names[0].variants": func(m *Moderation) { m.OfficialNames[0].Variants[0] = "" },
	}
	for want, change := range bad {
		var c Tenant
		_ = json.Unmarshal([]byte(doc), &c)
		change(c.Moderation)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: Validate() = %v", want, err)
		}
	}
}
