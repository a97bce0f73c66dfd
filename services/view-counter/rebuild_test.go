package main

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blocpress/blocpress/libs/bus"
)

// snapshot is everything the read API says about a tenant.
type snapshot struct {
	Counts     map[string]int64
	Readers    map[string]int64
	Today      []rankedArticle
	Week       []rankedArticle
	All        []rankedArticle
	Categories map[string]int64
}

func (h *harness) snapshot(tenantID string, ids ...string) snapshot {
	h.t.Helper()
	var s snapshot
	s.Counts, _ = h.counts(tenantID, ids...)
	var readers struct {
		Readers map[string]int64 `json:"readers"`
	}
	h.getJSON("/v1/tenants/"+tenantID+"/views/readers?ids="+strings.Join(ids, ","), &readers)
	s.Readers = readers.Readers
	s.Today = h.mostRead(tenantID, "?period=today").Articles
	s.All = h.mostRead(tenantID, "?period=all").Articles
	s.Categories = h.categories(tenantID)
	// The week's list is cached for 30 s; read it fresh.
	if err := h.svc.rdb.Del(context.Background(), topWeekKey(tenantID, h.svc.agg.cal.day(time.Now()))).Err(); err != nil {
		h.t.Fatal(err)
	}
	s.Week = h.mostRead(tenantID, "?period=week").Articles
	return s
}

func (h *harness) rebuild(args ...string) string {
	h.t.Helper()
	env := testEnv(h.nats, h.redis, nil)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := runRebuild(ctx, args, envMap(env), &out); err != nil {
		h.t.Fatalf("rebuild: %v\n%s", err, out.String())
	}
	return out.String()
}

func TestRebuildRecomputesEverythingAfterRedisLosesItsData(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ids := []string{"legacy", "popular", "moved", "removed", "early"}
	h.publish(
		published("hungyen", "legacy", 1, 1566, "tin-tuc-su-kien"),
		published("hungyen", "popular", 1, 0, "tin-tuc-su-kien"),
		published("hungyen", "moved", 1, 12, "tin-tuc-su-kien"),
		published("hungyen", "removed", 1, 0, "xay-dung-dang"),
		published("namdinh", "legacy", 1, 696, "tin-tuc"),
	)
	h.waitDrained(bus.ConsumerViewBaseCounts)
	h.beacons("hungyen", "legacy", 3)
	h.beacons("hungyen", "popular", 7)
	h.beacons("hungyen", "removed", 2)
	h.beacons("hungyen", "early", 2) // viewed before its article.published
	h.beacons("namdinh", "legacy", 4)
	for range 3 { // one reader, three times: one view
		h.beaconWith("hungyen", "moved", map[string]string{"User-Agent": chromeUA})
	}
	h.waitDrained(bus.ConsumerViewCounter)
	h.publish(
		published("hungyen", "early", 1, 0, "xay-dung-dang"),
		published("hungyen", "moved", 2, 12, "xay-dung-dang"),
		unpublished("hungyen", "removed", 2),
	)
	h.waitDrained(bus.ConsumerViewBaseCounts)
	want := h.snapshot("hungyen", ids...)
	wantNamdinh := h.snapshot("namdinh", "legacy")
	if want.Counts["legacy"] != 1569 || want.Counts["moved"] != 13 || want.Categories["xay-dung-dang"] != 13+2+2 || len(want.All) != 4 {
		t.Fatalf("before the loss: %+v", want)
	}

	// Redis loses everything.
	if err := h.svc.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if c, _ := h.counts("hungyen", "legacy"); c["legacy"] != 0 {
		t.Fatalf("after FLUSHALL: %v", c)
	}

	out := h.rebuild()
	t.Log(out)
	if !strings.Contains(out, "rebuilt hungyen:") || !strings.Contains(out, "rebuilt namdinh:") {
		t.Errorf("rebuild output lacks a tenant:\n%s", out)
	}
	if got := h.snapshot("hungyen", ids...); !reflect.DeepEqual(got, want) {
		t.Errorf("after the rebuild:\n%+v\nwant\n%+v", got, want)
	}
	if got := h.snapshot("namdinh", "legacy"); !reflect.DeepEqual(got, wantNamdinh) {
		t.Errorf("namdinh after the rebuild:\n%+v\nwant\n%+v", got, wantNamdinh)
	}

	// Rebuilding again, with the data there, changes nothing.
	h.rebuild("-tenant", "hungyen")
	if got := h.snapshot("hungyen", ids...); !reflect.DeepEqual(got, want) {
		t.Errorf("after a second rebuild:\n%+v\nwant\n%+v", got, want)
	}

	// Counting goes on: the reader who read "moved" minutes ago still does
	// not count again, a new one does.
	h.beaconWith("hungyen", "moved", map[string]string{"User-Agent": chromeUA})
	h.beacons("hungyen", "moved", 1)
	h.waitDrained(bus.ConsumerViewCounter)
	if c, _ := h.counts("hungyen", "moved"); c["moved"] != 14 {
		t.Errorf("after the rebuild, one repeat and one new reader: %d, want 14", c["moved"])
	}
}

