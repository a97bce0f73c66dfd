package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color/palette"
	"image/gif"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/blocpress/blocpress/libs/testkit"
)

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pngHeader is a PNG signature and an IHDR chunk (8-bit RGBA) claiming
// width×height, then extra chunks, with no image data.
func pngHeader(width, height uint32, extra ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	writeChunk(&b, "IHDR", ihdr)
	for _, c := range extra {
		b.Write(c)
	}
	return b.Bytes()
}

func writeChunk(b *bytes.Buffer, typ string, body []byte) {
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(body))))
	c := append([]byte(typ), body...)
	b.Write(c)
	b.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(c)))
}

// acTL is an APNG animation control chunk for n frames.
func acTL(n uint32) []byte {
	var b bytes.Buffer
	writeChunk(&b, "acTL", binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, n), 0))
	return b.Bytes()
}

// jpegHeader is the start of a baseline JPEG claiming width×height.
func jpegHeader(width, height uint16) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8}
	b = binary.BigEndian.AppendUint16(b, height)
	b = binary.BigEndian.AppendUint16(b, width)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	return append(b, 0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0)
}

// animatedGIF has frames frames of w×h, all of them whole.
func animatedGIF(t testing.TB, w, h, frames int) []byte {
	t.Helper()
	g := &gif.GIF{}
	for i := range frames {
		m := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		for y := range h {
			for x := range w {
				m.SetColorIndex(x, y, uint8(10+i*40))
			}
		}
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gifBomb is a GIF whose logical screen and frames claim w×h, with frames
// frames of almost no data each.
func gifBomb(w, h uint16, frames int) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0x80, 0, 0, 0, 0, 0, 255, 255, 255) // 2-colour global table
	for range frames {
		b = append(b, 0x2C, 0, 0, 0, 0)
		b = binary.LittleEndian.AppendUint16(b, w)
		b = binary.LittleEndian.AppendUint16(b, h)
		b = append(b, 0, 2, 2, 0x4C, 0x01, 0) // min code size 2, one sub-block, end
	}
	return append(b, 0x3B)
}

// webpVP8X is an extended WebP header claiming w×h, optionally animated with
// frames ANMF chunks of the same size.
func webpVP8X(w, h uint32, frames int) []byte {
	var body bytes.Buffer
	body.WriteString("WEBP")
	flags := byte(0)
	if frames > 0 {
		flags = 0x02
	}
	body.WriteString("VP8X")
	body.Write(binary.LittleEndian.AppendUint32(nil, 10))
	body.Write([]byte{flags, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)})
	for range frames {
		body.WriteString("ANMF")
		body.Write(binary.LittleEndian.AppendUint32(nil, 16))
		body.Write([]byte{0, 0, 0, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16), 0, 0, 0, 0})
	}
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(body.Len()))...)
	return append(out, body.Bytes()...)
}

func TestInspect(t *testing.T) {
	tests := []struct {
		name        string
		data        []byte
		format      string
		w, h        int
		frames      int
		orientation int
	}{
		{"baseline JPEG", testkit.Photo(t, "photo1.jpg"), "jpeg", 1920, 1440, 1, 1},
		{"JPEG with EXIF orientation 6", testkit.Photo(t, "photo1-exif-rotated.jpg"), "jpeg", 1920, 1440, 1, 6},
		{"progressive JPEG", testdata(t, "progressive.jpg"), "jpeg", 480, 320, 1, 1},
		{"grey JPEG", testdata(t, "gray.jpg"), "jpeg", 480, 320, 1, 1},
		{"CMYK JPEG", testdata(t, "cmyk.jpg"), "jpeg", 240, 160, 1, 1},
		{"lossy WebP", testdata(t, "lossy.webp"), "webp", 480, 320, 1, 1},
		{"lossless WebP with alpha", testdata(t, "lossless-alpha.webp"), "webp", 200, 112, 1, 1},
		{"PNG header", pngHeader(300, 200), "png", 300, 200, 1, 1},
		{"APNG", pngHeader(100, 100, acTL(7)), "png", 100, 100, 7, 1},
		{"animated GIF", animatedGIF(t, 40, 30, 3), "gif", 40, 30, 3, 1},
		{"animated WebP header", webpVP8X(64, 48, 5), "webp", 64, 48, 5, 1},
	}
	for _, tt := range tests {
		h, err := Inspect(tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if h.Format != tt.format || h.Width != tt.w || h.Height != tt.h || h.Frames != tt.frames || h.Orientation != tt.orientation {
			t.Errorf("%s: %+v, want %s %d×%d, %d frames, orientation %d", tt.name, h, tt.format, tt.w, tt.h, tt.frames, tt.orientation)
		}
	}
	if h, _ := Inspect(testdata(t, "progressive.jpg")); !h.Progressive {
		t.Error("progressive JPEG not recognised as progressive")
	}
}

func TestInspectRefusesWithAReason(t *testing.T) {
	heic := append([]byte{0, 0, 0, 0x18}, []byte("ftypheic\x00\x00\x00\x00mif1heic")...)
	avif := append([]byte{0, 0, 0, 0x1c}, []byte("ftypavif\x00\x00\x00\x00avifmif1miaf")...)
	tests := []struct {
		name, data, want string
	}{
		{"SVG", `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`, "SVG files are not accepted"},
		{"SVG with XML declaration", "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<svg/>", "SVG files are not accepted"},
		{"HEIC", string(heic), "HEIC/HEIF files are not accepted"},
		{"AVIF", string(avif), "AVIF files are not accepted"},
		{"TIFF", "II*\x00\x08\x00\x00\x00", "TIFF (or camera raw) files are not accepted"},
		{"PDF", "%PDF-1.7\n", "PDF files are not accepted"},
		{"BMP", "BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\x01\x00\x00\x00\x01", "BMP files are not accepted"},
		{"text", "Xin chào, đây không phải là ảnh.\n", "not a JPEG, PNG, GIF or WebP image"},
		{"empty", "", "not a JPEG, PNG, GIF or WebP image"},
		{"JPEG without a frame", "\xFF\xD8\xFF\xD9", "JPEG is corrupt"},
		{"truncated JPEG header", "\xFF\xD8\xFF\xE0\x00\x10JF", "truncated"},
		{"arithmetic JPEG", "\xFF\xD8\xFF\xC9\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00", "arithmetic-coded JPEGs are not accepted"},
		{"12-bit JPEG", "\xFF\xD8\xFF\xC1\x00\x0b\x0c\x00\x10\x00\x10\x01\x01\x11\x00", "12-bit JPEGs are not accepted"},
		{"PNG without IHDR", "\x89PNG\r\n\x1a\n\x00\x00\x00\x00IEND\xaeB`\x82", "does not start with a header"},
		{"PNG of zero width", string(pngHeader(0, 10)), "impossible size"},
		{"GIF without frames", "GIF89a\x01\x00\x01\x00\x00\x00\x00\x3B", "no image"},
		{"WebP without image", "RIFF\x04\x00\x00\x00WEBP", "truncated"},
	}
	for _, tt := range tests {
		_, err := Inspect([]byte(tt.data))
		var u *Unusable
		if !errors.As(err, &u) || !strings.Contains(u.Reason, tt.want) {
			t.Errorf("%s: err = %v, want a reason containing %q", tt.name, err, tt.want)
		}
	}
}

// bombs are tiny files whose headers claim far more pixels than allowed.
func bombs(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"PNG 30000×30000":           pngHeader(30000, 30000),
		"JPEG 65000×65000":          jpegHeader(65000, 65000),
		"GIF 65535×65535":           gifBomb(65535, 65535, 1),
		"GIF 2000×2000 × 20 frames": gifBomb(2000, 2000, 20),
		"APNG 5000×5000 × 3 frames": pngHeader(5000, 5000, acTL(3)),
		"WebP 16384×16384":          webpVP8X(16384, 16384, 0),
		"WebP 4000×4000 × 4 frames": webpVP8X(4000, 4000, 4),
	}
}

