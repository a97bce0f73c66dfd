package vntext

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func words(text string) []string {
	var out []string
	for _, t := range Tokenize(text, nil, nil) {
		out = append(out, text[t.BStart:t.BEnd])
	}
	return out
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Phản Động":                        "phan dong",
		norm.NFD.String("PHẢN ĐỘNG"):       "phan dong",
		"ÐẢNG":                             "dang", // U+00D0
		"Đảng Cộng sản Việt Nam":           "dang cong san viet nam",
		"hòa hoà thủy thuỷ":                "hoa hoa thuy thuy",
		"рhản đ\u200Bộng":                  "phan dong", // Cyrillic р, a zero-width space inside a word
		"Ｈà Ｎội, 24/4/2019 – “trích dẫn”…": "ha noi 24 4 2019 trich dan",
		"kinh tế - xã hội":                 "kinh te xa hoi",
		"":                                 "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenOffsetsAreRunesOfTheText(t *testing.T) {
	text := "Sáng 24/4, “Đảng ủy” họp."
	toks := Tokenize(text, nil, nil)
	var got []string
	runes := []rune(text)
	for _, tk := range toks {
		got = append(got, string(runes[tk.Start:tk.End]))
		if string(runes[tk.Start:tk.End]) != text[tk.BStart:tk.BEnd] {
			t.Errorf("rune and byte offsets disagree: %+v", tk)
		}
	}
	if strings.Join(got, "|") != "Sáng|24|4|Đảng|ủy|họp" {
		t.Errorf("tokens %q", got)
	}
	if toks[2].Flags&HardBefore == 0 || toks[3].Flags&HardBefore == 0 || toks[4].Flags&HardBefore != 0 {
		t.Errorf("hard separators: %+v", toks)
	}
	if toks[0].Flags&Capital == 0 || toks[4].Flags&Capital != 0 || toks[3].Flags&HasLower == 0 {
		t.Errorf("case flags: %+v", toks)
	}
	if w := words("PHẢN\u00a0ĐỘNG"); len(w) != 2 || Tokenize("PHẢN", nil, nil)[0].Flags&HasLower != 0 {
		t.Errorf("upper case: %q", w)
	}
}

func TestSyllables(t *testing.T) {
	syl := func(s string) Syllable { return ReadSyllable(norm.NFC.String(s), nil) }
	same := [][2]string{
		{"hòa", "hoà"}, {"thủy", "thuỷ"}, {"Hoà", "HÒA"}, {"ĐẢNG", "ÐẢNG"}, {"đảng", "ðảng"},
		{"phản", "pha\u0309n"}, {"động", "đo\u0302\u0323ng"}, {"động", "đo\u0323\u0302ng"},
		{"phản", "рhản"}, {"của", "сủа"}, {"ă", "а\u0306"}, {"đ", "d\u0335"}, {"khuya", "khuya"},
	}
	for _, p := range same {
		if a, b := syl(p[0]), syl(p[1]); !a.Equal(b) {
			t.Errorf("%q %v and %q %v differ", p[0], a, p[1], b)
		}
	}
	for _, p := range [][2]string{{"hòa", "hóa"}, {"du", "dụ"}, {"phần", "phản"}, {"đông", "động"}, {"dang", "đang"}} {
		if syl(p[0]).Equal(syl(p[1])) {
			t.Errorf("%q and %q are equal", p[0], p[1])
		}
	}
	stripped := [][2]string{{"phan", "phản"}, {"dong", "động"}, {"đong", "động"}, {"đông", "động"}, {"dông", "động"}, {"phản", "phản"}}
	for _, p := range stripped {
		if !syl(p[0]).Stripped(syl(p[1])) {
			t.Errorf("%q is not a stripped %q", p[0], p[1])
		}
	}
	for _, p := range [][2]string{{"phần", "phản"}, {"đông", "dong"}, {"dộng", "đông"}, {"dục", "du"}, {"du", "dục"}} {
		if syl(p[0]).Stripped(syl(p[1])) {
			t.Errorf("%q is a stripped %q", p[0], p[1])
		}
	}
}

func TestLookAlikeFlagAndCanonical(t *testing.T) {
	for _, s := range []string{"ÐẢNG", "рhản", "Ｈà"} {
		if Tokenize(s, nil, nil)[0].Flags&LookAlike == 0 {
			t.Errorf("%q not flagged", s)
		}
	}
	if Tokenize("Đảng", nil, nil)[0].Flags&LookAlike != 0 {
		t.Error("Đảng flagged")
	}
	if got := Canonical("ÐẢNG рhа\u0309n"); got != "ĐẢNG phản" {
		t.Errorf("Canonical = %q", got)
	}
}

func TestTokenExactHashIsTheSyllables(t *testing.T) {
	text := norm.NFC.String("Hoà hòa HOÀ ho\u0300a рhản а\u0306n ÐẢNG đảng x\u0308y phan dong 2019 Ｈà")
	toks := Tokenize(text, nil, nil)
	for i, tk := range toks {
		s := text[tk.BStart:tk.BEnd]
		if want := ReadSyllable(s, nil).Hash(); tk.Exact != want {
			t.Errorf("%q: token hash %x, syllable hash %x", s, tk.Exact, want)
		}
		if bare := ReadSyllable(s, nil).Bare(); bare != (tk.Flags&Bare != 0) {
			t.Errorf("%q: bare flag %v, syllable %v", s, tk.Flags&Bare != 0, bare)
		}
		if i > 0 && i < 4 && tk.Exact != toks[0].Exact {
			t.Errorf("%q differs from %q", s, text[toks[0].BStart:toks[0].BEnd])
		}
	}
	if toks[6].Exact != toks[7].Exact {
		t.Error("ÐẢNG and đảng differ")
	}
}

func TestNFC(t *testing.T) {
	for _, s := range []string{
		"Đảng Cộng sản Việt Nam – “Hội nghị” … 24/4",
		norm.NFD.String("Đảng Cộng sản Việt Nam"),
		"pha\u0309n", "\u2000x\u2001", "Ω K Å", "рhа\u0309n", "x\u0340", "한국어", "",
	} {
		if got, want := NFC(s), norm.NFC.String(s); got != want {
			t.Errorf("NFC(%q) = %q, want %q", s, got, want)
		}
	}
}