// While a rebuild holds a tenant, beacons are accepted and their views wait
// in JetStream; live folding never writes under the rebuild.
func TestViewsWaitWhileATenantIsRebuilt(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.svc.rdb.Set(ctx, rebuildingKey("hungyen"), "someone", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	h.beacons("hungyen", "waiting", 5)
	h.beacons("namdinh", "other", 2)
	h.waitCount("namdinh", "other", 2) // other tenants are not held up
	time.Sleep(3 * nakDelay)
	if c, _ := h.counts("hungyen", "waiting"); c["waiting"] != 0 {
		t.Errorf("views folded under a rebuild: %v", c)
	}
	// A second rebuild is refused while the lock is held.
	var out bytes.Buffer
	err := runRebuild(ctx, []string{"-tenant", "hungyen"}, envMap(testEnv(h.nats, h.redis, nil)), &out)
	if err == nil || !strings.Contains(err.Error(), "another rebuild") {
		t.Errorf("a rebuild under another's lock: %v", err)
	}
	if err := h.svc.rdb.Del(ctx, rebuildingKey("hungyen")).Err(); err != nil {
		t.Fatal(err)
	}
	h.waitCount("hungyen", "waiting", 5)
}

func TestRepeatsInMemoryFollowTheFoldScript(t *testing.T) {
	r := newRepeats()
	t0 := int64(1_800_000_000)
	for i, c := range []struct {
		article, reader string
		at              int64
		want            bool
	}{
		{"a", "r1", t0, true},
		{"a", "r1", t0 + 60, false},
		{"a", "r2", t0 + 60, true},
		{"b", "r1", t0 + 60, true},
		{"a", "r1", t0 + 1799, false},
		{"a", "r1", t0 + 1800, true},
		{"a", "r1", t0 + 1790, false}, // late, and close to the last counted view
		{"a", "r1", t0 - 5, true},     // late, and far from it
	} {
		if got := r.count(c.article, c.reader, c.at); got != c.want {
			t.Errorf("view %d (%s by %s at +%ds): counted %v, want %v", i, c.article, c.reader, c.at-t0, got, c.want)
		}
	}
}

func TestDeleteTenantKeysKeepsOtherTenantsAndTheLock(t *testing.T) {
	rdb := testRedis(t)
	ctx := context.Background()
	for i := range 1200 {
		rdb.Set(ctx, baseKey("hungyen", fmt.Sprint(i)), 1, 0)
	}
	rdb.Set(ctx, baseKey("hungyen-2", "x"), 1, 0)
	rdb.Set(ctx, rebuildingKey("hungyen"), "me", 0)
	n, err := deleteTenantKeys(ctx, redis.UniversalClient(rdb), "hungyen")
	if err != nil || n != 1200 {
		t.Fatalf("deleted %d, %v; want 1200", n, err)
	}
	if left, _ := rdb.DBSize(ctx).Result(); left != 2 {
		t.Errorf("%d keys left, want the lock and the other tenant's", left)
	}
}
