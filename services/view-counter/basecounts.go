package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
)

// maxInitialViews is far above any real legacy count; anything larger is a
// bad event, refused rather than retried forever on a Redis overflow error.
const maxInitialViews = 1 << 40

// addBaseScript adds ARGV[1] to the count (KEYS[2]) only the first time the
// article's base marker (KEYS[1]) is set, so a redelivered or re-published
// article.published does not add its initial views again.
var addBaseScript = redis.NewScript(`
if redis.call('SET', KEYS[1], '1', 'NX') then
  return redis.call('INCRBY', KEYS[2], ARGV[1])
end
return false
`)

// addBaseCount applies initial views once per article; it reports whether
// they were added by this call.
func addBaseCount(ctx context.Context, rdb redis.Scripter, tenantID, article string, initialViews int64) (bool, error) {
	err := addBaseScript.Run(ctx, rdb, []string{baseKey(tenantID, article), countKey(tenantID, article)}, initialViews).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("adding initial views of %s/%s: %w", tenantID, article, err)
	}
	return true, nil
}

// handlePublished is the handler of the view-counter-base consumer
// (article.published.*): it seeds an article's count with the views it had on
// the legacy site. Redis errors are transient; the bus redelivers.
func handlePublished(rdb redis.Scripter, m *metrics) bus.Handler {
	return func(ctx context.Context, msg *bus.Message) error {
		p := msg.Envelope.GetArticlePublished()
		if p == nil {
			return bus.Permanent(errors.New("article.published event without its payload"))
		}
		if p.GetInitialViews() <= 0 {
			return nil
		}
		tenantID := msg.Envelope.GetTenant()
		if err := tenant.ValidateID(tenantID); err != nil {
			return bus.Permanent(err)
		}
		if !articleIDPattern.MatchString(p.GetArticleId()) {
			return bus.Permanent(fmt.Errorf("invalid article id %q", truncate(p.GetArticleId(), 50)))
		}
		if p.GetInitialViews() > maxInitialViews {
			return bus.Permanent(fmt.Errorf("initial_views %d is over the %d limit", p.GetInitialViews(), int64(maxInitialViews)))
		}
		added, err := addBaseCount(ctx, rdb, tenantID, p.GetArticleId(), p.GetInitialViews())
		if err != nil {
			return err
		}
		if added {
			m.baseCountsAdded.Inc()
		}
		return nil
	}
}
