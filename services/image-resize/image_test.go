package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestRenditionWidths(t *testing.T) {
	configured := []int{320, 640, 1024, 1600}
	tests := []struct {
		width int
		want  []int
	}{
		{1920, []int{320, 640, 1024, 1600}},
		{1601, []int{320, 640, 1024, 1600}},
		{1600, []int{320, 640, 1024, 1600}}, // its own width is the largest
		{1000, []int{320, 640, 1000}},
		{1024, []int{320, 640, 1024}},
		{640, []int{320, 640}},
		{321, []int{320, 321}},
		{320, []int{320}},
		{100, []int{100}},
		{1, []int{1}},
		{0, nil},
	}
	for _, tt := range tests {
		if got := renditionWidths(configured, tt.width); !slices.Equal(got, tt.want) {
			t.Errorf("renditionWidths(%v, %d) = %v, want %v", configured, tt.width, got, tt.want)
		}
	}
	if got := renditionWidths(nil, 1000); got != nil {
		t.Errorf("renditionWidths(nil, 1000) = %v, want nil", got)
	}
}

func TestScaledHeight(t *testing.T) {
	tests := []struct{ newWidth, width, height, want int }{
		{320, 1920, 1440, 240},
		{320, 1440, 1920, 427}, // 426.67
		{1000, 3000, 1, 1},     // never 0
		{640, 640, 480, 480},
	}
	for _, tt := range tests {
		if got := scaledHeight(tt.newWidth, tt.width, tt.height); got != tt.want {
			t.Errorf("scaledHeight(%d, %d, %d) = %d, want %d", tt.newWidth, tt.width, tt.height, got, tt.want)
		}
	}
}

// pngHeader is a PNG signature and an IHDR chunk (8-bit RGBA) claiming
// width×height, with nothing after it.
func pngHeader(width, height uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := binary.BigEndian.AppendUint32([]byte("IHDR"), width)
	chunk = binary.BigEndian.AppendUint32(chunk, height)
	chunk = append(chunk, 8, 6, 0, 0, 0) // depth, colour type RGBA, compression, filter, interlace
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(chunk)-4)))
	b.Write(chunk)
	b.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(chunk)))
	return b.Bytes()
}

func TestPixelLimitIsCheckedBeforeDecoding(t *testing.T) {
	data := pngHeader(30000, 30000)
	if _, err := png.DecodeConfig(bytes.NewReader(data)); err != nil {
		t.Fatalf("the crafted header is not a valid PNG header: %v", err)
	}
	lim := imageLimits{maxPixels: 40_000_000, widths: []int{320, 640, 1024, 1600}, quality: 82}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, _, err := renderRenditions(data, lim)
	runtime.ReadMemStats(&after)

	var u *unusableError
	if !errors.As(err, &u) {
		t.Fatalf("err = %v, want an unusable photo", err)
	}
	if !strings.Contains(u.reason, "30000×30000") || !strings.Contains(u.reason, "limit of 40000000 pixels") {
		t.Errorf("reason = %q, want the size and the pixel limit", u.reason)
	}
	// Decoding would allocate 30000×30000×4 bytes = 3.6 GB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("refusing the header allocated %d bytes, want under 1 MiB", alloc)
	}
}

func TestSmallTransparentPNGKeepsItsWidthOnWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 100, 50)) // fully transparent
	for x := 40; x < 60; x++ {
		for y := 0; y < 50; y++ {
			img.SetNRGBA(x, y, color.NRGBA{R: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	w, h, out, err := renderRenditions(buf.Bytes(), imageLimits{maxPixels: 1e6, widths: []int{320, 640}, quality: 90})
	if err != nil {
		t.Fatal(err)
	}
	if w != 100 || h != 50 || len(out) != 1 || out[0].width != 100 || out[0].height != 50 {
		t.Fatalf("got %d×%d with %d renditions, want one 100×50 rendition", w, h, len(out))
	}
	dec, format, err := image.Decode(bytes.NewReader(out[0].jpeg))
	if err != nil || format != "jpeg" {
		t.Fatalf("rendition is not a JPEG: %v %q", err, format)
	}
	if r, g, b, _ := dec.At(5, 5).RGBA(); r>>8 < 240 || g>>8 < 240 || b>>8 < 240 {
		t.Errorf("transparent area became (%d,%d,%d), want white", r>>8, g>>8, b>>8)
	}
}

func TestUnacceptedFormat(t *testing.T) {
	// A minimal BMP header: imaging registers BMP, but uploads may not use it.
	bmp := []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00" +
		"\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x18\x00\x00\x00\x00\x00\x04\x00\x00\x00" +
		"\x13\x0b\x00\x00\x13\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\x00")
	_, _, _, err := renderRenditions(bmp, imageLimits{maxPixels: 1e6, widths: []int{320}, quality: 82})
	var u *unusableError
	if !errors.As(err, &u) || !strings.Contains(u.reason, "bmp images are not accepted") {
		t.Fatalf("err = %v, want bmp refused", err)
	}
}
