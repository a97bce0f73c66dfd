package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	"google.golang.org/protobuf/proto"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
	"github.com/blocpress/blocpress/services/image-resize/internal/photo"
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
// manifest in the media bucket and manifest.json beside the renditions, and
// announces media.resized or media.failed.
type resizer struct {
	blobs     *blob.Store
	manifests jetstream.KeyValue
	bus       *bus.Bus
	options   photo.Options
	maxBytes  int64
	// budget bounds the working memory of the photos in hand, in 4-byte
	// pixels (see Config.PixelBudget).
	budget     *semaphore.Weighted
	budgetSize int64
	// timeout bounds the storage and bus calls of one message, so a stuck
	// dependency turns into a retry before JetStream redelivers on its own.
	timeout  time.Duration
	log      *slog.Logger
	outcomes *prometheus.CounterVec
	seconds  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*prometheus.CounterVec, prometheus.Histogram, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "image_resize_photos_total",
		Help: "Photos handled, by outcome: resized, or failed (unusable photo, editor told why).",
	}, []string{"outcome"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "image_resize_render_seconds",
		Help:    "Time to decode a photo and make all its renditions, without storage.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	})
	for _, m := range []prometheus.Collector{c, h} {
		if err := reg.Register(m); err != nil {
			return nil, nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	return c, h, nil
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

	// Storage and bus calls are bounded by r.timeout, each phase on its
	// own; rendering is not (the bus tells JetStream the message is in
	// progress while it runs), so a large photo on a busy machine is not
	// turned into a retry.
	hctx := ctx
	ctx, cancelRead := context.WithTimeout(hctx, r.timeout)
	defer cancelRead()

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

	// The header decides, before anything is decoded or allocated for
	// pixels: the type from the bytes, the pixel limit.
	hdr, err := photo.Inspect(data)
	if err == nil {
		err = photo.CheckLimits(hdr, r.options.MaxPixels)
	}
	if u, ok := errors.AsType[*photo.Unusable](err); ok {
		return r.fail(ctx, log, tenantID, mediaID, u.Reason)
	}
	opts := r.options
	focalSource := "centre"
	if opts.DefaultCrop == photo.CropSmart {
		focalSource = "smart"
	}
	if len(opts.CropWidths) > 0 {
		fp, err := r.readFocal(ctx, tenantID, mediaID)
		if err != nil {
			return err
		}
		if fp != nil {
			opts.Focal, focalSource = fp, "editor"
		}
	}

	weight := min(max(photo.WorkingBytes(hdr, opts)/4, 1), r.budgetSize)
	if err := r.budget.Acquire(hctx, weight); err != nil {
		return fmt.Errorf("waiting for memory budget: %w", err)
	}
	start := time.Now()
	res, err := photo.Render(data, opts)
	r.budget.Release(weight)
	r.seconds.Observe(time.Since(start).Seconds())
	cancelRead()
	ctx, cancelStore := context.WithTimeout(hctx, r.timeout)
	defer cancelStore()
	if u, ok := errors.AsType[*photo.Unusable](err); ok {
		return r.fail(ctx, log, tenantID, mediaID, u.Reason)
	}
	if err != nil {
		return err
	}
	log.Debug("rendered", "width", res.Width, "height", res.Height, "scale", res.Scale,
		"renditions", len(res.Renditions), "took", time.Since(start))

	resized := &eventsv1.MediaResized{
		MediaId:        mediaID,
		OriginalWidth:  int32(res.Width),
		OriginalHeight: int32(res.Height),
	}
	for _, rd := range res.Renditions {
		k, ctype := renditionObject(tenantID, mediaID, rd)
		if err := r.blobs.PutBytes(ctx, k, rd.Data, ctype); err != nil {
			return err
		}
		if inManifest(rd, res.Transparent) {
			resized.Renditions = append(resized.Renditions, &eventsv1.Rendition{
				Width: int32(rd.Width), Height: int32(rd.Height), Bytes: int64(len(rd.Data)), Key: k, Format: manifestFormat(rd),
			})
		}
	}
	// Ordered by width, smallest first, as the proto says; a plain rendition
	// before a crop of the same width.
	slices.SortStableFunc(resized.Renditions, func(a, b *eventsv1.Rendition) int { return cmp.Compare(a.GetWidth(), b.GetWidth()) })
	side, err := json.MarshalIndent(makeSidecar(tenantID, mediaID, int64(len(data)), res, focalSource), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding manifest.json: %w", err)
	}
	if err := r.blobs.PutBytes(ctx, sidecarKey(tenantID, mediaID), side, "application/json"); err != nil {
		return err
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
	log.Info("photo resized", "width", res.Width, "height", res.Height, "renditions", len(res.Renditions))
	return nil
}

// readFocal reads the editor's focal point, if one was set. A malformed one
// is logged and ignored: the crop falls back to the default.
func (r *resizer) readFocal(ctx context.Context, tenantID, mediaID string) (*photo.Point, error) {
	b, err := r.blobs.GetBytes(ctx, focalKey(tenantID, mediaID), 4096)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := parseFocal(b)
	if err != nil {
		r.log.Warn("ignoring focal point", "tenant", tenantID, "media", mediaID, "err", err)
		return nil, nil
	}
	return p, nil
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
