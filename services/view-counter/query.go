package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"

	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

const (
	maxIDsPerQuery = 100
	maxListLimit   = 100
	// Reads are cached by browsers and CDNs for a few seconds: a list page
	// opened by many readers at once costs Redis one read per few seconds.
	cacheCounts = "public, max-age=5"
	cacheLists  = "public, max-age=10"
)

// ids reads ?ids=a,b,c (answering 400 itself when it is not usable).
func ids(ctx *fasthttp.RequestCtx) ([]string, bool) {
	raw := ctx.QueryArgs().Peek("ids")
	if len(raw) == 0 {
		problem(ctx, fasthttp.StatusBadRequest, "ids is required",
			httpx.FieldError{Field: "ids", Message: "comma-separated article ids", Limit: maxIDsPerQuery})
		return nil, false
	}
	parts := bytes.Split(raw, []byte{','})
	if len(parts) > maxIDsPerQuery {
		problem(ctx, fasthttp.StatusBadRequest, "too many ids",
			httpx.FieldError{Field: "ids", Message: "at most " + strconv.Itoa(maxIDsPerQuery) + " ids", Limit: maxIDsPerQuery})
		return nil, false
	}
	out := make([]string, 0, len(parts))
	seen := make(map[string]bool, len(parts))
	for _, p := range parts {
		if !validArticleID(p) {
			problem(ctx, fasthttp.StatusBadRequest, "invalid article id",
				httpx.FieldError{Field: "ids", Message: "article ids match [a-z0-9]{1,40}", Limit: 40})
			return nil, false
		}
		if id := string(p); !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, true
}

func (a *api) redisUnavailable(ctx *fasthttp.RequestCtx, t *tenant.Tenant, what string, err error) {
	a.log.Warn("reading "+what, "tenant", t.ID, "err", err)
	ctx.Response.Header.Set("Retry-After", "5")
	problem(ctx, fasthttp.StatusServiceUnavailable, what+" are unavailable, try again later")
}

func writeCached(ctx *fasthttp.RequestCtx, cache string, v any) {
	body, _ := json.Marshal(v)
	ctx.Response.Header.Set("Cache-Control", cache)
	writeJSON(ctx, fasthttp.StatusOK, append(body, '\n'))
}

// getCounts answers ?ids=a,b,c with {"counts":{"a":2,"b":0,"c":0}}: each
// article's views plus the count it had on the legacy site.
func (a *api) getCounts(ctx *fasthttp.RequestCtx, t *tenant.Tenant) {
	list, ok := ids(ctx)
	if !ok {
		return
	}
	rctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	scores, err := a.rdb.ZMScore(rctx, countsKey(t.ID), list...).Result()
	if err != nil {
		a.redisUnavailable(ctx, t, "counts", err)
		return
	}
	counts := make(map[string]int64, len(list))
	for i, s := range scores {
		counts[list[i]] = int64(s) // exact up to 2^53 views
	}
	writeCached(ctx, cacheCounts, map[string]any{"counts": counts})
}

// getReaders answers ?ids=a,b[&date=2026-11-23] with the number of distinct
// readers of each article that day (HyperLogLog: ±1%), today by default.
func (a *api) getReaders(ctx *fasthttp.RequestCtx, t *tenant.Tenant) {
	list, ok := ids(ctx)
	if !ok {
		return
	}
	today := a.now()
	day := today
	if raw := ctx.QueryArgs().Peek("date"); len(raw) > 0 {
		d, err := time.ParseInLocation(dayLayoutISO, string(raw), a.cal.loc)
		if err != nil || d.After(today) || today.Sub(d) > uniqueTTL-24*time.Hour {
			problem(ctx, fasthttp.StatusBadRequest, "invalid date",
				httpx.FieldError{Field: "date", Message: "YYYY-MM-DD, within the last 34 days", Limit: 34})
			return
		}
		day = d
	}
	key := a.cal.day(day)
	rctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	cmds := make([]*redis.IntCmd, len(list))
	_, err := a.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
		for i, id := range list {
			cmds[i] = p.PFCount(rctx, uniqueKey(t.ID, key, id))
		}
		return nil
	})
	if err != nil {
		a.redisUnavailable(ctx, t, "reader counts", err)
		return
	}
	readers := make(map[string]int64, len(list))
	for i, id := range list {
		readers[id] = cmds[i].Val()
	}
	writeCached(ctx, cacheCounts, map[string]any{"date": day.In(a.cal.loc).Format(dayLayoutISO), "readers": readers})
}

// rankedArticle is one entry of a most-read list.
type rankedArticle struct {
	ID       string `json:"id"`
	Views    int64  `json:"views"`
	Category string `json:"category"`
}

