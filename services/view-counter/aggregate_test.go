package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/testkit"
)

func TestReplayedBatchCountsOnce(t *testing.T) {
	r := testkit.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	batch := []view{{Seq: 1, Article: "aaa"}, {Seq: 2, Article: "aaa"}, {Seq: 3, Article: "bbb"}}
	if n, err := countViews(ctx, rdb, "hungyen", batch); err != nil || n != 3 {
		t.Fatalf("first apply: %d, %v; want 3", n, err)
	}
	// The aggregator died after Redis but before its acks: the same batch again.
	if n, err := countViews(ctx, rdb, "hungyen", batch); err != nil || n != 0 {
		t.Fatalf("replayed apply: %d, %v; want 0", n, err)
	}
	// A later batch overlapping the first counts only what is new.
	if n, err := countViews(ctx, rdb, "hungyen", []view{{Seq: 3, Article: "bbb"}, {Seq: 4, Article: "bbb"}}); err != nil || n != 1 {
		t.Fatalf("overlapping apply: %d, %v; want 1", n, err)
	}
	// The same sequence in another tenant is another message.
	if n, err := countViews(ctx, rdb, "namdinh", batch[:1]); err != nil || n != 1 {
		t.Fatalf("other tenant: %d, %v; want 1", n, err)
	}

	for key, want := range map[string]string{
		"views:{hungyen}:a:aaa": "2",
		"views:{hungyen}:a:bbb": "2",
		"views:{namdinh}:a:aaa": "1",
	} {
		if got, err := rdb.Get(ctx, key).Result(); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %s", key, got, err, want)
		}
	}
	ttl, err := rdb.TTL(ctx, "views:{hungyen}:seen:1").Result()
	if err != nil || ttl <= 6*24*time.Hour || ttl > seenTTL {
		t.Errorf("seen key TTL = %s, %v; want about 7 days", ttl, err)
	}
}

func TestViewsSurviveARedisOutage(t *testing.T) {
	h := newHarness(t)
	h.redis.Stop()

	h.beacons("hungyen", "outage", 20) // only JetStream is needed to accept them

	if _, resp := h.counts("hungyen", "outage"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("counts while Redis is down: status %d, want 503", resp.StatusCode)
	}
	resp, err := http.Get(h.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz while Redis is down: status %d, want 503", resp.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.redis.Start(ctx); err != nil {
		t.Fatalf("restarting redis: %v", err)
	}
	h.waitCount("hungyen", "outage", 20)
	h.waitDrained(bus.ConsumerViewCounter)
	if c, _ := h.counts("hungyen", "outage"); c["outage"] != 20 {
		t.Errorf("after the outage: %d views, want exactly 20", c["outage"])
	}
}

func TestViewsSurviveANATSRestart(t *testing.T) {
	h := newHarness(t)
	h.beacons("hungyen", "restart", 5)
	h.waitCount("hungyen", "restart", 5)

	if err := h.nats.Restart(); err != nil {
		t.Fatalf("restarting nats: %v", err)
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		if err := h.svc.bus.Ready(context.Background()); err != nil {
			return false, err.Error()
		}
		return true, ""
	})

	h.beacons("hungyen", "restart", 5)
	h.waitCount("hungyen", "restart", 10)
	h.waitDrained(bus.ConsumerViewCounter)
	if c, _ := h.counts("hungyen", "restart"); c["restart"] != 10 {
		t.Errorf("after the restart: %d views, want exactly 10", c["restart"])
	}
}

func TestMalformedViewsDoNotBlockTheStream(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	envelope := func(tenantID, article string) []byte {
		return mustMarshal(t, &eventsv1.Envelope{Id: "x", Type: bus.TypeView, Tenant: tenantID,
			Payload: &eventsv1.Envelope_View{View: &eventsv1.View{ArticleId: article}}})
	}
	for _, data := range [][]byte{
		[]byte("not a protobuf \xff\xff\xff"),
		envelope("namdinh", "spoofed"), // another tenant's view on hungyen's subject
		envelope("hungyen", "BAD.ID"),
		mustMarshal(t, &eventsv1.Envelope{Id: "y", Type: bus.TypeView, Tenant: "hungyen"}), // no payload
	} {
		if _, err := h.js().Publish(ctx, "views.hungyen", data); err != nil {
			t.Fatal(err)
		}
	}
	h.beacons("hungyen", "good", 1)

	h.waitCount("hungyen", "good", 1)
	h.waitDrained(bus.ConsumerViewCounter)
	c, _ := h.counts("hungyen", "good", "spoofed")
	if c["good"] != 1 || c["spoofed"] != 0 {
		t.Errorf("counts = %v, want good:1 spoofed:0", c)
	}
	if c, _ := h.counts("namdinh", "spoofed"); c["spoofed"] != 0 {
		t.Errorf("a view published on another tenant's subject was counted: %v", c)
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
