package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disintegration/imaging"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/localstack"
	"github.com/blocpress/blocpress/libs/testkit"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

const testTenant = "hung-yen"

// testMaxBytes is low enough for a test to exceed it cheaply.
const testMaxBytes = 1_000_000

// harness is a running image-resize with real NATS and MinIO, and the clients
// a test drives it with.
type harness struct {
	bus      *bus.Bus
	blobs    *blob.Store
	media    jetstream.KeyValue
	httpAddr string
}

func start(t *testing.T) *harness {
	t.Helper()
	nats := testkit.NATS(t)
	s3 := testkit.MinIO(t)
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"NATS_URL":                nats.URL(),
		"S3_ENDPOINT":             s3.Endpoint,
		"S3_ACCESS_KEY":           s3.AccessKey,
		"S3_SECRET_KEY":           s3.SecretKey,
		"S3_BUCKET":               s3.Bucket,
		"IMAGE_RESIZE_HTTP_ADDR":  fmt.Sprintf("127.0.0.1:%d", port),
		"IMAGE_RESIZE_MAX_BYTES":  fmt.Sprint(testMaxBytes),
		"IMAGE_RESIZE_LOG_LEVEL":  "debug",
		"IMAGE_RESIZE_MAX_PIXELS": "40000000",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, t.Output()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})

	sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
	defer scancel()
	b, err := bus.Connect(bus.Config{URL: nats.URL(), Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	if err := b.Declare(sctx); err != nil {
		t.Fatal(err)
	}
	media, err := b.KV(sctx, bus.BucketMedia)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.New(s3)
	if err != nil {
		t.Fatal(err)
	}
	if err := blobs.EnsureBucket(sctx); err != nil {
		t.Fatal(err)
	}
	h := &harness{bus: b, blobs: blobs, media: media, httpAddr: env["IMAGE_RESIZE_HTTP_ADDR"]}
	for {
		code, body, err := h.get("/readyz")
		if err == nil && code == http.StatusOK {
			break
		}
		select {
		case <-sctx.Done():
			t.Fatalf("service never became ready: %d %s %v", code, body, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return h
}

func (h *harness) get(path string) (int, string, error) {
	res, err := http.Get("http://" + h.httpAddr + path)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// upload does what ingest does: store the original, announce it. With
// store false the original is announced but missing.
func (h *harness) upload(t *testing.T, data []byte, store bool) string {
	t.Helper()
	ctx := ctxFor(t)
	sum := sha256.Sum256(data)
	id := hex.EncodeToString(sum[:])
	if store {
		if err := h.blobs.PutBytes(ctx, originalKey(testTenant, id), data, "application/octet-stream"); err != nil {
			t.Fatal(err)
		}
	}
	err := h.bus.Publish(ctx, &eventsv1.Envelope{
		Id: testTenant + "." + id + ".uploaded", Type: bus.TypeMediaUploaded, Tenant: testTenant, CorrelationId: id,
		Payload: &eventsv1.Envelope_MediaUploaded{MediaUploaded: &eventsv1.MediaUploaded{
			MediaId: id, ContentType: "image/jpeg", Bytes: int64(len(data)), OriginalKey: originalKey(testTenant, id),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// outcome waits for the media.resized or media.failed event of a photo.
func (h *harness) outcome(t *testing.T, mediaID string) *eventsv1.Envelope {
	t.Helper()
	ctx := ctxFor(t)
	cons, err := h.bus.JetStream().OrderedConsumer(ctx, bus.StreamMedia, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{bus.Subject(bus.TypeMediaResized, testTenant), bus.Subject(bus.TypeMediaFailed, testTenant)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := cons.Next(jetstream.FetchContext(ctx))
		if err != nil {
			t.Fatalf("waiting for the outcome of %s: %v", mediaID, err)
		}
		env := &eventsv1.Envelope{}
		if err := proto.Unmarshal(msg.Data(), env); err != nil {
			t.Fatal(err)
		}
		if env.GetCorrelationId() == mediaID {
			return env
		}
	}
}

// settled waits until the consumer has nothing pending or unacknowledged, then
// checks that nothing was redelivered and that mediaID was not dead-lettered:
// the photo was handled exactly once.
func (h *harness) settled(t *testing.T, mediaID string) {
	t.Helper()
	ctx := ctxFor(t)
	cons, err := h.bus.JetStream().Consumer(ctx, bus.StreamMedia, bus.ConsumerImageResize)
	if err != nil {
		t.Fatal(err)
	}
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			if info.NumRedelivered != 0 {
				t.Errorf("%d messages were redelivered, want none", info.NumRedelivered)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("consumer never settled: %+v", info)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if dl := h.deadLettered(t, mediaID); dl != "" {
		t.Errorf("%s was dead-lettered: %s", mediaID, dl)
	}
}

// deadLettered returns the reason mediaID's upload was dead-lettered, or "".
func (h *harness) deadLettered(t *testing.T, mediaID string) string {
	t.Helper()
	dls, err := h.bus.DeadLetters(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dls {
		env := &eventsv1.Envelope{}
		if proto.Unmarshal(d.Data, env) == nil && env.GetMediaUploaded().GetMediaId() == mediaID {
			return d.Reason
		}
	}
	return ""
}

func (h *harness) manifest(t *testing.T, mediaID string) *eventsv1.MediaManifest {
	t.Helper()
	e, err := h.media.Get(ctxFor(t), testTenant+"."+mediaID)
	if err != nil {
		t.Fatalf("manifest of %s: %v", mediaID, err)
	}
	mf := &eventsv1.MediaManifest{}
	if err := proto.Unmarshal(e.Value(), mf); err != nil {
		t.Fatal(err)
	}
	return mf
}

// resized checks the success event and the manifest, and returns each
// rendition's bytes from S3, checked against what the event says.
func (h *harness) resized(t *testing.T, mediaID string, wantW, wantH []int) ([]*eventsv1.Rendition, [][]byte) {
	t.Helper()
	env := h.outcome(t, mediaID)
	h.settled(t, mediaID)
	if env.GetType() != bus.TypeMediaResized || env.GetId() != testTenant+"."+mediaID+".resized" {
		t.Fatalf("got %s %q (%v), want media.resized", env.GetType(), env.GetId(), env.GetMediaFailed())
	}
	res := env.GetMediaResized()
	if mf := h.manifest(t, mediaID); !proto.Equal(mf.GetResized(), res) || mf.GetFailed() != nil || mf.GetMediaId() != mediaID {
		t.Errorf("manifest = %v, want the event's MediaResized %v", mf, res)
	}
	var gotW, gotH []int
	var files [][]byte
	ctx := ctxFor(t)
	for _, r := range res.GetRenditions() {
		gotW, gotH = append(gotW, int(r.GetWidth())), append(gotH, int(r.GetHeight()))
		if want := fmt.Sprintf("media/%s/%s/%d.jpg", testTenant, mediaID, r.GetWidth()); r.GetKey() != want || r.GetFormat() != "jpeg" {
			t.Errorf("rendition key %q format %q, want %q jpeg", r.GetKey(), r.GetFormat(), want)
		}
		rc, info, err := h.blobs.Get(ctx, r.GetKey())
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if info.ContentType != "image/jpeg" || int64(len(b)) != r.GetBytes() {
			t.Errorf("%s: %s, %d bytes; want image/jpeg, %d bytes", r.GetKey(), info.ContentType, len(b), r.GetBytes())
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil || format != "jpeg" || cfg.Width != int(r.GetWidth()) || cfg.Height != int(r.GetHeight()) {
			t.Errorf("%s decodes as %s %d×%d (%v), want jpeg %d×%d", r.GetKey(), format, cfg.Width, cfg.Height, err, r.GetWidth(), r.GetHeight())
		}
		files = append(files, b)
	}
	if !slices.Equal(gotW, wantW) || !slices.Equal(gotH, wantH) {
		t.Errorf("renditions %v × %v, want %v × %v", gotW, gotH, wantW, wantH)
	}
	return res.GetRenditions(), files
}

// failed checks the failure event and manifest and returns the reason.
func (h *harness) failed(t *testing.T, mediaID string) string {
	t.Helper()
	env := h.outcome(t, mediaID)
	h.settled(t, mediaID)
	if env.GetType() != bus.TypeMediaFailed || env.GetId() != testTenant+"."+mediaID+".failed" {
		t.Fatalf("got %s %q, want media.failed", env.GetType(), env.GetId())
	}
	f := env.GetMediaFailed()
	if f.GetMediaId() != mediaID || f.GetReason() == "" {
		t.Errorf("MediaFailed = %v, want the media id and a reason", f)
	}
	if mf := h.manifest(t, mediaID); !proto.Equal(mf.GetFailed(), f) || mf.GetResized() != nil {
		t.Errorf("manifest = %v, want the event's MediaFailed", mf)
	}
	return f.GetReason()
}

func TestImageResize(t *testing.T) {
	h := start(t)

	t.Run("ready", func(t *testing.T) {
		code, body, err := h.get("/readyz")
		if err != nil || code != http.StatusOK || !strings.Contains(body, `"nats":"ok"`) || !strings.Contains(body, `"s3":"ok"`) {
			t.Errorf("/readyz = %d %s (%v), want 200 with nats and s3 ok", code, body, err)
		}
	})

	t.Run("landscape photo gets every configured width", func(t *testing.T) {
		id := h.upload(t, testkit.Photo(t, "photo1.jpg"), true)
		h.resized(t, id, []int{320, 640, 1024, 1600}, []int{240, 480, 768, 1200})
		if res := h.outcome(t, id).GetMediaResized(); res.GetOriginalWidth() != 1920 || res.GetOriginalHeight() != 1440 {
			t.Errorf("original %d×%d, want 1920×1440", res.GetOriginalWidth(), res.GetOriginalHeight())
		}
	})

	t.Run("EXIF orientation is applied and metadata stripped", func(t *testing.T) {
		orig := testkit.Photo(t, "photo1-exif-rotated.jpg")
		if !bytes.Contains(orig, []byte("Exif")) {
			t.Fatal("test photo has no EXIF block")
		}
		id := h.upload(t, orig, true)
		// Oriented it is 1440×1920: 1440 is below 1600, so it is kept as is.
		rends, files := h.resized(t, id, []int{320, 640, 1024, 1440}, []int{427, 853, 1365, 1920})
		for i, b := range files {
			if bytes.Contains(b, []byte("Exif")) || bytes.Contains(b, []byte{0xFF, 0xE1}) {
				t.Errorf("%s still has an EXIF / APP1 segment", rends[i].GetKey())
			}
		}
		// Orientation 6 is "rotate 90° clockwise to display": compare with the
		// unrotated photo turned that way (imaging rotates counter-clockwise).
		plain, err := imaging.Decode(bytes.NewReader(testkit.Photo(t, "photo1.jpg")))
		if err != nil {
			t.Fatal(err)
		}
		want := imaging.Resize(imaging.Rotate270(plain), 320, 427, imaging.Lanczos)
		got, err := imaging.Decode(bytes.NewReader(files[0]))
		if err != nil {
			t.Fatal(err)
		}
		if d := meanAbsDiff(got, want); d > 8 {
			t.Errorf("320-px rendition differs from the photo rotated 90° clockwise by %.1f per channel; wrong rotation?", d)
		}
	})

	t.Run("text file fails", func(t *testing.T) {
		id := h.upload(t, []byte("Xin chào, đây không phải là ảnh.\n"), true)
		if r := h.failed(t, id); !strings.Contains(r, "not a JPEG, PNG, GIF or WebP image") {
			t.Errorf("reason %q, want it to say the file is not an image", r)
		}
	})

	t.Run("truncated JPEG fails", func(t *testing.T) {
		photo := testkit.Photo(t, "photo1.jpg")
		id := h.upload(t, photo[:len(photo)/2], true)
		if r := h.failed(t, id); !strings.Contains(r, "truncated") {
			t.Errorf("reason %q, want it to say the file is truncated", r)
		}
	})

	t.Run("pixel bomb header fails", func(t *testing.T) {
		id := h.upload(t, pngHeader(30000, 30000), true)
		if r := h.failed(t, id); !strings.Contains(r, "30000×30000") || !strings.Contains(r, "limit of 40000000 pixels") {
			t.Errorf("reason %q, want the size and the pixel limit", r)
		}
	})

	t.Run("file over the byte limit fails", func(t *testing.T) {
		big := append(testkit.Photo(t, "photo1.jpg"), testkit.Photo(t, "photo2.jpg")...)
		if len(big) <= testMaxBytes {
			t.Fatalf("test file is %d bytes, not over %d", len(big), testMaxBytes)
		}
		id := h.upload(t, big, true)
		if r := h.failed(t, id); !strings.Contains(r, fmt.Sprintf("limit of %d bytes", testMaxBytes)) {
			t.Errorf("reason %q, want the byte limit", r)
		}
	})

	t.Run("missing original is dead-lettered", func(t *testing.T) {
		id := h.upload(t, []byte("never stored"), false)
		ctx := ctxFor(t)
		for h.deadLettered(t, id) == "" {
			select {
			case <-ctx.Done():
				t.Fatal("upload of a missing original was not dead-lettered")
			case <-time.After(20 * time.Millisecond):
			}
		}
		if r := h.deadLettered(t, id); !strings.Contains(r, blob.ErrNotFound.Error()) {
			t.Errorf("dead-letter reason %q, want %q", r, blob.ErrNotFound)
		}
		if _, err := h.media.Get(ctx, testTenant+"."+id); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Errorf("manifest of a missing original: err = %v, want none written", err)
		}
	})

	t.Run("metrics count outcomes", func(t *testing.T) {
		_, body, err := h.get("/metrics")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`image_resize_photos_total{outcome="resized"} 2`, `image_resize_photos_total{outcome="failed"} 4`} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

func TestConfigIsChecked(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"not a number": {"IMAGE_RESIZE_WIDTHS": "320,wide"},
		"zero width":   {"IMAGE_RESIZE_WIDTHS": "0,640"},
		"quality":      {"IMAGE_RESIZE_JPEG_QUALITY": "101"},
		"pixels":       {"IMAGE_RESIZE_MAX_PIXELS": "-1"},
	} {
		err := run(t.Context(), func(k string) string { return env[k] }, io.Discard)
		if err == nil {
			t.Errorf("%s: run accepted %v", name, env)
		}
	}
	cfg := Config{Widths: []int{1024, 320, 640, 320}, MaxPixels: 1, MaxBytes: 1, JPEGQuality: 82}
	cfg.ShutdownTimeout = time.Second
	if err := cfg.validate(); err != nil || !slices.Equal(cfg.Widths, []int{320, 640, 1024}) {
		t.Errorf("validate: %v, widths %v; want sorted without repeats", err, cfg.Widths)
	}
}

// meanAbsDiff is the mean absolute difference per 8-bit channel of two
// same-sized images.
func meanAbsDiff(a, b image.Image) float64 {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 255
	}
	var sum, n float64
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			r1, g1, b1, _ := a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				sum += float64(max(d, -d))
				n++
			}
		}
	}
	return sum / n
}