// getMostRead answers ?period=today|week|all&limit=10 with the tenant's most
// read published articles: today (since midnight), this week (the last 7
// days, today included) or all time (legacy counts included).
func (a *api) getMostRead(ctx *fasthttp.RequestCtx, t *tenant.Tenant) {
	limit := 10
	if raw := ctx.QueryArgs().Peek("limit"); len(raw) > 0 {
		n, err := strconv.Atoi(string(raw))
		if err != nil || n < 1 || n > maxListLimit {
			problem(ctx, fasthttp.StatusBadRequest, "invalid limit",
				httpx.FieldError{Field: "limit", Message: "between 1 and 100", Limit: maxListLimit})
			return
		}
		limit = n
	}
	now := a.now()
	today := a.cal.day(now)
	period := string(ctx.QueryArgs().Peek("period"))
	rctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	resp := map[string]any{}
	var key string
	switch period {
	case "", "today":
		period, key = "today", topDayKey(t.ID, today)
		resp["from"], resp["to"] = now.In(a.cal.loc).Format(dayLayoutISO), now.In(a.cal.loc).Format(dayLayoutISO)
	case "week":
		var err error
		if key, err = a.weekSet(rctx, t.ID, now); err != nil {
			a.redisUnavailable(ctx, t, "most-read lists", err)
			return
		}
		resp["from"], resp["to"] = now.In(a.cal.loc).AddDate(0, 0, -6).Format(dayLayoutISO), now.In(a.cal.loc).Format(dayLayoutISO)
	case "all":
		key = countsKey(t.ID)
	default:
		problem(ctx, fasthttp.StatusBadRequest, "invalid period",
			httpx.FieldError{Field: "period", Message: "today, week or all"})
		return
	}
	list, err := a.ranked(rctx, t.ID, key, limit)
	if err != nil {
		a.redisUnavailable(ctx, t, "most-read lists", err)
		return
	}
	resp["period"], resp["articles"] = period, list
	writeCached(ctx, cacheLists, resp)
}

// weekSet returns a sorted set of the last 7 days' views, cached briefly.
func (a *api) weekSet(ctx context.Context, tenantID string, now time.Time) (string, error) {
	today := a.cal.day(now)
	dest := topWeekKey(tenantID, today)
	n, err := a.rdb.Exists(ctx, dest).Result()
	if err != nil || n == 1 {
		return dest, err
	}
	days := make([]string, 7)
	for i := range days {
		days[i] = topDayKey(tenantID, a.cal.day(now.In(a.cal.loc).AddDate(0, 0, -i)))
	}
	_, err = a.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZUnionStore(ctx, dest, &redis.ZStore{Keys: days})
		p.Expire(ctx, dest, weekCacheTTL)
		return nil
	})
	return dest, err
}

// ranked reads the highest of a sorted set, keeping published articles only.
func (a *api) ranked(ctx context.Context, tenantID, key string, limit int) ([]rankedArticle, error) {
	out := make([]rankedArticle, 0, limit)
	page := int64(limit*2 + 10)
	for start := int64(0); len(out) < limit && start < 10*page; start += page {
		zs, err := a.rdb.ZRevRangeWithScores(ctx, key, start, start+page-1).Result()
		if err != nil || len(zs) == 0 {
			return out, err
		}
		members := make([]string, len(zs))
		ifaces := make([]any, len(zs))
		for i, z := range zs {
			members[i], _ = z.Member.(string)
			ifaces[i] = members[i]
		}
		var cats *redis.SliceCmd
		var gone *redis.BoolSliceCmd
		if _, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			cats = p.HMGet(ctx, categoryOfKey(tenantID), members...)
			gone = p.SMIsMember(ctx, goneKey(tenantID), ifaces...)
			return nil
		}); err != nil {
			return nil, err
		}
		for i, z := range zs {
			cat, published := cats.Val()[i].(string)
			if !published || gone.Val()[i] || len(out) == limit {
				continue
			}
			out = append(out, rankedArticle{ID: members[i], Views: int64(z.Score), Category: cat})
		}
		if int64(len(zs)) < page {
			break
		}
	}
	return out, nil
}

// getCategories answers with the views of each category's articles (legacy
// counts included): {"categories":{"tin-tuc-su-kien":1234}}.
func (a *api) getCategories(ctx *fasthttp.RequestCtx, t *tenant.Tenant) {
	rctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	all, err := a.rdb.HGetAll(rctx, categoryViewsKey(t.ID)).Result()
	if err != nil {
		a.redisUnavailable(ctx, t, "category counts", err)
		return
	}
	out := make(map[string]int64, len(all))
	for c, v := range all {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			out[c] = n
		}
	}
	writeCached(ctx, cacheLists, map[string]any{"categories": out})
}
