package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/blocpress/blocpress/libs/tenant"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
	"github.com/blocpress/blocpress/services/moderation/internal/vntext"
)

// seedParagraphs reads the five scraped seed pages (copied from the
// project's shared/seeds into testdata/seeds, so a bare checkout has them):
// one slice of non-empty paragraphs per page.
func seedParagraphs(tb testing.TB) [][]string {
	tb.Helper()
	dir := filepath.Join("testdata", "seeds")
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no seed pages in %s (%v)", dir, err)
	}
	var out [][]string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var paras []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				paras = append(paras, l)
			}
		}
		out = append(out, paras)
	}
	return out
}

func wordCount(s string) int { return len(strings.Fields(s)) }

// benchArticles are articles of at least minWords words made of the seed
// pages' real paragraphs, one starting at each page, each with two photos.
func benchArticles(tb testing.TB, minWords int) []*eventsv1.Article {
	pages := seedParagraphs(tb)
	var all []string
	for _, p := range pages {
		all = append(all, p...)
	}
	var out []*eventsv1.Article
	start := 0
	for i, p := range pages {
		a := &eventsv1.Article{
			Id: fmt.Sprintf("bench%011d", i), Revision: 1, Category: "tin-tuc",
			Title: p[1], Lead: p[min(3, len(p)-1)], Author: "Lam Hồng", Source: &eventsv1.Source{Name: "baonamdinh.vn", Url: "https://baonamdinh.vn/"},
		}
		words := 0
		for j := start; words < minWords; j++ {
			text := all[j%len(all)]
			a.Body = append(a.Body, &eventsv1.Block{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: text}}})
			words += wordCount(text)
			if len(a.Body) == 3 || len(a.Body) == 9 {
				a.Body = append(a.Body, &eventsv1.Block{Kind: &eventsv1.Block_Image{Image: &eventsv1.Image{
					MediaId: strings.Repeat("ab", 32), Caption: "Các đại biểu dự Hội nghị", Credit: "Lam Hồng"}}})
			}
		}
		start += len(p)
		out = append(out, a)
	}
	return out
}

// benchBlocklist is n terms of one to three syllables: a few real ones, the
// rest drawn from the seeds' own syllables and from made-up but well-formed
// Vietnamese syllables, so that the automaton walks real prefixes of the
// text without every article being full of matches.
func benchBlocklist(tb testing.TB, n int) []tenant.BlockedTerm {
	// seen holds the seeds' syllables in exact form (letters and tone), so
	// that a made-up syllable is not one of them with its tone mark moved.
	exact := func(s string) string {
		syl := vntext.ReadSyllable(s, nil)
		return string(syl.Letters) + string(rune('0'+syl.Tone))
	}
	seen := map[string]bool{}
	var vocab []string
	for _, p := range seedParagraphs(tb) {
		for _, para := range p {
			text := norm.NFC.String(para)
			for _, t := range vntext.Tokenize(text, nil, nil) {
				s := strings.ToLower(text[t.BStart:t.BEnd])
				if !seen[exact(s)] && len(s) > 1 {
					seen[exact(s)] = true
					vocab = append(vocab, s)
				}
			}
		}
	}
	onsets := strings.Fields("b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x")
	rhymes := strings.Fields("a ai ao au ay âu ây ă ăn âm e eo ê êu i ia iêu o oa oai oe oi ô ôi ơ ơi u ua uân ưa ươi ươu uy uyên ư an ang anh ăng âng en eng ênh in inh on ong ôn ông ơn un ung ưng ươn ương at ac ach ăt âc et êch it ich ot oc ôt ôc ơt ut uc ưt ưc")
	tones := []string{"", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"}
	rng := rand.New(rand.NewPCG(5, 20000))
	made := func() string {
		for {
			s := norm.NFC.String(onsets[rng.IntN(len(onsets))] + rhymes[rng.IntN(len(rhymes))] + tones[rng.IntN(len(tones))])
			if !seen[exact(s)] {
				return s
			}
		}
	}
	terms := []tenant.BlockedTerm{{Term: "phản động"}, {Term: "cờ bạc"}, {Term: "tin giả"}, {Term: "lừa đảo", Severity: "hold"},
		{Term: "đánh bạc trực tuyến"}, {Term: "xuyên tạc"}, {Term: "thù địch"}, {Term: "bạo loạn"}, {Term: "khủng bố"}, {Term: "chống phá"}}
	for len(terms) < n {
		k := 1 + rng.IntN(3)
		syl := make([]string, k)
		for j := range syl {
			if k > 1 && rng.IntN(2) == 0 {
				syl[j] = vocab[rng.IntN(len(vocab))]
			} else {
				syl[j] = made()
			}
		}
		terms = append(terms, tenant.BlockedTerm{Term: strings.Join(syl, " ")})
	}
	return terms
}

func benchTenant(tb testing.TB) *tenant.Tenant {
	return &tenant.Tenant{ID: "bench", Name: "Đảng bộ Khối", Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}},
		Moderation: &tenant.Moderation{Blocklist: benchBlocklist(tb, 20000)}}
}

