package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBotList(t *testing.T) {
	f, err := loadBots("")
	if err != nil {
		t.Fatal(err)
	}
	for ua, bot := range map[string]bool{
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)":                                                                                                                             true,
		"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)":                                                                                              true,
		"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": true,
		"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)":                                                                                                                                    true,
		"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)":                                                                                                                                  true,
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/W.X.Y.Z Safari/537.36 Google-InspectionTool/1.0":                                                             true,
		"WhatsApp/2.23.20.0 A":                 true,
		"TelegramBot (like TwitterBot)":        true,
		"Mozilla/5.0 (compatible; Lighthouse)": true,
		"Wget/1.21.4":                          true,
		"okhttp/4.12.0":                        true,
		"axios/1.6.2":                          true,
		"Mozilla/5.0 (Linux; Android 10; CUBOT_X20_PRO) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36":   false,
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15":         false,
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": false,
	} {
		if got := f.isBot([]byte(ua)); got != bot {
			t.Errorf("isBot(%q) = %v, want %v", ua, got, bot)
		}
		// The cached verdict is the same.
		if got := f.isBot([]byte(ua)); got != bot {
			t.Errorf("cached isBot(%q) = %v, want %v", ua, got, bot)
		}
	}
}

func TestBotListIsReplaceable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bots.txt")
	if err := os.WriteFile(path, []byte("# ours\nBlocpressProbe\nprobe\n!Probe-Human\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := loadBots(path)
	if err != nil {
		t.Fatal(err)
	}
	for ua, bot := range map[string]bool{
		"blocpressprobe/1":      true,
		"Googlebot/2.1":         false, // the built-in list is replaced
		"x PROBE-human y":       false, // "probe" inside the exception
		"blocpressprobe-human":  true,  // "blocpressprobe" is not inside it
		"probe-human and probe": true,
		"":                      true,
	} {
		if got := f.isBot([]byte(ua)); got != bot {
			t.Errorf("isBot(%q) = %v, want %v", ua, got, bot)
		}
	}
	for _, bad := range []string{"# nothing\n", "!\nbot\n"} {
		if _, err := parseBots([]byte(bad), "bad"); err == nil {
			t.Errorf("list %q accepted", bad)
		}
	}
	if _, err := loadBots(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "bot list") {
		t.Errorf("a missing file: %v", err)
	}
}

// naiveIsBot is the list's meaning, spelled out slowly.
func naiveIsBot(patterns, exceptions []string, ua string) bool {
	if ua == "" || len(ua) > maxUserAgent {
		return true
	}
	lower := strings.ToLower(ua)
	for _, p := range patterns {
		for i := 0; i+len(p) <= len(lower); i++ {
			if lower[i:i+len(p)] != p {
				continue
			}
			inside := false
			for _, e := range exceptions {
				for j := max(0, i+len(p)-len(e)); j <= i && j+len(e) <= len(lower); j++ {
					if lower[j:j+len(e)] == e {
						inside = true
					}
				}
			}
			if !inside {
				return true
			}
		}
	}
	return false
}

func TestBotAutomatonAgreesWithTheNaiveReading(t *testing.T) {
	patterns := []string{"bot", "crawl", "cubot-x", "ab", "abc", "bc", "c"}
	exceptions := []string{"cubot", "xabcx"}
	f, err := compileBots(patterns, exceptions)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := "abcotuxrwlBC-/ "
	for range 20000 {
		b := make([]byte, r.IntN(14))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		ua := string(b)
		if got, want := f.isBot(b), naiveIsBot(patterns, exceptions, ua); got != want {
			t.Fatalf("isBot(%q) = %v, the naive reading says %v", ua, got, want)
		}
	}
}

func BenchmarkIsBot(b *testing.B) {
	f, _ := loadBots("")
	ua := []byte(chromeUA)
	b.ReportAllocs()
	for b.Loop() {
		f.isBot(ua)
	}
}
