package jpegdec

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/blocpress/blocpress/libs/testkit"
)

func testFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{
		"photo1.jpg": testkit.Photo(t, "photo1.jpg"),
		"photo3.jpg": testkit.Photo(t, "photo3.jpg"),
	}
	for _, name := range []string{"progressive.jpg", "gray.jpg", "cmyk.jpg"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	return files
}

// At scale 1 the fork decodes exactly as image/jpeg does: the fast Huffman
// path and the 16-bit progressive coefficients change nothing.
func TestFullScaleMatchesImageJPEG(t *testing.T) {
	for name, data := range testFiles(t) {
		want, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: image/jpeg: %v", name, err)
		}
		got, err := Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%s: bounds %v, want %v", name, got.Bounds(), want.Bounds())
		}
		b := want.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if got.At(x, y) != want.At(x, y) {
					t.Fatalf("%s: pixel (%d,%d) is %v, image/jpeg says %v", name, x, y, got.At(x, y), want.At(x, y))
				}
			}
		}
	}
}

// A reduced decode is close to the full decode averaged over the same
// squares: the reduced IDCT keeps the low frequencies of each block.
func TestScaledDecodeIsTheAverage(t *testing.T) {
	for name, data := range testFiles(t) {
		full, err := Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []int{2, 4, 8} {
			img, err := DecodeScaled(bytes.NewReader(data), s, 0)
			if err != nil {
				t.Fatalf("%s at 1/%d: %v", name, s, err)
			}
			fb := full.Bounds()
			want := image.Rect(0, 0, (fb.Dx()+s-1)/s, (fb.Dy()+s-1)/s)
			if img.Bounds() != want {
				t.Fatalf("%s at 1/%d: bounds %v, want %v", name, s, img.Bounds(), want)
			}
			if d := meanDiff(full, img, s); d > 2.5 {
				t.Errorf("%s at 1/%d: differs from the averaged full decode by %.2f per channel", name, s, d)
			}
		}
	}
}

// meanDiff compares sc with full averaged over s×s squares, per 8-bit RGB
// channel, away from the right and bottom edges.
func meanDiff(full, sc image.Image, s int) float64 {
	var sum, n float64
	b := sc.Bounds()
	for y := 0; y < b.Dy()-1; y++ {
		for x := 0; x < b.Dx()-1; x++ {
			var acc [3]float64
			for j := range s {
				for i := range s {
					r, g, bl, _ := full.At(x*s+i, y*s+j).RGBA()
					acc[0] += float64(r >> 8)
					acc[1] += float64(g >> 8)
					acc[2] += float64(bl >> 8)
				}
			}
			r, g, bl, _ := sc.At(x, y).RGBA()
			for c, v := range []uint32{r, g, bl} {
				d := acc[c]/float64(s*s) - float64(v>>8)
				sum += max(d, -d)
				n++
			}
		}
	}
	return sum / n
}

func TestPixelLimitBeforeAllocating(t *testing.T) {
	data := testkit.Photo(t, "photo1.jpg") // 1920×1440
	_, err := DecodeScaled(bytes.NewReader(data), 8, 1920*1440-1)
	if !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("err = %v, want ErrTooManyPixels", err)
	}
	if _, err := DecodeScaled(bytes.NewReader(data), 8, 1920*1440); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if _, err := DecodeScaled(bytes.NewReader(data), 3, 0); err == nil {
		t.Fatal("scale 3 accepted")
	}
}

func TestTruncatedAndCorrupt(t *testing.T) {
	for name, data := range testFiles(t) {
		for _, cut := range []int{len(data) / 3, len(data) / 2, len(data) - 10} {
			for _, s := range []int{1, 8} {
				if _, err := DecodeScaled(bytes.NewReader(data[:cut]), s, 0); err == nil {
					t.Errorf("%s cut at %d decoded at 1/%d without error", name, cut, s)
				}
			}
		}
		// Flipped bytes in the entropy-coded data: an error or a picture,
		// never a panic.
		bad := bytes.Clone(data)
		for i := len(bad) / 2; i < len(bad)-2; i += 97 {
			bad[i] ^= 0x5a
		}
		_, _ = DecodeScaled(bytes.NewReader(bad), 2, 0)
	}
}

func BenchmarkDecodeScaled(b *testing.B) {
	data := testkit.Photo(b, "photo1.jpg")
	for _, s := range []int{1, 2, 4, 8} {
		b.Run("1/"+string(rune('0'+s)), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := DecodeScaled(bytes.NewReader(data), s, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
