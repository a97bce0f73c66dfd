// Command view-counter counts page views for every tenant's site.
//
// A reader's page sends a beacon (navigator.sendBeacon) to
// POST /v1/tenants/{tenant}/views/{article}. The beacon is answered 204 only
// once JetStream has stored it as a "views.<tenant>" event (503 otherwise), so
// an accepted view is durable. The beacon path needs NATS only: while Redis
// is down, views keep being accepted and wait in the VIEWS stream.
//
// The aggregator folds those events into Redis counters in batches. Each
// batch of one tenant is applied by a single Lua script that marks every
// stream sequence as seen and increments a counter only for sequences it had
// not seen, and the messages are acknowledged only after the script
// succeeded. A batch applied twice (the process died between Redis and the
// acks, or an ack was lost) therefore counts once, and a batch that could not
// be applied is redelivered: no view is lost or doubled.
//
// A second consumer reads article.published events and adds an article's
// initial_views (the count carried over from a legacy site) once per article.
//
// GET /v1/tenants/{tenant}/views?ids=a,b,c returns the current counts, for
// the view-count figure rendered pages show ("Lượt xem: 1566").
//
// Redis keys (every key of a tenant shares the hash tag {<tenant>}, so that
// one script's keys live in one Redis Cluster slot):
//
//	views:{<tenant>}:a:<article>     the article's count (beacons + base)
//	views:{<tenant>}:seen:<seq>      VIEWS stream sequence already counted; expires after 7 days
//	views:{<tenant>}:base:<article>  initial_views already added
//
// Readers are identified only by a salted hash of client IP and User-Agent;
// the raw IP is neither stored nor logged.
//
// Configuration (see config.go): NATS_URL, NATS_REPLICAS, and
// VIEW_COUNTER_HTTP_ADDR (:8083), VIEW_COUNTER_REDIS_ADDR (127.0.0.1:6379;
// several comma-separated addresses mean a Redis Cluster),
// VIEW_COUNTER_READER_SALT (secret; random per process when unset),
// VIEW_COUNTER_BATCH_SIZE (500), VIEW_COUNTER_SHUTDOWN_TIMEOUT (20s),
// VIEW_COUNTER_LOG_LEVEL (info).
package main
