package main

import (
	"strconv"
	"time"
)

// Redis keys. Every key of a tenant carries the hash tag {<tenant>}, so that
// all of them live in one Redis Cluster slot and one script may touch them
// together.
//
//	views:{t}:seen:<seq>             VIEWS stream message already folded (7 days)
//	views:{t}:base:<article>         the article's legacy count was added
//	views:{t}:r:<article>:<reader>   when a reader's last counted view was (30 min)
//	views:{t}:u:<yyyymmdd>:<article> HyperLogLog of the day's readers (35 days)
//	views:{t}:counts                 sorted set: each article's count, its views and
//	                                 its legacy count: the all-time most-read list too
//	views:{t}:top:<yyyymmdd>         sorted set: the day's views (9 days)
//	views:{t}:top:week:<yyyymmdd>    cache of the 7 days ending that day (30 s)
//	views:{t}:cat                    hash: article → category, from article.published
//	views:{t}:catviews               hash: category → views of its articles
//	views:{t}:gone                   set: unpublished articles, left out of lists
//	views:{t}:rebuilding             held by the rebuild command; folding waits
const (
	// seenTTL is how long a folded message is remembered. A message is
	// redelivered within AckWait (15 s) or, after an outage, as soon as
	// Redis is back; a week covers any outage worth surviving.
	seenTTL = 7 * 24 * time.Hour
	// repeatWindow: one view per reader per article in this window.
	repeatWindow = 30 * time.Minute
	// minReaderTTL keeps a reader's mark a while even when the view being
	// folded is older than the window (a backlog after an outage), so the
	// reader's next views, a few messages later in the stream, still see it.
	minReaderTTL = 5 * time.Minute
	dayTTL       = 9 * 24 * time.Hour
	uniqueTTL    = 35 * 24 * time.Hour
	weekCacheTTL = 30 * time.Second
)

func keyPrefix(tenantID string) string { return "views:{" + tenantID + "}:" }

// countsKey is one sorted set rather than a string per article: a fold
// adds to an article's count and to its all-time rank with one command, and
// the counts of a list page are one ZMSCORE.
func countsKey(tenantID string) string { return keyPrefix(tenantID) + "counts" }

func seenKey(tenantID string, seq uint64) string {
	return keyPrefix(tenantID) + "seen:" + strconv.FormatUint(seq, 10)
}

func baseKey(tenantID, article string) string { return keyPrefix(tenantID) + "base:" + article }

func readerKey(tenantID, article, reader string) string {
	return keyPrefix(tenantID) + "r:" + article + ":" + reader
}

func uniqueKey(tenantID, day, article string) string {
	return keyPrefix(tenantID) + "u:" + day + ":" + article
}

func topDayKey(tenantID, day string) string { return keyPrefix(tenantID) + "top:" + day }

func topWeekKey(tenantID, day string) string { return keyPrefix(tenantID) + "top:week:" + day }

func categoryOfKey(tenantID string) string { return keyPrefix(tenantID) + "cat" }

func categoryViewsKey(tenantID string) string { return keyPrefix(tenantID) + "catviews" }

func goneKey(tenantID string) string { return keyPrefix(tenantID) + "gone" }

func rebuildingKey(tenantID string) string { return keyPrefix(tenantID) + "rebuilding" }
