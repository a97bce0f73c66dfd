package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

// mediaIDPattern is a hex SHA-256, the only media id ingest makes; it goes
// into S3 keys and KV keys, so nothing else may pass.
var mediaIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// tooLargeError is an original over the byte limit.
type tooLargeError struct{ size, limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the file is %d bytes (%.1f MiB), over the limit of %d bytes (%.1f MiB)",
		e.size, float64(e.size)/(1<<20), e.limit, float64(e.limit)/(1<<20))
}

// resizer handles media.uploaded: it stores the renditions of a photo, its
// manifest in the media bucket, and announces media.resized or media.failed.
type resizer struct {
	blobs     *blob.Store
	manifests jetstream.KeyValue
	bus       *bus.Bus
	limits    imageLimits
	maxBytes  int64
	// timeout bounds the storage and bus calls of one message, so a stuck
	// dependency turns into a retry before JetStream redelivers on its own.
	timeout  time.Duration
	log      *slog.Logger
	outcomes *prometheus.CounterVec
}

func newOutcomeCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "image_resize_photos_total",
		Help: "Photos handled, by outcome: resized, or failed (unusable photo, editor told why).",
	}, []string{"outcome"})
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	return c, nil
}

// handle is the bus.Handler for bus.ConsumerImageResize.
func (r *resizer) handle(ctx context.Context, m *bus.Message) error {
	env := m.Envelope
	up := env.GetMediaUploaded()
	if up == nil {
		return bus.Permanent(fmt.Errorf("event %q carries no MediaUploaded", env.GetId()))
	}
	tenantID, mediaID := env.GetTenant(), up.GetMediaId()
	if err := tenant.ValidateID(tenantID); err != nil {
		return bus.Permanent(err)
	}
	if !mediaIDPattern.MatchString(mediaID) {
		return bus.Permanent(fmt.Errorf("media id %.80q is not a hex SHA-256", mediaID))
	}
	key := originalKey(tenantID, mediaID)
	if k := up.GetOriginalKey(); k != "" && k != key {
		return bus.Permanent(fmt.Errorf("original_key %.200q is not %q", k, key))
	}
	log := r.log.With("tenant", tenantID, "media", mediaID)

	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()

	data, err := r.readOriginal(ctx, key)
	if tl, ok := errors.AsType[*tooLargeError](err); ok {
		return r.fail(ctx, log, tenantID, mediaID, tl.Error())
	}
	if errors.Is(err, blob.ErrNotFound) {
		return bus.Permanent(err)
	}
	if err != nil {
		return err
	}

	start := time.Now()
	width, height, renditions, err := renderRenditions(data, r.limits)
	if u, ok := errors.AsType[*unusableError](err); ok {
		return r.fail(ctx, log, tenantID, mediaID, u.reason)
	}
	if err != nil {
		return err
	}
	log.Debug("rendered", "width", width, "height", height, "renditions", len(renditions), "took", time.Since(start))

	resized := &eventsv1.MediaResized{
		MediaId:        mediaID,
		OriginalWidth:  int32(width),
		OriginalHeight: int32(height),
	}
	for _, rd := range renditions {
		k := renditionKey(tenantID, mediaID, rd.width)
		if err := r.blobs.PutBytes(ctx, k, rd.jpeg, "image/jpeg"); err != nil {
			return err
		}
		resized.Renditions = append(resized.Renditions, &eventsv1.Rendition{
			Width: int32(rd.width), Height: int32(rd.height), Bytes: int64(len(rd.jpeg)), Key: k, Format: "jpeg",
		})
	}
	if err := r.putManifest(ctx, tenantID, &eventsv1.MediaManifest{MediaId: mediaID, Resized: resized}); err != nil {
		return err
	}
	if err := r.bus.Publish(ctx, &eventsv1.Envelope{
		Id:            tenantID + "." + mediaID + ".resized",
		Type:          bus.TypeMediaResized,
		Tenant:        tenantID,
		CorrelationId: mediaID,
		Payload:       &eventsv1.Envelope_MediaResized{MediaResized: resized},
	}); err != nil {
		return err
	}
	r.outcomes.WithLabelValues("resized").Inc()
	log.Info("photo resized", "width", width, "height", height, "renditions", len(renditions))
	return nil
}

// fail records that a photo is unusable and tells whoever waits for it; the
// message is then acknowledged, since no retry can change the verdict.
func (r *resizer) fail(ctx context.Context, log *slog.Logger, tenantID, mediaID, reason string) error {
	failed := &eventsv1.MediaFailed{MediaId: mediaID, Reason: reason}
	if err := r.putManifest(ctx, tenantID, &eventsv1.MediaManifest{MediaId: mediaID, Failed: failed}); err != nil {
		return err
	}
	if err := r.bus.Publish(ctx, &eventsv1.Envelope{
		Id:            tenantID + "." + mediaID + ".failed",
		Type:          bus.TypeMediaFailed,
		Tenant:        tenantID,
		CorrelationId: mediaID,
		Payload:       &eventsv1.Envelope_MediaFailed{MediaFailed: failed},
	}); err != nil {
		return err
	}
	r.outcomes.WithLabelValues("failed").Inc()
	log.Info("photo unusable", "reason", reason)
	return nil
}

// putManifest writes the photo's manifest. image-resize is the bucket's only
// writer and a redelivery writes the same content, so a plain Put is safe.
func (r *resizer) putManifest(ctx context.Context, tenantID string, mf *eventsv1.MediaManifest) error {
	b, err := proto.Marshal(mf)
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	key := tenantID + "." + mf.GetMediaId()
	if _, err := r.manifests.Put(ctx, key, b); err != nil {
		return fmt.Errorf("storing manifest %s: %w", key, err)
	}
	return nil
}

// readOriginal reads the original, refusing one over maxBytes with a
// *tooLargeError. (blob.GetBytes enforces a limit too, but its error cannot be
// told apart from a storage failure.)
func (r *resizer) readOriginal(ctx context.Context, key string) ([]byte, error) {
	rc, info, err := r.blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if info.Size > r.maxBytes {
		return nil, &tooLargeError{size: info.Size, limit: r.maxBytes}
	}
	b, err := io.ReadAll(io.LimitReader(rc, r.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	if int64(len(b)) > r.maxBytes { // the object grew since it was opened
		return nil, &tooLargeError{size: int64(len(b)), limit: r.maxBytes}
	}
	return b, nil
}

func originalKey(tenantID, mediaID string) string {
	return "media/" + tenantID + "/" + mediaID + "/original"
}

func renditionKey(tenantID, mediaID string, width int) string {
	return "media/" + tenantID + "/" + mediaID + "/" + strconv.Itoa(width) + ".jpg"
}