// articleText is every text of an article a reader sees, for the naive loop.
func articleText(a *eventsv1.Article) string {
	parts := []string{a.GetTitle(), a.GetLead()}
	for _, b := range a.GetBody() {
		parts = append(parts, b.GetParagraph().GetText(), b.GetImage().GetCaption(), b.GetImage().GetCredit())
	}
	return strings.Join(append(parts, a.GetAuthor(), a.GetSource().GetName()), "\n")
}

// cpuTime is the CPU time the process has used. On a machine shared with
// other work, wall-clock time per article says more about the neighbours
// than about the code; with -cpu 1 the process's CPU time is one core's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports articles per CPU-second since start.
func reportCPU(b *testing.B, start time.Duration) {
	if used := cpuTime() - start; used > 0 {
		b.ReportMetric(float64(b.N)/used.Seconds(), "articles/cpu-s")
	}
}

// BenchmarkModeration checks real articles against a 20,000-term blocklist:
// "rules" is every check moderation runs (all the tenant's phrase rules in
// one Aho-Corasick pass per field, look-alikes, lengths, the duplicate
// fingerprint); "naive" folds the same text and loops strings.Contains over
// the folded terms. Run with -cpu 1 for articles per second per core
// ("articles/cpu-s" counts the process's CPU time, so neighbours on a
// shared machine do not change it; "articles/s" is wall-clock time):
//
//	go test -run '^$' -bench Moderation -cpu 1 -benchtime 3s
func BenchmarkModeration(b *testing.B) {
	tn := benchTenant(b)
	b.Run("compile", func(b *testing.B) {
		// What a change of the tenant's rules costs once, on the next article.
		for b.Loop() {
			compile(tn)
		}
	})
	rs := compile(tn)
	folded := make([]string, 0, len(tn.Moderation.Blocklist))
	for _, t := range tn.Moderation.Blocklist {
		folded = append(folded, vntext.Fold(t.Term))
	}
	for _, size := range []struct {
		name  string
		words int
	}{{"1000words", 1000}, {"6000words", 6000}} {
		articles := benchArticles(b, size.words)
		words := 0
		for _, a := range articles {
			words += wordCount(articleText(a))
		}
		b.Run("rules/"+size.name, func(b *testing.B) {
			found := 0
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				found += len(rs.check(articles[i%len(articles)]).findings)
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
			b.ReportMetric(float64(words)/float64(len(articles)), "words/article")
			b.ReportMetric(float64(found)/float64(b.N), "findings/article")
		})
		b.Run("naive/"+size.name, func(b *testing.B) {
			found := 0
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				text := vntext.Fold(articleText(articles[i%len(articles)]))
				for _, t := range folded {
					if strings.Contains(text, t) {
						found++
					}
				}
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
			b.ReportMetric(float64(found)/float64(b.N), "matches/article")
		})
	}
}
