package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/localstack"
	"github.com/blocpress/blocpress/libs/testkit"
)

func TestConfig(t *testing.T) {
	cfg, err := loadConfig(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != ":8083" || len(cfg.RedisAddrs) != 1 || cfg.RedisAddrs[0] != "127.0.0.1:6379" || cfg.BatchSize != 500 || cfg.ReaderSalt != "" ||
		cfg.TimeZone != "Asia/Ho_Chi_Minh" || len(cfg.SiteOrigins) != 1 || cfg.SiteOrigins[0] != "http://localhost:8080" ||
		cfg.IPRate != 2 || cfg.IPBurst != 60 || cfg.PublishTimeout != 3*time.Second || cfg.Aggregators != 1 || len(cfg.TrustedProxies) != 0 {
		t.Errorf("defaults = %+v", cfg)
	}
	cfg, err = loadConfig(envMap(map[string]string{"VIEW_COUNTER_READER_SALT": "pepper", "VIEW_COUNTER_BATCH_SIZE": "20"}))
	if err != nil || cfg.ReaderSalt != "pepper" || cfg.BatchSize != 20 {
		t.Errorf("loaded %+v, %v", cfg, err)
	}
	rendered := map[string]string{}
	for _, a := range config.LogAttrs(envPrefix, &cfg) {
		attr := a.(slog.Attr)
		rendered[attr.Key] = attr.Value.String()
	}
	if rendered["VIEW_COUNTER_READER_SALT"] != "***" || rendered["VIEW_COUNTER_BATCH_SIZE"] != "20" || rendered["NATS_URL"] == "" {
		t.Errorf("rendered configuration = %v, want the salt masked", rendered)
	}
	for name, bad := range map[string][]string{
		"BATCH_SIZE":      {"0", "1001", "x"},
		"TIMEZONE":        {"Mars/Olympus"},
		"SITE_ORIGINS":    {"localhost:8080", "http://localhost:8080/path"},
		"TRUSTED_PROXIES": {"10.0.0.0/33", "proxy"},
		"IP_RATE":         {"-1"},
		"MAX_BATCH_VIEWS": {"0", "5000"},
		"PUBLISHERS":      {"0"},
		"AGGREGATORS":     {"-1"},
	} {
		for _, v := range bad {
			if _, err := loadConfig(envMap(map[string]string{"VIEW_COUNTER_" + name: v})); err == nil {
				t.Errorf("%s=%s accepted", name, v)
			}
		}
	}
}

// TestRunWithRedisDown starts the whole service through run, as main does,
// with Redis unreachable: it must start, say so on /readyz, accept beacons,
// and stop cleanly when its context ends.
func TestRunWithRedisDown(t *testing.T) {
	n := testkit.NATS(t)
	putTenants(t, n.URL())
	closedPort, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	env := envMap(map[string]string{
		"NATS_URL":                n.URL(),
		"VIEW_COUNTER_HTTP_ADDR":  "127.0.0.1:0",
		"VIEW_COUNTER_REDIS_ADDR": "127.0.0.1:" + strconv.Itoa(closedPort),
	})
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, env, out) }()

	listening := regexp.MustCompile(`msg="http listening" .*addr=(\S+)`)
	var addr string
	waitFor(t, 30*time.Second, func() (bool, string) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
			return true, ""
		}
		return false, "no http listening line in the log:\n" + out.String()
	})

	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	// Ready: beacons are accepted without Redis, so a load balancer must
	// keep sending them; Redis is named.
	if resp.StatusCode != http.StatusOK || ready["nats"] != "ok" || ready["redis"] == "ok" || ready["redis"] == "" {
		t.Errorf("/readyz = %d %v, want 200 naming redis", resp.StatusCode, ready)
	}
	resp, err = postBeacon("http://"+addr, "hungyen", "abc", map[string]string{"User-Agent": chromeUA})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("beacon with Redis down: status %d, want 204", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	log := out.String()
	for _, want := range []string{"effective configuration", "VIEW_COUNTER_READER_SALT=", "READER_SALT is not set", "stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
