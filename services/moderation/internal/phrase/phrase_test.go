package phrase

import (
	"fmt"
	"slices"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func find(m *Matcher, text string) []string {
	text = norm.NFC.String(text)
	var sc Scratch
	var out []string
	runes := []rune(text)
	m.Scan(text, &sc, func(mt Match) {
		a, b := sc.Tokens[mt.First].Start, sc.Tokens[mt.Last].End
		out = append(out, fmt.Sprintf("%d:%s@%d-%d", mt.Pattern, mt.Tier, a, b)+"="+string(runes[a:b]))
	})
	return out
}

func TestMatcher(t *testing.T) {
	b := NewBuilder()
	for _, p := range []string{"phản động", "du", "đánh bạc", "đánh bạc trực tuyến", "bạc trực", "Đảng Cộng sản Việt Nam", "", "a"} {
		b.Add(p, true)
	}
	m := b.Build()
	tests := []struct {
		text string
		want []string
	}{
		{"Luận điệu PHẢN ĐỘNG.", []string{"0:exact@10-19=PHẢN ĐỘNG"}},
		{"luận điệu phan dong", []string{"0:stripped@10-19=phan dong"}},
		{"phần đông cán bộ", []string{"0:folded@0-9=phần đông"}},
		{"giáo dục, ví dụ, dù, dư", []string{"1:folded@13-15=dụ", "1:folded@17-19=dù", "1:folded@21-23=dư"}},
		{"du lịch; Du", []string{"1:exact@0-2=du", "1:exact@9-11=Du"}},
		{"Cấm đánh bạc trực tuyến", []string{"2:exact@4-12=đánh bạc", "4:exact@9-17=bạc trực", "3:exact@4-23=đánh bạc trực tuyến"}},
		{"đánh bạc. Trực tuyến", []string{"2:exact@0-8=đánh bạc"}},
		{"ĐẢNG CỘNG SẢN VIỆT NAM", []string{"5:exact@0-22=ĐẢNG CỘNG SẢN VIỆT NAM"}},
		{"ÐẢNG cộng sản Việt Nam", []string{"5:exact@0-22=ÐẢNG cộng sản Việt Nam"}},
		{"dang cong san viet nam", []string{"5:stripped@0-22=dang cong san viet nam"}},
		{"phản  -  động", []string{"0:exact@0-13=phản  -  động"}},
		{"phản, động", nil},
		{"A a", []string{"6:exact@0-1=A", "6:exact@2-3=a"}},
	}
	for _, tt := range tests {
		got := find(m, tt.text)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q:\n got %q\nwant %q", tt.text, got, tt.want)
		}
	}
}

// The automaton agrees with a brute-force search over many overlapping
// patterns, including ones that are suffixes of others.
func TestMatcherAgreesWithBruteForce(t *testing.T) {
	syl := []string{"a", "b", "c", "d"}
	var pats [][]string
	for i := range 60 {
		n := 1 + i%4
		var p []string
		for j := range n {
			p = append(p, syl[(i*7+j*3+i/5)%4])
		}
		pats = append(pats, p)
	}
	b := NewBuilder()
	for _, p := range pats {
		b.Add(fmt.Sprint(p), true)
	}
	m := b.Build()
	text := []string{}
	for i := range 300 {
		text = append(text, syl[(i*i+3*i)%4])
	}
	var sc Scratch
	got := map[string]bool{}
	m.Scan(fmt.Sprint(text), &sc, func(mt Match) { got[fmt.Sprint(mt.Pattern, mt.First)] = true })
	want := map[string]bool{}
	for pi, p := range pats {
		for i := 0; i+len(p) <= len(text); i++ {
			if slices.Equal(text[i:i+len(p)], p) {
				want[fmt.Sprint(pi, i)] = true
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("found %d matches, want %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missed %s", k)
		}
	}
}
