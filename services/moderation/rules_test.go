package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/libs/testkit"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

func paragraph(text string) *eventsv1.Block {
	return &eventsv1.Block{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: text}}}
}

func photo(caption, credit string) *eventsv1.Block {
	return &eventsv1.Block{Kind: &eventsv1.Block_Image{Image: &eventsv1.Image{MediaId: strings.Repeat("ab", 32), Caption: caption, Credit: credit}}}
}

// article is a clean article whose first paragraph is text.
func article(text string) *eventsv1.Article {
	return &eventsv1.Article{
		Id: "a000000000000001", Revision: 1, Category: "tin-tuc",
		Title:  "Hội nghị sơ kết công tác 6 tháng đầu năm",
		Lead:   "Sáng 24/4, Đảng ủy Khối tổ chức hội nghị sơ kết.",
		Body:   []*eventsv1.Block{paragraph(text), photo("Quang cảnh hội nghị", "Lam Hồng")},
		Author: "Lam Hồng", Source: &eventsv1.Source{Name: "baonamdinh.vn", Url: "https://baonamdinh.vn/"},
	}
}

func rulesTenant(m *tenant.Moderation) *tenant.Tenant {
	return &tenant.Tenant{ID: "hung-yen", Name: "Đảng bộ Khối", Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}}, Moderation: m}
}

// short renders findings as "rule/severity field[start:end]=text→suggestion".
func short(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		s := fmt.Sprintf("%s/%s %s[%d:%d]=%s", f.Rule, f.Severity, f.Field, f.Start, f.End, f.Text)
		if f.Suggestion != "" {
			s += "→" + f.Suggestion
		}
		out = append(out, s)
	}
	return out
}

func TestBlocklistTiers(t *testing.T) {
	tn := rulesTenant(&tenant.Moderation{Blocklist: []tenant.BlockedTerm{
		{Term: "phản động"}, {Term: "du"}, {Term: "cờ bạc"}, {Term: "tin giả"}, {Term: "lừa đảo", Severity: "hold"}, {Term: "Hoà bình giả tạo", Severity: "warn"},
		{Term: "bạc", InsideWords: true, Severity: "warn"},
	}})
	rs := compile(tn)
	tests := []struct {
		name, text string
		want       []string
	}{
		{"exact", "Cảnh giác luận điệu phản động.", []string{"blocklist/reject body[0][20:29]=phản động"}},
		{"capitals", "LUẬN ĐIỆU PHẢN ĐỘNG", []string{"blocklist/reject body[0][10:19]=PHẢN ĐỘNG"}},
		{"decomposed (NFD)", norm.NFD.String("luận điệu Phản Động"), []string{"blocklist/reject body[0][10:19]=Phản Động"}},
		{"look-alike Ð (U+00D0) and Cyrillic о", "phản Ðộng, рhản động", []string{
			"blocklist/reject body[0][0:9]=phản Ðộng", "look-alike/warn body[0][5:9]=Ðộng→Động",
			"blocklist/reject body[0][11:20]=рhản động", "look-alike/warn body[0][11:15]=рhản→phản"}},
		{"zero-width space inside a word", "phả\u200bn động", []string{"blocklist/reject body[0][0:10]=phả\u200bn động"}},
		{"hyphen and no-break space", "phản-động; phản\u00a0động", []string{"blocklist/reject body[0][0:9]=phản-động", "blocklist/reject body[0][11:20]=phản\u00a0động"}},
		{"without marks: held", "bon phan dong", []string{"blocklist-folded/hold body[0][4:13]=phan dong"}},
		{"some marks missing: held", "bọn phản dong", []string{"blocklist-folded/hold body[0][4:13]=phản dong"}},
		{"đ typed as d", "bọn phản dộng", []string{"blocklist-folded/hold body[0][4:13]=phản dộng"}},
		{"a mark left out, tone kept", "Luận điệu phản đọng", []string{"blocklist-folded/hold body[0][10:19]=phản đọng"}},
		{"bare syllables of two other words", "cung cấp thông tin gia đình", nil},
		{"one syllable without its tone is another word", "phản đông; Phan Đông", nil},
		{"another phrase that folds alike", "phần đông cán bộ, Phan Đông", nil},
		{"not across punctuation", "phản, động", nil},
		{"du is not inside other syllables", "giáo dục, ví dụ, dù sao, dư luận, dung", nil},
		{"du is not inside compound words", "Phát triển du lịch và du học; Du khách", nil},
		{"du on its own", "đi du ngoài, chữ du", []string{"blocklist/reject body[0][3:5]=du", "blocklist/reject body[0][17:19]=du"}},
		{"a one-syllable term typed bare is held only in bare text", "bon du dang o day; cho ban", []string{"blocklist/reject body[0][4:6]=du"}},
		{"old and new tone placement", "một nền hòa bình giả tạo", []string{"blocklist/warn body[0][8:24]=hòa bình giả tạo"}},
		{"severity hold", "Cảnh giác lừa đảo", []string{"blocklist/hold body[0][10:17]=lừa đảo"}},
		{"inside_words", "tiền bạc và cờ bạc", []string{"blocklist/warn body[0][5:8]=bạc", "blocklist/reject body[0][12:18]=cờ bạc", "blocklist/warn body[0][15:18]=bạc"}},
		{"innocent text", "Đổi mới căn bản, toàn diện giáo dục và đào tạo.", nil},
	}
	for _, tt := range tests {
		got := short(rs.check(article(tt.text)).findings)
		if tt.want == nil {
			tt.want = []string{}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q\n got %q\nwant %q", tt.name, tt.text, got, tt.want)
		}
	}
}

