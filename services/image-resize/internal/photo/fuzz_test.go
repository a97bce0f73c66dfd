package photo

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

// FuzzRender feeds arbitrary bytes through the whole decode path: type
// sniffing, header parsing, the limits, the decoders (our JPEG fork, PNG,
// GIF, WebP, animated WebP frames) and the renditions. Whatever comes in,
// Render returns renditions that decode, or an *Unusable reason — and never
// panics (a contained decoder panic says "the decoder failed", which the
// fuzzer reports as a bug). Inputs it found interesting are kept in
// testdata/fuzz/FuzzRender and run by every go test.
func FuzzRender(f *testing.F) {
	for _, name := range []string{"progressive.jpg", "gray.jpg", "cmyk.jpg", "lossy.webp", "lossless-alpha.webp"} {
		f.Add(testdata(f, name))
	}
	var tiny bytes.Buffer
	img := image.NewNRGBA(image.Rect(0, 0, 24, 16))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	img.SetNRGBA(0, 0, color.NRGBA{})
	if err := png.Encode(&tiny, img); err != nil {
		f.Fatal(err)
	}
	f.Add(tiny.Bytes())
	f.Add(animatedGIF(f, 20, 10, 2))
	for _, b := range bombs(f) {
		f.Add(b)
	}
	f.Add([]byte("<svg/>"))
	opt := Options{Widths: []int{16, 48}, CropWidths: []int{32}, JPEGQuality: 80, MaxPixels: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Render(data, opt)
		var u *Unusable
		if errors.As(err, &u) {
			if strings.Contains(u.Reason, "decoder failed") {
				t.Fatalf("decoder panicked: %s", u.Reason)
			}
			return
		}
		if err != nil {
			t.Fatalf("error that is not *Unusable: %v", err)
		}
		for _, r := range res.Renditions {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(r.Data))
			if err != nil || cfg.Width != r.Width || cfg.Height != r.Height {
				t.Fatalf("%v decodes as %d×%d: %v", r, cfg.Width, cfg.Height, err)
			}
		}
	})
}
