package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/disintegration/imaging"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/testkit"
)

// resizedCount reads image_resize_photos_total{outcome="resized"} of the
// instance at addr.
func resizedCount(t *testing.T, addr string) int {
	t.Helper()
	h := &harness{httpAddr: addr}
	_, body, err := h.get("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`image_resize_photos_total\{outcome="resized"\} (\d+)`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func waitReady(t *testing.T, addr string) {
	t.Helper()
	h := &harness{httpAddr: addr}
	h.waitReady(t)
}

// Two instances share the durable consumer: every photo is handled by one of
// them, once — none twice, none redelivered.
func TestTwoInstancesShareTheWork(t *testing.T) {
	srv := servers{natsURL: testkit.NATS(t).URL(), s3: testkit.MinIO(t)}
	h := srv.client(t)
	a, b := srv.instance(t, nil), srv.instance(t, nil)
	waitReady(t, a)
	waitReady(t, b)

	src, err := imaging.Decode(bytes.NewReader(testkit.Photo(t, "photo3.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var ids []string
	for i := range n {
		// Eight different photos: different crops of one.
		img := imaging.Crop(src, image.Rect(i*20, i*10, i*20+900, i*10+600))
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h.upload(t, buf.Bytes(), true))
	}
	for _, id := range ids {
		h.resized(t, id, []int{320, 640, 900}, []int{213, 427, 600})
	}
	na, nb := resizedCount(t, a), resizedCount(t, b)
	t.Logf("instance A resized %d photos, B %d", na, nb)
	if na+nb != n {
		t.Errorf("the instances resized %d + %d photos, want %d in all: each once", na, nb, n)
	}
}

// A killed instance's photo is redelivered and finished by another. The
// instance is a real process, killed with SIGKILL while it renders a large
// photo (it cannot finish, drain or nak): JetStream redelivers the message
// once the ack wait passes without progress.
func TestKilledInstancesPhotoIsFinishedByAnother(t *testing.T) {
	srv := servers{natsURL: testkit.NATS(t).URL(), s3: testkit.MinIO(t)}
	h := srv.client(t)

	bin := filepath.Join(t.TempDir(), "image-resize")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building image-resize: %v\n%s", err, out)
	}
	env := srv.env(t, map[string]string{"IMAGE_RESIZE_MAX_BYTES": "100000000"})
	cmd := exec.Command(bin)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	waitReady(t, env["IMAGE_RESIZE_HTTP_ADDR"])

	// A 12-megapixel PNG of noise: about a second of decoding, so the
	// instance is still at it when it is killed (checked below).
	big := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big.Pix {
		big.Pix[i] = uint8(r.Uint32())
	}
	for i := 3; i < len(big.Pix); i += 4 {
		big.Pix[i] = 255
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, big); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	sum := sha256.Sum256(data)
	id := hex.EncodeToString(sum[:])

	ctx := ctxFor(t)
	cons, err := h.bus.JetStream().Consumer(ctx, bus.StreamMedia, bus.ConsumerImageResize)
	if err != nil {
		t.Fatal(err)
	}
	h.upload(t, data, true)
	// Kill the instance as soon as it holds the photo.
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the instance never took the photo")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	if _, err := h.media.Get(ctx, testTenant+"."+id); err != jetstream.ErrKeyNotFound {
		t.Fatalf("the killed instance finished the photo before it died (%v); the test photo is too small", err)
	}

	// Another instance takes over.
	other := srv.instance(t, map[string]string{"IMAGE_RESIZE_MAX_BYTES": "100000000"})
	waitReady(t, other)
	env2 := h.outcome(t, id)
	if env2.GetType() != bus.TypeMediaResized {
		t.Fatalf("outcome %s (%v), want media.resized", env2.GetType(), env2.GetMediaFailed())
	}
	if w := env2.GetMediaResized().GetOriginalWidth(); w != 4000 {
		t.Errorf("original width %d", w)
	}
	// The event is published just before the message is acknowledged: wait
	// for the acknowledgement.
	var info *jetstream.ConsumerInfo
	for {
		if info, err = cons.Info(ctx); err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the photo was never acknowledged: %+v", info)
		case <-time.After(20 * time.Millisecond):
		}
	}
	// One message, delivered twice: to the killed instance, then to the other.
	if info.Delivered.Consumer != 2 {
		t.Errorf("consumer delivered %d times, want 2", info.Delivered.Consumer)
	}
	if n := resizedCount(t, other); n != 1 {
		t.Errorf("the other instance resized %d photos, want 1", n)
	}
	if dl := h.deadLettered(t, id); dl != "" {
		t.Errorf("dead-lettered: %s", dl)
	}
}
