package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/localstack"
)

// startChild runs view-counter as its own process (this test binary, see
// TestMain) with env.
func startChild(t *testing.T, env map[string]string) *localstack.Process {
	t.Helper()
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	full := append(os.Environ(), childEnv+"=1", "VIEW_COUNTER_HTTP_ADDR="+addr)
	for k, v := range env {
		if k != "VIEW_COUNTER_HTTP_ADDR" {
			full = append(full, k+"="+v)
		}
	}
	p := localstack.NewProcess(localstack.ProcessSpec{
		Name: "view-counter", Addr: addr, Bin: os.Args[0], Env: full, Log: t.Output(),
		Ready: localstack.HTTPReady("http://" + addr + "/readyz"),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatalf("starting view-counter: %v", err)
	}
	t.Cleanup(p.Stop)
	return p
}

// The aggregator process is killed (SIGKILL) three times at random moments
// while beacons keep coming to a front that stays up; each time a new one
// takes over. Whatever the killed one had folded but not acknowledged comes
// back after AckWait and is skipped; whatever it had not folded is folded.
func TestAggregatorProcessKilledAtRandomMoments(t *testing.T) {
	h := newHarness(t, map[string]string{"VIEW_COUNTER_AGGREGATORS": "0"})
	env := testEnv(h.nats, h.redis, map[string]string{"VIEW_COUNTER_AGGREGATORS": "2", "VIEW_COUNTER_BATCH_SIZE": "20"})
	const article = "killed"
	l := h.startLoad("hungyen", article, 2*time.Millisecond, 4)
	for i := range 3 {
		p := startChild(t, env)
		d := time.Duration(300+rand.IntN(1200)) * time.Millisecond
		time.Sleep(d)
		p.Kill()
		c, _ := h.counts("hungyen", article)
		t.Logf("kill %d after %s: %d views counted so far", i+1, d, c[article])
	}
	accepted, refused := l.finish()
	if refused != 0 {
		t.Errorf("%d beacons refused; the front never stopped", refused)
	}
	final := startChild(t, env)
	defer final.Stop()
	h.waitCountWithin("hungyen", article, accepted, time.Minute)
	h.waitDrained("view-counter")
	c, _ := h.counts("hungyen", article)
	if c[article] != accepted {
		t.Errorf("after three kills: %d views, want exactly the %d accepted", c[article], accepted)
	}
	var metrics string
	if resp := getText(t, "http://"+final.Addr+"/metrics", &metrics); resp == 200 {
		t.Logf("%d accepted, %d counted; the last aggregator: %s", accepted, c[article], grepMetric(metrics, "view_counter_views_duplicate_total"))
	}
}

func getText(t *testing.T, url string, out *string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	*out = string(b)
	return resp.StatusCode
}

func grepMetric(text, name string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, name) {
			return line
		}
	}
	return name + " not found"
}