func TestFindingsAreLocatedInEveryField(t *testing.T) {
	tn := rulesTenant(&tenant.Moderation{Blocklist: []tenant.BlockedTerm{{Term: "xấu"}}})
	tn.Blocklist = []string{"tồi"} // the short list still applies, as severity reject
	a := &eventsv1.Article{
		Id: "a000000000000001", Revision: 1, Category: "tin-tuc", Title: "tin xấu", Lead: "xấu", Author: "xấu",
		Source: &eventsv1.Source{Name: "báo tồi"},
		Body:   []*eventsv1.Block{paragraph("xấu"), photo("xấu", "Ảnh xấu"), {}},
	}
	got := short(compile(tn).check(a).findings)
	want := []string{
		"blocklist/reject title[4:7]=xấu", "blocklist/reject lead[0:3]=xấu", "blocklist/reject body[0][0:3]=xấu",
		"blocklist/reject body[1].caption[0:3]=xấu", "blocklist/reject body[1].credit[4:7]=xấu", "structure/reject body[2][0:0]=",
		"blocklist/reject author[0:3]=xấu", "blocklist/reject source.name[4:7]=tồi",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Offsets are runes of the NFC text: they hold for text sent in NFD.
	a = article(norm.NFD.String("Đồng chí nói: luận điệu phản động"))
	f := compile(rulesTenant(&tenant.Moderation{Blocklist: []tenant.BlockedTerm{{Term: "phản động"}}})).check(a).findings
	if len(f) != 1 || string([]rune(norm.NFC.String(a.Body[0].GetParagraph().GetText()))[f[0].Start:f[0].End]) != "phản động" {
		t.Errorf("findings %+v", f)
	}
}

func TestStyleRules(t *testing.T) {
	tn := rulesTenant(&tenant.Moderation{
		OfficialNames: []tenant.OfficialName{{Name: "Tô Lâm"}},
		Misspellings:  []tenant.Misspelling{{Wrong: "hội nghị hội nghị", Right: "hội nghị"}},
	})
	rs := compile(tn)
	tests := []struct {
		text string
		want []string
	}{
		{"Sự lãnh đạo của Đảng Cộng sản Việt Nam.", nil},
		{"ĐẢNG CỘNG SẢN VIỆT NAM QUANG VINH", nil},
		{"đường lối của đảng cộng sản việt nam", []string{
			"party-capitalisation/warn body[0][14:18]=đảng→Đảng", "official-name/warn body[0][14:36]=đảng cộng sản việt nam→Đảng Cộng sản Việt Nam",
			"official-name/warn body[0][28:36]=việt nam→Việt Nam"}},
		{"Đảng CSVN lãnh đạo", []string{"official-name/warn body[0][0:9]=Đảng CSVN→Đảng Cộng sản Việt Nam"}},
		{"Đảng Cộng Sản Việt Nam", []string{"official-name/warn body[0][0:22]=Đảng Cộng Sản Việt Nam→Đảng Cộng sản Việt Nam"}},
		{"Đảng Cộng sản Viet Nam", []string{"official-name/warn body[0][0:22]=Đảng Cộng sản Viet Nam→Đảng Cộng sản Việt Nam",
			"official-name/warn body[0][14:22]=Viet Nam→Việt Nam"}},
		{"đồng chí Tô Lâm, đồng chí Tô Lam", []string{"official-name/warn body[0][26:32]=Tô Lam→Tô Lâm"}},
		{"tô lam và to lam", nil},
		{"Chủ tịch Hồ Chí Minh; chủ tịch Hồ Chí Minh", []string{"official-name/warn body[0][22:42]=chủ tịch Hồ Chí Minh→Chủ tịch Hồ Chí Minh"}},
		{"chủ trương của đảng, đảng ta, lòng tin vào đảng", []string{
			"party-capitalisation/warn body[0][15:19]=đảng→Đảng", "party-capitalisation/warn body[0][21:25]=đảng→Đảng",
			"party-capitalisation/warn body[0][43:47]=đảng→Đảng"}},
		{"cán bộ, đảng viên; công tác xây dựng đảng viên; các đảng phái", nil},
		{"Sát nhập các xã; thăm quan khu di tích", []string{
			"misspelling/warn body[0][0:8]=Sát nhập→Sáp nhập", "misspelling/warn body[0][17:26]=thăm quan→tham quan"}},
		{"SÁT NHẬP", []string{"misspelling/warn body[0][0:8]=SÁT NHẬP→SÁP NHẬP"}},
		{"Hội nghị hội nghị", []string{"misspelling/warn body[0][0:17]=Hội nghị hội nghị→Hội nghị"}},
	}
	for _, tt := range tests {
		got := short(rs.check(article(tt.text)).findings)
		if tt.want == nil {
			tt.want = []string{}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q\n got %q\nwant %q", tt.text, got, tt.want)
		}
	}
	// The tenant may turn a rule off, or all the built-in lists.
	off := compile(rulesTenant(&tenant.Moderation{NoDefaults: true, Severity: map[string]string{"party-capitalisation": "off"}}))
	if got := short(off.check(article("của đảng cộng sản việt nam, sát nhập")).findings); len(got) != 0 {
		t.Errorf("rules off: %q", got)
	}
}

func TestStructureRequiredLengthsAndLinks(t *testing.T) {
	tn := rulesTenant(&tenant.Moderation{
		Required:    []string{"lead", "author", "source", "caption", "credit"},
		Limits:      tenant.Limits{TitleMax: 10, BodyMinWords: 5},
		LinkDomains: []string{"baonamdinh.vn", "dangcongsan.vn"},
	})
	a := article("Xem https://www.baonamdinh.vn/tin/1.html, dangcongsan.vn và tintuc.example.com/x hay email a@gmail.com, TP.HCM v.v.")
	a.Title = "Hội nghị sơ kết"
	a.Lead, a.Author = "", " "
	a.Body[1].GetImage().Caption = ""
	a.Body[1].GetImage().Credit = ""
	a.Source = &eventsv1.Source{Url: "https://evil.example.org/a"}
	got := short(compile(tn).check(a).findings)
	want := []string{
		"length/reject title[10:15]=ơ kết",
		"required/reject lead[0:0]=",
		"link/hold body[0][60:80]=tintuc.example.com/x",
		"required/reject body[1].caption[0:0]=",
		"required/reject body[1].credit[0:0]=",
		"required/reject author[0:0]=",
		"required/reject source.name[0:0]=",
		"link/hold source.url[0:26]=https://evil.example.org/a",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	short := article("Ngắn.")
	short.Category, short.Body = "the-thao", []*eventsv1.Block{paragraph("Một hai ba."), {Kind: &eventsv1.Block_Image{Image: &eventsv1.Image{Caption: "x", Credit: "y"}}}}
	got = shortFindings(compile(tn).check(short).findings)
	for _, w := range []string{"category/reject category[0:0]=the-thao", "structure/reject body[1].image[0:0]=", "length/reject body[0:0]="} {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q in %q", w, got)
		}
	}
}

func shortFindings(fs []Finding) []string { return short(fs) }

func TestDecision(t *testing.T) {
	warn := Finding{Severity: "warn"}
	hold := Finding{Severity: "hold"}
	reject := Finding{Severity: "reject"}
	for _, tt := range []struct {
		fs     []Finding
		policy string
		want   string
	}{
		{nil, "auto", "approve"}, {[]Finding{warn}, "auto", "approve"}, {[]Finding{warn, hold}, "auto", "hold"},
		{[]Finding{hold, reject}, "auto", "reject"}, {nil, "review", "hold"}, {[]Finding{reject}, "review", "reject"},
	} {
		if v := decide(tt.fs, tt.policy); v.Decision != tt.want || v.Policy != tt.policy || v.Findings == nil {
			t.Errorf("%v %s: %+v, want %s", tt.fs, tt.policy, v, tt.want)
		}
	}
	// The verdict's JSON has the documented shape.
	b, _ := json.Marshal(decide([]Finding{{Rule: "blocklist", Severity: "reject", Field: "lead", Start: 1, End: 4, Text: "xấu"}}, "auto"))
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	f := m["findings"].([]any)[0].(map[string]any)
	for _, k := range []string{"rule", "severity", "field", "start", "end", "text", "suggestion"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding JSON lacks %q: %s", k, b)
		}
	}
	if m["decision"] != "reject" || m["policy"] != "auto" {
		t.Errorf("verdict JSON %s", b)
	}
}

