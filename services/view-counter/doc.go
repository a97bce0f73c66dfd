// Command view-counter counts page views for every tenant's site: honestly
// (one view per reader per article per 30 minutes, no bots, no prefetches),
// without losing any (a view is stored on JetStream before it is
// acknowledged, and folded into Redis exactly once), and cheaply.
//
// # Beacons
//
// An article page sends POST /v1/tenants/{tenant}/views/{article}
// (navigator.sendBeacon, or fetch with keepalive). The endpoint:
//
//   - refuses (403) a page of another site: a browser's Origin (or Referer)
//     must be one of the tenant's own hosts (libs/tenant.Tenant.Hosts, any
//     scheme and port) or one of VIEW_COUNTER_SITE_ORIGINS, the public site
//     serving tenants under /<tenant>/. Requests without either are not
//     from a page (curl, servers) and are let through; CORS answers carry
//     the page's origin, never "*";
//   - answers 204 without counting a prefetch or prerender (Sec-Purpose,
//     Purpose, X-Purpose, X-Moz), an empty user agent, or one on the bot list
//     (bots.txt, built in; VIEW_COUNTER_BOTS_FILE replaces it);
//   - answers 429 over a per-IP token bucket (VIEW_COUNTER_IP_RATE and
//     IP_BURST; an IPv6 /64 is one client; X-Forwarded-For is believed only
//     from VIEW_COUNTER_TRUSTED_PROXIES);
//   - hashes the reader: the first 128 bits of SHA-256(daily salt, IP, user
//     agent), where the day's salt is HMAC-SHA256(VIEW_COUNTER_READER_SALT,
//     date), the same on every replica, derived in memory, stored nowhere.
//     The raw IP is used for the limit and the hash only: it is neither
//     stored, published nor logged;
//   - coalesces the view with the others arriving meanwhile into one
//     ViewBatch message on "views.<tenant>" and answers 204 once JetStream
//     acknowledged that message (503 after VIEW_COUNTER_PUBLISH_TIMEOUT).
//
// The beacon path needs NATS only: while Redis is down, beacons are accepted
// and their views wait in the VIEWS stream; /readyz stays 200 (it names
// Redis's state) so that load balancers keep sending them.
//
// # Folding
//
// Aggregators (VIEW_COUNTER_AGGREGATORS per process, across replicas through
// the durable consumer "view-counter") fold views into Redis: a fold takes the
// messages that arrived within 100 ms, and applies each tenant's views with a
// Lua script (fold.go) that marks every stream sequence as folded and counts
// only messages it had not marked, so a batch applied twice — the process
// died between Redis and its acks, an ack was lost — counts once. Messages
// are acknowledged only after their script succeeded; a failed script's
// messages are redelivered. Whether a view repeats the same reader's view of
// the same article within 30 minutes is judged by the views' own times, so
// a backlog folded after an outage counts as it would have live.
//
// A second consumer ("view-counter-base", article.published and
// article.unpublished) adds an article's legacy count once, records its
// category (moving its count when a revision changes the category), and
// keeps unpublished articles out of the most-read lists.
//
// `view-counter rebuild [-tenant ID]` recomputes every counter of a tenant
// from the VIEWS and ARTICLES streams (rebuild.go), for when Redis lost its
// data.
//
// # Reads
//
//	GET /v1/tenants/{t}/views?ids=a,b              {"counts":{"a":12,"b":0}}  (views + legacy count; max-age=5)
//	GET /v1/tenants/{t}/views/readers?ids=a,b[&date=YYYY-MM-DD]   distinct readers that day (HyperLogLog)
//	GET /v1/tenants/{t}/views/most-read?period=today|week|all[&limit=10]   published articles only
//	GET /v1/tenants/{t}/views/categories           {"categories":{"tin-tuc":1234}}
//
// The Redis keys are listed in keys.go; every key of a tenant carries the hash
// tag {<tenant>}, so a tenant's keys share one Redis Cluster slot.
//
// The public listener is fasthttp, not libs/httpx: see server.go for why and
// for how it keeps httpx's contract (/healthz, /readyz, /metrics).
package main
