package bus

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// This file is the one place where streams, durable consumers and KV buckets
// are declared. Services bind to them by name; Declare creates or updates them
// all, idempotently, so it does not matter which service starts first.

// Stream names.
const (
	StreamMedia      = "MEDIA"
	StreamArticles   = "ARTICLES"
	StreamViews      = "VIEWS"
	StreamDeadLetter = "DEADLETTER"
	// StreamAudit is moderation's audit trail (its single writer): one
	// message per verdict and per reviewer decision, on
	// "audit.moderation.<tenant>.<article>.<actor>". Messages can be neither
	// deleted nor purged, so the trail cannot be edited through JetStream.
	StreamAudit = "AUDIT"
)

// Event types; the subject is "<type>.<tenant>".
const (
	TypeMediaUploaded      = "media.uploaded"
	TypeMediaResized       = "media.resized"
	TypeMediaFailed        = "media.failed"
	TypeArticleSubmitted   = "article.submitted"
	TypeArticleApproved    = "article.approved"
	TypeArticleRejected    = "article.rejected"
	TypeArticleHeld        = "article.held"
	TypeArticlePublished   = "article.published"
	TypeArticleUnpublished = "article.unpublished"
	TypeView               = "views"
)

// SubjectSiteInvalidate prefixes a core NATS subject (not captured by any
// stream): render publishes "site.invalidate.<tenant>" with the changed page
// paths, one per line ("*" for all), after an unpublish or a rebuild, which
// article.published does not describe. Every site replica subscribes to it
// and to "article.published.*" with a plain (non-durable) subscription, since
// each replica must see every invalidation.
const SubjectSiteInvalidate = "site.invalidate"

// Durable consumer names, one per consuming role. Replicas of a service share
// its consumer, so each message is handled by one of them.
const (
	ConsumerImageResize    = "image-resize"
	ConsumerModeration     = "moderation"
	ConsumerRender         = "render"
	ConsumerIngestStatus   = "ingest-status"
	ConsumerViewCounter    = "view-counter"
	ConsumerViewBaseCounts = "view-counter-base"
)

// KV bucket names and their single writers.
const (
	BucketTenants     = "tenants"      // ingest (admin API)
	BucketAPIKeys     = "apikeys"      // ingest
	BucketArticles    = "articles"     // ingest: status of each article
	BucketIdempotency = "idempotency"  // ingest
	BucketMedia       = "media"        // image-resize: MediaManifest per photo
	BucketRenderIndex = "render-index" // render: article summaries for lists
	// BucketRenderSchedule holds approved revisions with a future
	// scheduled_at until render publishes them. Writer: render.
	BucketRenderSchedule = "render-schedule"
	// BucketModeration holds moderation's record of each article's latest
	// revision: its verdict, the review decision and what is left to
	// publish. Writer: moderation (CAS on the KV revision).
	BucketModeration = "moderation"
	// BucketModerationIndex is the small summary of each held or approved
	// article (state, title, near-duplicate fingerprint) that every
	// moderation replica watches into memory for the review queue and the
	// duplicate check. Writer: moderation.
	BucketModerationIndex = "moderation-index"
)

// ackWait is how long a delivered message stays with one instance without an
// ack or a progress signal. Consume sends progress every ackWait/3 while a
// handler runs, so a slow photo is not redelivered, while a killed instance's
// message goes to another within ackWait.
const ackWait = 15 * time.Second

// ConsumerSpec describes one durable pull consumer.
type ConsumerSpec struct {
	Stream  string
	Filters []string
	AckWait time.Duration
	// MaxDeliver bounds redeliveries of a transient failure before the message
	// goes to the dead-letter stream; -1 retries forever (views must never be
	// dropped because Redis is down for a while).
	MaxDeliver int
	// Concurrency is how many messages one process handles at once.
	Concurrency int
}

