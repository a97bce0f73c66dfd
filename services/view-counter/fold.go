package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxChunkViews bounds the views one script folds, so that Redis — which
// runs a script alone — is never held for more than a few milliseconds.
const maxChunkViews = 2048

// view is one reader's view of one article. Count is the rebuild's decision
// (replay mode); the live fold decides in Redis.
type view struct {
	Article string
	Reader  string
	Count   bool
}

// viewMsg is one VIEWS stream message: a single view or a coalesced batch.
type viewMsg struct {
	Seq   uint64
	At    time.Time
	Views []view
}

// foldMode: live folding decides repeats from Redis; replay (the rebuild)
// brings its own decisions and ignores the rebuild lock it holds.
type foldMode string

const (
	foldLive   foldMode = "live"
	foldReplay foldMode = "replay"
)

// errRebuilding: the tenant's counts are being rebuilt; its views wait.
var errRebuilding = errors.New("the tenant's counts are being rebuilt")

// foldScript folds views into a tenant's counters as one atomic step.
//
// KEYS[1] is the tenant's counts (a sorted set): it routes the call to the tenant's
// Redis Cluster slot. Every other key is derived from the prefix in ARGV[1]
// and carries the same {tenant} hash tag, so it is in that slot too (Redis
// allows undeclared keys of the script's own slot).
//
// ARGV: prefix, mode, now, seenTTL, window, dayTTL, uniqueTTL, minReaderTTL,
// then per message: stream sequence, day, unix time, number of views, and
// per view: article, reader (and "1"/"0", counted or not, in replay mode).
//
// A message whose seen key exists was folded before and is skipped whole, so
// a batch applied twice counts once. A view counts unless the same reader's
// previous counted view of the article is less than the window away (by the
// views' own times, so that a backlog folded late is judged as it happened).
// Returns {counted, repeated, skipped}, or {-1} while a rebuild holds the
// tenant.
var foldScript = redis.NewScript(`
local prefix, replay = ARGV[1], ARGV[2] == 'replay'
local now, seenTTL, window = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local dayTTL, uniqueTTL, minReaderTTL = ARGV[6], ARGV[7], tonumber(ARGV[8])
if not replay and redis.call('EXISTS', prefix .. 'rebuilding') == 1 then
  return {-1, 0, 0}
end
local seenPrefix, readerPrefix = prefix .. 'seen:', prefix .. 'r:'
local counted, repeated, skipped = 0, 0, 0
local perArticle, articles, perDay = {}, {}, {}
local step = replay and 3 or 2
local i = 9
while i <= #ARGV do
  local seq, day, ts, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  i = i + 4
  local age = now - ts
  local ttl = window - age
  if ttl < minReaderTTL then
    ttl = minReaderTTL
  end
  local fresh
  if replay and age > seenTTL then
    fresh = true -- older than any redelivery: nothing to remember
  else
    fresh = redis.call('SET', seenPrefix .. seq, '1', 'NX', 'EX', seenTTL)
  end
  if fresh then
    local dayArticles = perDay[day]
    if not dayArticles then
      dayArticles = {}
      perDay[day] = dayArticles
    end
    for j = i, i + (n - 1) * step, step do
      local article, reader = ARGV[j], ARGV[j + 1]
      local count
      if replay then
        count = ARGV[j + 2] == '1'
        if count and age < window then
          redis.call('SET', readerPrefix .. article .. ':' .. reader, ts, 'EX', window - age)
        end
      else
        local rk = readerPrefix .. article .. ':' .. reader
        local last = redis.call('SET', rk, ts, 'NX', 'GET', 'EX', ttl)
        if not last then
          count = true
        else
          last = tonumber(last)
          if ts - last >= window then
            count = true
            redis.call('SET', rk, ts, 'EX', ttl)
          else
            count = last - ts >= window
          end
        end
      end
      if count then
        counted = counted + 1
        local c = perArticle[article]
        if not c then
          articles[#articles + 1] = article
          c = 0
        end
        perArticle[article] = c + 1
        local a = dayArticles[article]
        if not a then
          a = {0}
          dayArticles[article] = a
        end
        a[1] = a[1] + 1
        a[#a + 1] = reader
      else
        repeated = repeated + 1
      end
    end
  else
    skipped = skipped + n
  end
  i = i + n * step
end
if #articles > 0 then
  local cats = redis.call('HMGET', prefix .. 'cat', unpack(articles))
  local perCategory = {}
  for k, article in ipairs(articles) do
    local c = perArticle[article]
    redis.call('ZINCRBY', KEYS[1], c, article)
    local cat = cats[k]
    if cat then
      perCategory[cat] = (perCategory[cat] or 0) + c
    end
  end
  for cat, c in pairs(perCategory) do
    redis.call('HINCRBY', prefix .. 'catviews', cat, c)
  end
end
for day, dayArticles in pairs(perDay) do
  local dk, uprefix = prefix .. 'top:' .. day, prefix .. 'u:' .. day .. ':'
  local any = false
  for article, a in pairs(dayArticles) do
    any = true
    local score = tonumber(redis.call('ZINCRBY', dk, a[1], article))
    local uk = uprefix .. article
    for k = 2, #a, 1000 do
      redis.call('PFADD', uk, unpack(a, k, math.min(k + 999, #a)))
    end
    -- only a repeat is left out of the day's readers, and a repeat's reader
    -- is in already (the reader salt, hence the reader, is per day)
    if score == a[1] then
      redis.call('EXPIRE', uk, uniqueTTL)
    end
  end
  if any then
    redis.call('EXPIRE', dk, dayTTL)
  end
end
return {counted, repeated, skipped}
`)

