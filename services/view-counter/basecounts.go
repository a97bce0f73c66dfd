package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/redis/go-redis/v9"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
)

// maxInitialViews is far above any real legacy count; anything larger is a
// bad event, refused rather than retried forever on a Redis overflow error.
const maxInitialViews = 1 << 40

// categoryPattern is libs/tenant's category slug.
var categoryPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// publishedScript applies an article.published event:
//   - the legacy count (ARGV[1]) is added once per article (the base marker
//     KEYS[1]), to its count (which is its all-time rank) and its category;
//   - the article's category (ARGV[3]) is recorded; when it is new or
//     changed, the article's whole count moves to it, so views folded before
//     the category was known are not missing from the category's total;
//   - the article is listed again if it had been unpublished.
//
// KEYS: base marker, counts, article→category, category→views, gone set,
// rebuild lock. ARGV: initial views, article, category, mode.
// Returns 1 when the legacy count was added, 0 otherwise, -1 while a rebuild
// holds the tenant.
var publishedScript = redis.NewScript(`
if ARGV[4] ~= 'replay' and redis.call('EXISTS', KEYS[6]) == 1 then
  return -1
end
local added = 0
local initial = tonumber(ARGV[1])
if initial > 0 and redis.call('SET', KEYS[1], '1', 'NX') then
  redis.call('ZINCRBY', KEYS[2], initial, ARGV[2])
  local cur = redis.call('HGET', KEYS[3], ARGV[2])
  if cur then
    redis.call('HINCRBY', KEYS[4], cur, initial)
  end
  added = 1
end
if ARGV[3] ~= '' then
  local old = redis.call('HGET', KEYS[3], ARGV[2])
  if old ~= ARGV[3] then
    local n = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[2]) or '0')
    if old then
      redis.call('HINCRBY', KEYS[4], old, -n)
    end
    redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
    redis.call('HINCRBY', KEYS[4], ARGV[3], n)
  end
end
redis.call('SREM', KEYS[5], ARGV[2])
return added
`)

// unpublishedScript leaves an unpublished article out of the most-read lists
// (its count stays, for when it comes back).
var unpublishedScript = redis.NewScript(`
if ARGV[2] ~= 'replay' and redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
return redis.call('SADD', KEYS[1], ARGV[1])
`)

// applyPublished runs publishedScript; it reports whether the legacy count
// was added by this call.
func applyPublished(ctx context.Context, rdb redis.Scripter, mode foldMode, tenantID, article, category string, initialViews int64) (bool, error) {
	keys := []string{baseKey(tenantID, article), countsKey(tenantID), categoryOfKey(tenantID),
		categoryViewsKey(tenantID), goneKey(tenantID), rebuildingKey(tenantID)}
	n, err := publishedScript.Run(ctx, rdb, keys, max(initialViews, 0), article, category, string(mode)).Int64()
	if err != nil {
		return false, fmt.Errorf("recording published article %s/%s: %w", tenantID, article, err)
	}
	if n < 0 {
		return false, errRebuilding
	}
	return n == 1, nil
}

func applyUnpublished(ctx context.Context, rdb redis.Scripter, mode foldMode, tenantID, article string) error {
	n, err := unpublishedScript.Run(ctx, rdb, []string{goneKey(tenantID), rebuildingKey(tenantID)}, article, string(mode)).Int64()
	if err != nil {
		return fmt.Errorf("recording unpublished article %s/%s: %w", tenantID, article, err)
	}
	if n < 0 {
		return errRebuilding
	}
	return nil
}

// handleArticles is the handler of the view-counter-base consumer
// (article.published.*, article.unpublished.*): it seeds an article's count
// with the views it had on the legacy site, learns its category, and keeps
// unpublished articles out of the most-read lists. Redis errors are
// transient; the bus redelivers.
func handleArticles(rdb redis.Scripter, m *metrics, mode foldMode) bus.Handler {
	return func(ctx context.Context, msg *bus.Message) error {
		tenantID := msg.Envelope.GetTenant()
		if err := tenant.ValidateID(tenantID); err != nil {
			return bus.Permanent(err)
		}
		if u := msg.Envelope.GetArticleUnpublished(); u != nil {
			if !validArticleID([]byte(u.GetArticleId())) {
				return bus.Permanent(fmt.Errorf("invalid article id %q", truncate(u.GetArticleId(), 50)))
			}
			return applyUnpublished(ctx, rdb, mode, tenantID, u.GetArticleId())
		}
		p := msg.Envelope.GetArticlePublished()
		if p == nil {
			return bus.Permanent(errors.New("article event without a published or unpublished payload"))
		}
		if !validArticleID([]byte(p.GetArticleId())) {
			return bus.Permanent(fmt.Errorf("invalid article id %q", truncate(p.GetArticleId(), 50)))
		}
		if p.GetInitialViews() > maxInitialViews {
			return bus.Permanent(fmt.Errorf("initial_views %d is over the %d limit", p.GetInitialViews(), int64(maxInitialViews)))
		}
		category := p.GetCategory()
		if category != "" && !categoryPattern.MatchString(category) {
			return bus.Permanent(fmt.Errorf("invalid category %q", truncate(category, 70)))
		}
		added, err := applyPublished(ctx, rdb, mode, tenantID, p.GetArticleId(), category, p.GetInitialViews())
		if err != nil {
			return err
		}
		if added && m != nil {
			m.baseCountsAdded.Inc()
		}
		return nil
	}
}