var streams = []jetstream.StreamConfig{
	{Name: StreamMedia, Subjects: []string{"media.>"}, Description: "photos uploaded, resized or failed"},
	{Name: StreamArticles, Subjects: []string{"article.>"}, Description: "article lifecycle; replayable to rebuild every site"},
	// VIEWS keeps every accepted view for good (limits retention with no
	// MaxAge, MaxMsgs or MaxBytes): it is the record the counts are folded
	// from, and `view-counter rebuild` recomputes every counter from it after
	// Redis loses its data. A view alone in its message takes about 230
	// bytes, one in the ViewBatch messages view-counter coalesces under load
	// under 80, so a million views a day is 25 to 85 GB a year. Should it
	// ever need bounding, give it a MaxBytes with DiscardNew (beacons then
	// fail with 503 rather than history vanishing silently), and never
	// delete and re-create it: its sequences would start again, and
	// view-counter remembers folded messages by sequence.
	{Name: StreamViews, Subjects: []string{"views.>"}, Retention: jetstream.LimitsPolicy,
		Description: "accepted page views, kept for good: counts are rebuilt from them"},
	{Name: StreamDeadLetter, Subjects: []string{"deadletter.>"}, Description: "messages a consumer gave up on, with the reason"},
	{Name: StreamAudit, Subjects: []string{"audit.>"}, DenyDelete: true, DenyPurge: true,
		Description: "moderation verdicts and reviewer decisions, append-only; writer: moderation"},
}

// Consumers lists every durable consumer.
var Consumers = map[string]ConsumerSpec{
	ConsumerImageResize: {Stream: StreamMedia, Filters: []string{TypeMediaUploaded + ".*"},
		AckWait: ackWait, MaxDeliver: 5, Concurrency: 2},
	ConsumerModeration: {Stream: StreamArticles, Filters: []string{TypeArticleSubmitted + ".*"},
		AckWait: ackWait, MaxDeliver: 10, Concurrency: 4},
	// render waits for photos by retrying with a growing delay, so it gets many tries.
	ConsumerRender: {Stream: StreamArticles, Filters: []string{TypeArticleApproved + ".*", TypeArticleUnpublished + ".*"},
		AckWait: ackWait, MaxDeliver: 60, Concurrency: 1},
	ConsumerIngestStatus: {Stream: StreamArticles, Filters: []string{
		TypeArticleApproved + ".*", TypeArticleRejected + ".*", TypeArticleHeld + ".*",
		TypeArticlePublished + ".*", TypeArticleUnpublished + ".*"},
		AckWait: ackWait, MaxDeliver: 20, Concurrency: 1},
	ConsumerViewCounter: {Stream: StreamViews, Filters: []string{TypeView + ".*"},
		AckWait: ackWait, MaxDeliver: -1, Concurrency: 1},
	// view-counter-base learns from article.published an article's legacy
	// count and its category, and from article.unpublished to leave it out
	// of the most-read lists.
	ConsumerViewBaseCounts: {Stream: StreamArticles, Filters: []string{TypeArticlePublished + ".*", TypeArticleUnpublished + ".*"},
		AckWait: ackWait, MaxDeliver: -1, Concurrency: 1},
}

var buckets = []jetstream.KeyValueConfig{
	{Bucket: BucketTenants, History: 5, Description: "tenant configuration; writer: ingest"},
	{Bucket: BucketAPIKeys, Description: "hashed API keys; writer: ingest"},
	{Bucket: BucketArticles, History: 5, Description: "article status; writer: ingest"},
	{Bucket: BucketIdempotency, TTL: 24 * time.Hour, Description: "Idempotency-Key → article id; writer: ingest"},
	{Bucket: BucketMedia, Description: "photo manifests; writer: image-resize"},
	{Bucket: BucketRenderIndex, Description: "published article summaries; writer: render"},
	{Bucket: BucketRenderSchedule, History: 5, Description: "approved articles waiting for their scheduled time; writer: render"},
	{Bucket: BucketModeration, History: 5, Description: "verdict and review decision per article; writer: moderation"},
	{Bucket: BucketModerationIndex, Description: "held and approved articles' summaries and fingerprints; writer: moderation"},
}

// dedupeWindow is how long JetStream drops a repeated message id.
const dedupeWindow = 10 * time.Minute
