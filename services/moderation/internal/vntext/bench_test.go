package vntext

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkTokenize reads a real seed page (moderation's testdata/seeds)
// into tokens, with a dictionary lookup per token.
func BenchmarkTokenize(b *testing.B) {
	files, _ := filepath.Glob("../../testdata/seeds/*.txt")
	if len(files) == 0 {
		b.Fatal("no seed pages")
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		b.Fatal(err)
	}
	text := NFC(string(raw))
	d := NewDict()
	for _, t := range Tokenize(text, nil, nil) {
		d.Add(FoldKey(text[t.BStart:t.BEnd]))
	}
	var toks []Token
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		toks = Tokenize(text, d, toks[:0])
	}
}