func TestNearDuplicates(t *testing.T) {
	pages := seedParagraphs(t)
	text := strings.Join(pages[0][3:12], " ")
	other := strings.Join(pages[1][3:12], " ")
	sig := func(s string) []uint32 {
		return compile(rulesTenant(nil)).check(article(s)).fingerprint
	}
	a, b := sig(text), sig(other)
	// Edited a little, reposted without marks, or with a paragraph more.
	edited := strings.Replace(strings.Replace(text, "Hội nghị", "Buổi họp", 2), "tỉnh", "thành phố", 3)
	if s := similarity(a, sig(edited)); s < 0.6 {
		t.Errorf("an edited copy is %.2f similar", s)
	}
	if s := similarity(a, sig(foldForTest(text))); s < 0.95 {
		t.Errorf("a copy without marks is %.2f similar", s)
	}
	if s := similarity(a, sig(text+" "+strings.Join(pages[2][3:6], " "))); s < 0.5 {
		t.Errorf("a copy with more text is %.2f similar", s)
	}
	if s := similarity(a, b); s > 0.15 {
		t.Errorf("two different articles are %.2f similar", s)
	}
	if compile(rulesTenant(nil)).check(&eventsv1.Article{Title: "Tin ngắn", Body: []*eventsv1.Block{paragraph("Quá ngắn để so sánh.")}}).fingerprint != nil {
		t.Error("a short article has a fingerprint")
	}
}

