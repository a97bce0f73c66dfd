package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/bus"
)

type mostRead struct {
	Period   string          `json:"period"`
	From     string          `json:"from"`
	To       string          `json:"to"`
	Articles []rankedArticle `json:"articles"`
}

func (h *harness) mostRead(tenantID, query string) mostRead {
	h.t.Helper()
	var body mostRead
	if resp := h.getJSON("/v1/tenants/"+tenantID+"/views/most-read"+query, &body); resp.StatusCode != http.StatusOK {
		h.t.Fatalf("most-read%s: status %d", query, resp.StatusCode)
	}
	return body
}

func rankedIDs(list []rankedArticle) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.ID
	}
	return out
}

func TestMostReadListsAndUniqueReaders(t *testing.T) {
	h := newHarness(t)
	rdb := h.svc.rdb
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.publish(
		published("hungyen", "popular", 1, 0, "tin-tuc-su-kien"),
		published("hungyen", "legacy", 1, 5000, "xay-dung-dang"),
		published("hungyen", "second", 1, 0, "tin-tuc-su-kien"),
		published("hungyen", "yesterday", 1, 0, "tin-tuc-su-kien"),
		published("hungyen", "removed", 1, 0, "tin-tuc-su-kien"),
	)
	h.waitDrained(bus.ConsumerViewBaseCounts)
	h.beacons("hungyen", "popular", 5)
	h.beacons("hungyen", "second", 3)
	h.beacons("hungyen", "removed", 9)
	h.beacons("hungyen", "neverpublished", 20) // no page behind it: left out of lists
	// One reader three times: one view, one reader.
	for range 3 {
		h.beaconWith("hungyen", "second", map[string]string{"User-Agent": chromeUA})
	}
	h.waitDrained(bus.ConsumerViewCounter)
	// "yesterday" was read three days ago: this week, not today.
	cal := h.svc.agg.cal
	old := time.Now().AddDate(0, 0, -3)
	if _, err := foldViews(ctx, rdb, cal, "hungyen", foldLive, time.Now(), []viewMsg{
		{Seq: 1 << 40, At: old, Views: []view{v("yesterday", "01"), v("yesterday", "02"), v("yesterday", "03"), v("yesterday", "04"), v("yesterday", "05"), v("yesterday", "06")}},
	}); err != nil {
		t.Fatal(err)
	}
	h.publish(unpublished("hungyen", "removed", 2))
	h.waitDrained(bus.ConsumerViewBaseCounts)

	today := h.mostRead("hungyen", "")
	if got := rankedIDs(today.Articles); len(got) != 2 || got[0] != "popular" || got[1] != "second" || today.Period != "today" || today.From != today.To {
		t.Errorf("today = %+v, want popular, second", today)
	}
	if today.Articles[0].Views != 5 || today.Articles[0].Category != "tin-tuc-su-kien" || today.Articles[1].Views != 4 {
		t.Errorf("today = %+v", today.Articles)
	}
	week := h.mostRead("hungyen", "?period=week")
	if got := rankedIDs(week.Articles); len(got) != 3 || got[0] != "yesterday" || got[1] != "popular" || got[2] != "second" || week.From >= week.To {
		t.Errorf("week = %+v, want yesterday, popular, second", week)
	}
	all := h.mostRead("hungyen", "?period=all&limit=2")
	if got := rankedIDs(all.Articles); len(got) != 2 || got[0] != "legacy" || got[1] != "yesterday" || all.Articles[0].Views != 5000 {
		t.Errorf("all time, 2 = %+v, want legacy (5000, its legacy count), yesterday", all)
	}
	for _, bad := range []string{"?period=month", "?limit=0", "?limit=101", "?limit=x"} {
		var body any
		if resp := h.getJSON("/v1/tenants/hungyen/views/most-read"+bad, &body); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("most-read%s: status %d, want 400", bad, resp.StatusCode)
		}
	}

	var readers struct {
		Date    string           `json:"date"`
		Readers map[string]int64 `json:"readers"`
	}
	if resp := h.getJSON("/v1/tenants/hungyen/views/readers?ids=popular,second,nothing", &readers); resp.StatusCode != http.StatusOK {
		t.Fatalf("readers: status %d", resp.StatusCode)
	}
	if r := readers.Readers; r["popular"] != 5 || r["second"] != 4 || r["nothing"] != 0 || readers.Date != today.To {
		t.Errorf("readers today = %+v, want popular:5 second:4 nothing:0", readers)
	}
	if resp := h.getJSON("/v1/tenants/hungyen/views/readers?ids=yesterday&date="+old.In(cal.loc).Format(dayLayoutISO), &readers); resp.StatusCode != http.StatusOK || readers.Readers["yesterday"] != 6 {
		t.Errorf("readers three days ago = %d %+v, want yesterday:6", resp.StatusCode, readers)
	}
	var body any
	if resp := h.getJSON("/v1/tenants/hungyen/views/readers?ids=a&date=2020-01-01", &body); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("readers of a date long gone: status %d, want 400", resp.StatusCode)
	}
	if got := h.categories("hungyen"); got["tin-tuc-su-kien"] != 5+4+6+9 || got["xay-dung-dang"] != 5000 {
		t.Errorf("categories = %v", got)
	}
}
