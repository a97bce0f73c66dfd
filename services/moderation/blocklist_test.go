package main

import (
	"slices"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestBlocklistMatchesWholeWordsOnly(t *testing.T) {
	tests := []struct {
		terms []string
		text  string
		want  []string
	}{
		{[]string{"du"}, "Đổi mới giáo dục", nil},
		{[]string{"du"}, "Ví dụ minh họa", nil},
		{[]string{"du"}, "Phát triển du lịch", []string{"du"}},
		{[]string{"du"}, "du", []string{"du"}},
		{[]string{"du"}, "(du)", []string{"du"}},
		{[]string{"du"}, "dulịch du2 2du", nil}, // letters and digits continue a word
		{[]string{"phản động"}, "Luận điệu PHẢN ĐỘNG, sai trái", []string{"phản động"}},
		{[]string{"phản động"}, norm.NFD.String("luận điệu phản động"), []string{"phản động"}},
		{[]string{norm.NFD.String("Phản Động")}, "phản động", []string{norm.NFD.String("Phản Động")}},
		{[]string{"phản động"}, "phản\u00a0 \n động", []string{"phản động"}}, // any white space
		{[]string{"phản động"}, "phản độngs", nil},
		{[]string{"phản động"}, "phản", nil},
		{[]string{"tin giả", "  ", "lừa đảo"}, "Cảnh giác lừa đảo và tin giả.", []string{"tin giả", "lừa đảo"}},
		{[]string{"a"}, "aaa a", []string{"a"}}, // a later occurrence at a boundary
		{[]string{"đảng"}, "ĐẢNG", []string{"đảng"}},
		{nil, "anything", nil},
		{[]string{"x"}, "", nil},
	}
	for _, tt := range tests {
		if got := newBlocklist(tt.terms).find(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("terms %q in %q: found %q, want %q", tt.terms, tt.text, got, tt.want)
		}
	}
}

func TestNFDLeavesNoPartialMatch(t *testing.T) {
	// In NFD "dục" is d, u, combining dot below, c: "du" is a prefix of it
	// there, and only NFC (or treating marks as letters) keeps it apart.
	if containsWord(norm.NFD.String("dục"), "du") {
		t.Error(`"du" matched inside NFD "dục"`)
	}
	if containsWord("du\u0323", "du") { // a combining mark continues the word
		t.Error(`"du" matched before a combining mark`)
	}
}