// A decompression bomb is refused from its header: no pixel is allocated.
// The allocation is measured, not the time (BenchmarkRefuseBomb reports the
// time: about a microsecond).
func TestBombsAreRefusedBeforeDecoding(t *testing.T) {
	opt := Options{Widths: []int{320, 640, 1024, 1600}, CropWidths: []int{320, 640, 1280}, JPEGQuality: 82, MaxPixels: 40_000_000}
	for name, data := range bombs(t) {
		var u *Unusable
		if _, err := Render(data, opt); !errors.As(err, &u) || !strings.Contains(u.Reason, "over the limit of 40000000 pixels") {
			t.Errorf("%s: err = %v, want refused over the pixel limit", name, err)
			continue
		}
		const runs = 20
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			_, _ = Render(data, opt)
		}
		runtime.ReadMemStats(&after)
		if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 1<<20 {
			t.Errorf("%s: refusing it allocated %d bytes, want under 1 MiB", name, perRun)
		}
		if allocs := testing.AllocsPerRun(runs, func() { _, _ = Render(data, opt) }); allocs > 20 {
			t.Errorf("%s: refusing it made %.0f allocations", name, allocs)
		}
	}
	// Frames count: the same GIF frame is fine once, not twenty times.
	if h, err := Inspect(gifBomb(2000, 2000, 1)); err != nil || CheckLimits(h, 40_000_000) != nil {
		t.Errorf("one 2000×2000 frame: %v", err)
	}
}

func BenchmarkRefuseBomb(b *testing.B) {
	opt := Options{Widths: []int{320, 640, 1024, 1600}, JPEGQuality: 82, MaxPixels: 40_000_000}
	for name, data := range bombs(b) {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(data, opt); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

func TestExifOrientation(t *testing.T) {
	for o := 1; o <= 8; o++ {
		for _, bo := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
			if got := exifOrientation(exifBlock(bo, o)); got != o {
				t.Errorf("orientation %d (%v) read as %d", o, bo, got)
			}
		}
	}
	for _, bad := range [][]byte{nil, []byte("II*\x00"), []byte("II*\x00\xff\xff\xff\xff"), exifBlock(binary.BigEndian, 9)} {
		if got := exifOrientation(bad); got != 0 {
			t.Errorf("exifOrientation(%q) = %d, want 0", bad, got)
		}
	}
}

// exifBlock is a TIFF structure whose IFD0 holds only an orientation.
func exifBlock(order binary.ByteOrder, o int) []byte {
	bo := order.(binary.AppendByteOrder)
	b := []byte("MM\x00*")
	if order == binary.LittleEndian {
		b = []byte("II*\x00")
	}
	b = bo.AppendUint32(b, 8)
	b = bo.AppendUint16(b, 1)
	b = bo.AppendUint16(b, 0x0112)
	b = bo.AppendUint16(b, 3)
	b = bo.AppendUint32(b, 1)
	b = bo.AppendUint16(b, uint16(o))
	b = bo.AppendUint16(b, 0)
	return bo.AppendUint32(b, 0)
}