// foldForTest strips every mark, as text typed without a Vietnamese keyboard.
func foldForTest(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case r == 'đ':
			r = 'd'
		case r == 'Đ':
			r = 'D'
		case r >= 0x300 && r < 0x370:
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// The demo articles (structured copies of the real seed pages) are
// approved by a tenant without moderation rules, as before, and only
// style warnings are found in them.
func TestDemoArticlesPassTheDefaults(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testkit.RepoRoot(t), "deploy", "demo", "articles", "*.json"))
	if len(files) == 0 {
		t.Fatal("no demo articles")
	}
	var tenants []*tenant.Tenant
	raw, err := os.ReadFile(filepath.Join(testkit.RepoRoot(t), "deploy", "demo", "tenants.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &tenants); err != nil {
		var wrapped struct{ Tenants []*tenant.Tenant }
		if err2 := json.Unmarshal(raw, &wrapped); err2 != nil {
			t.Fatalf("tenants.json: %v / %v", err, err2)
		}
		tenants = wrapped.Tenants
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var a eventsv1.Article
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		a.Title, _ = fields["title"].(string)
		a.Lead, _ = fields["lead"].(string)
		a.Author, _ = fields["author"].(string)
		a.Category, _ = fields["category"].(string)
		if body, ok := fields["body"].([]any); ok {
			for _, x := range body {
				blk := x.(map[string]any)
				if txt, ok := blk["text"].(string); ok {
					a.Body = append(a.Body, paragraph(txt))
				} else {
					a.Body = append(a.Body, photo(fmt.Sprint(blk["caption"]), fmt.Sprint(blk["credit"])))
				}
			}
		}
		for _, tn := range tenants {
			if tn.ID == "" {
				continue
			}
			tn.Categories = append(tn.Categories, tenant.Category{Slug: a.Category, Name: a.Category})
			v := decide(compile(tn).check(&a).findings, tenant.PolicyAuto)
			t.Logf("%s for %s: %q", filepath.Base(f), tn.ID, short(v.Findings))
			if v.Decision != decisionApprove {
				t.Errorf("%s for %s: %s %q", filepath.Base(f), tn.ID, v.Decision, short(v.Findings))
			}
		}
	}
}