// foldResult is what one fold did.
type foldResult struct {
	Counted, Repeated, Skipped int64
}

func (r *foldResult) add(o foldResult) {
	r.Counted += o.Counted
	r.Repeated += o.Repeated
	r.Skipped += o.Skipped
}

// foldViews folds one tenant's messages (at most maxChunkViews views, or a
// single larger message) with one script call.
func foldViews(ctx context.Context, rdb redis.Scripter, cal calendar, tenantID string, mode foldMode, now time.Time, msgs []viewMsg) (foldResult, error) {
	if len(msgs) == 0 {
		return foldResult{}, nil
	}
	n := 0
	for _, m := range msgs {
		n += len(m.Views)
	}
	per := 2
	if mode == foldReplay {
		per = 3
	}
	args := make([]any, 0, 8+4*len(msgs)+per*n)
	args = append(args, keyPrefix(tenantID), string(mode), now.Unix(), int64(seenTTL/time.Second),
		int64(repeatWindow/time.Second), int64(dayTTL/time.Second), int64(uniqueTTL/time.Second), int64(minReaderTTL/time.Second))
	for _, m := range msgs {
		args = append(args, strconv.FormatUint(m.Seq, 10), cal.day(m.At), m.At.Unix(), len(m.Views))
		for _, v := range m.Views {
			args = append(args, v.Article, v.Reader)
			if mode == foldReplay {
				args = append(args, boolArg(v.Count))
			}
		}
	}
	res, err := foldScript.Run(ctx, rdb, []string{countsKey(tenantID)}, args...).Int64Slice()
	if err != nil {
		return foldResult{}, fmt.Errorf("folding %d views of tenant %s: %w", n, tenantID, err)
	}
	if len(res) != 3 {
		return foldResult{}, fmt.Errorf("folding views of tenant %s: unexpected answer %v", tenantID, res)
	}
	if res[0] < 0 {
		return foldResult{}, errRebuilding
	}
	return foldResult{Counted: res[0], Repeated: res[1], Skipped: res[2]}, nil
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// chunks splits msgs at message boundaries into runs of at most
// maxChunkViews views (a single larger message is a run of its own).
func chunks[T any](msgs []T, views func(T) int) [][]T {
	var out [][]T
	start, n := 0, 0
	for i, m := range msgs {
		v := views(m)
		if i > start && n+v > maxChunkViews {
			out = append(out, msgs[start:i])
			start, n = i, 0
		}
		n += v
	}
	if start < len(msgs) {
		out = append(out, msgs[start:])
	}
	return out
}
