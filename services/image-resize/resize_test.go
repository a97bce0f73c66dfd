package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disintegration/imaging"
	"github.com/nats-io/nats.go/jetstream"
	_ "golang.org/x/image/webp" // image.Decode reads the WebP renditions
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

// servers are the NATS and MinIO one or more instances share.
type servers struct {
	natsURL string
	s3      blob.Config
}

func start(t *testing.T) *harness {
	t.Helper()
	nats := testkit.NATS(t)
	srv := servers{natsURL: nats.URL(), s3: testkit.MinIO(t)}
	h := srv.client(t)
	h.httpAddr = srv.instance(t, nil)
	h.waitReady(t)
	return h
}

// env is an instance's environment.
func (srv servers) env(t *testing.T, extra map[string]string) map[string]string {
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"NATS_URL":                srv.natsURL,
		"S3_ENDPOINT":             srv.s3.Endpoint,
		"S3_ACCESS_KEY":           srv.s3.AccessKey,
		"S3_SECRET_KEY":           srv.s3.SecretKey,
		"S3_BUCKET":               srv.s3.Bucket,
		"IMAGE_RESIZE_HTTP_ADDR":  fmt.Sprintf("127.0.0.1:%d", port),
		"IMAGE_RESIZE_MAX_BYTES":  fmt.Sprint(testMaxBytes),
		"IMAGE_RESIZE_LOG_LEVEL":  "debug",
		"IMAGE_RESIZE_MAX_PIXELS": "40000000",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// instance runs image-resize in-process until the test ends and returns its
// HTTP address.
func (srv servers) instance(t *testing.T, extra map[string]string) string {
	t.Helper()
	env := srv.env(t, extra)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, t.Output()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return env["IMAGE_RESIZE_HTTP_ADDR"]
}

// client connects the test's own clients.
func (srv servers) client(t *testing.T) *harness {
	t.Helper()
	sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
	defer scancel()
	b, err := bus.Connect(bus.Config{URL: srv.natsURL, Name: "test"})
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
	blobs, err := blob.New(srv.s3)
	if err != nil {
		t.Fatal(err)
	}
	if err := blobs.EnsureBucket(sctx); err != nil {
		t.Fatal(err)
	}
	return &harness{bus: b, blobs: blobs, media: media}
}

func (h *harness) waitReady(t *testing.T) {
	t.Helper()
	ctx := ctxFor(t)
	for {
		code, body, err := h.get("/readyz")
		if err == nil && code == http.StatusOK {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("service never became ready: %d %s %v", code, body, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
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

// resized checks the success event and the manifest, and returns the plain
// renditions and their bytes from S3, checked against what the event says;
// wantW and wantH are the plain renditions' sizes (crops are checked too,
// for key, size and 16:9).
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
	var plain []*eventsv1.Rendition
	ctx := ctxFor(t)
	last := int32(0)
	for _, r := range res.GetRenditions() {
		if r.GetWidth() < last {
			t.Errorf("renditions not ordered by width: %d after %d", r.GetWidth(), last)
		}
		last = r.GetWidth()
		ext, ctype := map[string]string{"jpeg": "jpg", "png": "png", "jpeg-16x9": "jpg"}[r.GetFormat()], "image/jpeg"
		want := fmt.Sprintf("media/%s/%s/%d.%s", testTenant, mediaID, r.GetWidth(), ext)
		switch r.GetFormat() {
		case "jpeg-16x9":
			want = fmt.Sprintf("media/%s/%s/%d-16x9.jpg", testTenant, mediaID, r.GetWidth())
		case "png":
			ctype = "image/png"
		}
		if r.GetKey() != want || ext == "" {
			t.Errorf("rendition key %q format %q, want %q", r.GetKey(), r.GetFormat(), want)
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
		if info.ContentType != ctype || int64(len(b)) != r.GetBytes() {
			t.Errorf("%s: %s, %d bytes; want %s, %d bytes", r.GetKey(), info.ContentType, len(b), ctype, r.GetBytes())
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil || format != strings.TrimSuffix(r.GetFormat(), "-16x9") || cfg.Width != int(r.GetWidth()) || cfg.Height != int(r.GetHeight()) {
			t.Errorf("%s decodes as %s %d×%d (%v), want %s %d×%d", r.GetKey(), format, cfg.Width, cfg.Height, err, r.GetFormat(), r.GetWidth(), r.GetHeight())
		}
		if r.GetFormat() == "jpeg-16x9" {
			if cfg.Width*9 != cfg.Height*16 {
				t.Errorf("%s is %d×%d, not 16:9", r.GetKey(), cfg.Width, cfg.Height)
			}
			continue
		}
		gotW, gotH = append(gotW, int(r.GetWidth())), append(gotH, int(r.GetHeight()))
		files = append(files, b)
		plain = append(plain, r)
	}
	if !slices.Equal(gotW, wantW) || !slices.Equal(gotH, wantH) {
		t.Errorf("renditions %v × %v, want %v × %v", gotW, gotH, wantW, wantH)
	}
	return plain, files
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

// sidecar reads a photo's manifest.json.
func (h *harness) sidecar(t *testing.T, mediaID string) *sidecar {
	t.Helper()
	b, err := h.blobs.GetBytes(ctxFor(t), sidecarKey(testTenant, mediaID), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var sc sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		t.Fatal(err)
	}
	return &sc
}

// object reads a stored object and its content type.
func (h *harness) object(t *testing.T, key string) ([]byte, string) {
	t.Helper()
	rc, info, err := h.blobs.Get(ctxFor(t), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, info.ContentType
}

// pngHeader is a PNG signature and an IHDR chunk (8-bit RGBA) claiming
// width×height, with nothing after it.
func pngHeader(width, height uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := binary.BigEndian.AppendUint32([]byte("IHDR"), width)
	chunk = binary.BigEndian.AppendUint32(chunk, height)
	chunk = append(chunk, 8, 6, 0, 0, 0)
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(chunk)-4)))
	b.Write(chunk)
	b.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(chunk)))
	return b.Bytes()
}

func TestImageResize(t *testing.T) {
	h := start(t)

	t.Run("ready", func(t *testing.T) {
		code, body, err := h.get("/readyz")
		if err != nil || code != http.StatusOK || !strings.Contains(body, `"nats":"ok"`) || !strings.Contains(body, `"s3":"ok"`) {
			t.Errorf("/readyz = %d %s (%v), want 200 with nats and s3 ok", code, body, err)
		}
	})

	t.Run("landscape photo gets every configured width, crops and a manifest", func(t *testing.T) {
		orig := testkit.Photo(t, "photo1.jpg")
		id := h.upload(t, orig, true)
		h.resized(t, id, []int{320, 640, 1024, 1600}, []int{240, 480, 768, 1200})
		if res := h.outcome(t, id).GetMediaResized(); res.GetOriginalWidth() != 1920 || res.GetOriginalHeight() != 1440 {
			t.Errorf("original %d×%d, want 1920×1440", res.GetOriginalWidth(), res.GetOriginalHeight())
		}
		sc := h.sidecar(t, id)
		if sc.Original.Format != "jpeg" || sc.Original.Bytes != int64(len(orig)) || sc.Width != 1920 || sc.Height != 1440 || sc.Transparent {
			t.Errorf("manifest.json original %+v, %d×%d transparent %v", sc.Original, sc.Width, sc.Height, sc.Transparent)
		}
		if !regexp.MustCompile(`^#[0-9a-f]{6}$`).MatchString(sc.DominantColor) || !strings.HasPrefix(sc.Placeholder, "data:image/png;base64,") {
			t.Errorf("dominant colour %q, placeholder %.40q", sc.DominantColor, sc.Placeholder)
		}
		if sc.Crop == nil || sc.Crop.Width != 1920 || sc.Crop.Height != 1080 || sc.Crop.FocalSource != "smart" {
			t.Errorf("crop %+v, want a 1920×1080 window placed by smart detection", sc.Crop)
		}
		var crops []string
		for _, r := range sc.Renditions {
			b, ctype := h.object(t, r.Key)
			if len(b) != r.Bytes || ctype != "image/jpeg" {
				t.Errorf("%s: %d bytes %s, manifest says %d", r.Key, len(b), ctype, r.Bytes)
			}
			if r.Kind == "crop-16x9" {
				crops = append(crops, fmt.Sprintf("%s %d×%d", path.Base(r.Key), r.Width, r.Height))
				if !slices.ContainsFunc(h.outcome(t, id).GetMediaResized().GetRenditions(), func(m *eventsv1.Rendition) bool {
					return m.GetKey() == r.Key && m.GetFormat() == "jpeg-16x9"
				}) {
					t.Errorf("%s is not in media.resized as jpeg-16x9", r.Key)
				}
				cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
				if err != nil || cfg.Width*9 != cfg.Height*16 {
					t.Errorf("%s is %d×%d (%v), not 16:9", r.Key, cfg.Width, cfg.Height, err)
				}
			}
		}
		if want := []string{"320-16x9.jpg 320×180", "640-16x9.jpg 640×360", "1280-16x9.jpg 1280×720"}; !slices.Equal(crops, want) {
			t.Errorf("crops %q, want %q", crops, want)
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
		if d := testkit.MeanAbsDiff(got, want); d > 8 {
			t.Errorf("320-px rendition differs from the photo rotated 90° clockwise by %.1f per channel; wrong rotation?", d)
		}
		if sc := h.sidecar(t, id); sc.Original.Orientation != 6 || sc.Width != 1440 || sc.Height != 1920 {
			t.Errorf("manifest.json: orientation %d, %d×%d", sc.Original.Orientation, sc.Width, sc.Height)
		}
	})

	t.Run("transparent PNG keeps PNG and WebP renditions beside the JPEG ones", func(t *testing.T) {
		img := image.NewNRGBA(image.Rect(0, 0, 700, 350))
		for y := 50; y < 300; y++ {
			for x := 100; x < 600; x++ {
				img.SetNRGBA(x, y, color.NRGBA{R: 30, G: 90, B: 200, A: 255})
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		id := h.upload(t, buf.Bytes(), true)
		h.resized(t, id, []int{320, 640, 700}, []int{160, 320, 350})
		sc := h.sidecar(t, id)
		if !sc.Transparent {
			t.Error("manifest.json does not say transparent")
		}
		var pngs []string
		for _, r := range sc.Renditions {
			if r.Format == "png" || r.Format == "webp" {
				b, ctype := h.object(t, r.Key)
				out, format, err := image.Decode(bytes.NewReader(b))
				if err != nil || ctype != "image/"+r.Format || format != r.Format {
					t.Fatalf("%s: %s %s %v", r.Key, ctype, format, err)
				}
				if _, _, _, a := out.At(2, 2).RGBA(); a != 0 {
					t.Errorf("%s: corner alpha %d, want transparent", r.Key, a>>8)
				}
				pngs = append(pngs, path.Base(r.Key))
			}
		}
		if want := []string{"320.png", "640.png", "700.png", "320.webp", "640.webp", "700.webp"}; !slices.Equal(pngs, want) {
			t.Errorf("transparent renditions %q, want %q", pngs, want)
		}
	})

	t.Run("the editor's focal point places the crop", func(t *testing.T) {
		src, err := imaging.Decode(bytes.NewReader(testkit.Photo(t, "photo2.jpg")))
		if err != nil {
			t.Fatal(err)
		}
		portrait := imaging.Resize(imaging.Rotate90(src), 800, 0, imaging.Lanczos)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, portrait, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		sum := sha256.Sum256(data)
		id := hex.EncodeToString(sum[:])
		if err := h.blobs.PutBytes(ctxFor(t), focalKey(testTenant, id), []byte(`{"x":0.5,"y":0.1}`), "application/json"); err != nil {
			t.Fatal(err)
		}
		h.upload(t, data, true)
		h.resized(t, id, []int{320, 640, 800}, []int{481, 962, 1202})
		sc := h.sidecar(t, id)
		if sc.Crop == nil || sc.Crop.FocalSource != "editor" || sc.Crop.Y != 0 || sc.Crop.Width != 800 || sc.Crop.Height != 450 {
			t.Errorf("crop %+v, want 800×450 at the top, from the editor's focal point", sc.Crop)
		}
	})

	t.Run("animated GIF gives its first frame", func(t *testing.T) {
		g := &gif.GIF{}
		for i := range 3 {
			m := image.NewPaletted(image.Rect(0, 0, 400, 200), palette.Plan9)
			for j := range m.Pix {
				m.Pix[j] = uint8(20 + 50*i)
			}
			g.Image, g.Delay = append(g.Image, m), append(g.Delay, 10)
		}
		var buf bytes.Buffer
		if err := gif.EncodeAll(&buf, g); err != nil {
			t.Fatal(err)
		}
		id := h.upload(t, buf.Bytes(), true)
		_, files := h.resized(t, id, []int{320, 400}, []int{160, 200})
		out, _ := imaging.Decode(bytes.NewReader(files[0]))
		want := color.RGBAModel.Convert(palette.Plan9[20]).(color.RGBA)
		if c := color.RGBAModel.Convert(out.At(100, 50)).(color.RGBA); max(absDiff(c.R, want.R), absDiff(c.G, want.G), absDiff(c.B, want.B)) > 8 {
			t.Errorf("centre %v, want the first frame's %v", c, want)
		}
		if sc := h.sidecar(t, id); sc.Original.Frames != 3 {
			t.Errorf("manifest.json: %d frames, want 3", sc.Original.Frames)
		}
	})

	t.Run("text file fails", func(t *testing.T) {
		id := h.upload(t, []byte("Xin chào, đây không phải là ảnh.\n"), true)
		if r := h.failed(t, id); !strings.Contains(r, "not a JPEG, PNG, GIF or WebP image") {
			t.Errorf("reason %q, want it to say the file is not an image", r)
		}
	})

	t.Run("SVG fails with a reason", func(t *testing.T) {
		id := h.upload(t, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), true)
		if r := h.failed(t, id); !strings.Contains(r, "SVG files are not accepted") {
			t.Errorf("reason %q, want SVG refused", r)
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
		for _, want := range []string{`image_resize_photos_total{outcome="resized"} 5`, `image_resize_photos_total{outcome="failed"} 5`, `image_resize_render_seconds_count 6`} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

func absDiff(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }

func TestConfigIsChecked(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"not a number": {"IMAGE_RESIZE_WIDTHS": "320,wide"},
		"zero width":   {"IMAGE_RESIZE_WIDTHS": "0,640"},
		"quality":      {"IMAGE_RESIZE_JPEG_QUALITY": "101"},
		"pixels":       {"IMAGE_RESIZE_MAX_PIXELS": "-1"},
		"crop width":   {"IMAGE_RESIZE_CROP_WIDTHS": "320,70000"},
		"crop default": {"IMAGE_RESIZE_CROP_DEFAULT": "faces"},
		"budget":       {"IMAGE_RESIZE_PIXEL_BUDGET": "0"},
	} {
		err := run(t.Context(), func(k string) string { return env[k] }, io.Discard)
		if err == nil {
			t.Errorf("%s: run accepted %v", name, env)
		}
	}
	cfg := Config{Widths: []int{1024, 320, 640, 320}, MaxPixels: 1, MaxBytes: 1, JPEGQuality: 82}
	cfg.ShutdownTimeout = time.Second
	cfg.CropWidths, cfg.CropDefault, cfg.PixelBudget = []int{1280, 320, 1280}, "centre", 1
	if err := cfg.validate(); err != nil || !slices.Equal(cfg.Widths, []int{320, 640, 1024}) || !slices.Equal(cfg.CropWidths, []int{320, 1280}) {
		t.Errorf("validate: %v, widths %v crops %v; want sorted without repeats", err, cfg.Widths, cfg.CropWidths)
	}
	cfg.CropWidths = []int{0}
	if err := cfg.validate(); err != nil || cfg.CropWidths != nil {
		t.Errorf("CROP_WIDTHS=0: %v %v, want no crops", err, cfg.CropWidths)
	}
}
