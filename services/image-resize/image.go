package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // registered for image.DecodeConfig; imaging also registers them
	_ "image/jpeg"
	_ "image/png"
	"io"
	"slices"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/webp" // editors' phones and browsers produce WebP
)

// acceptedFormats are the image.RegisterFormat names a photo may have.
// imaging also registers BMP and TIFF; those are refused here, which keeps the
// TIFF decoder (the one with the most advisories) away from uploads.
var acceptedFormats = map[string]bool{"jpeg": true, "png": true, "gif": true, "webp": true}

// resampleFilter is Lanczos: the sharpest of imaging's filters for
// downscaling photographs. Its cost stays low because each rendition is made
// from the previous, larger one: after the first step, each shrinks by at
// most about 2× with the default widths.
var resampleFilter = imaging.Lanczos

// unusableError is a photo that no retry will make usable. Its message is for
// the editor who uploaded it.
type unusableError struct{ reason string }

func (e *unusableError) Error() string { return e.reason }

func unusable(format string, args ...any) error {
	return &unusableError{reason: fmt.Sprintf(format, args...)}
}

// imageLimits bound what renderRenditions accepts and produces.
type imageLimits struct {
	maxPixels int64
	widths    []int // ascending, unique
	quality   int
}

// rendition is one encoded JPEG.
type rendition struct {
	width, height int
	jpeg          []byte
}

// renderRenditions decodes a photo, applies its EXIF orientation and returns
// its JPEG renditions in ascending width, with the oriented size. Re-encoding
// drops every metadata segment of the original (EXIF with GPS, XMP, ICC).
// A photo that cannot be used yields an *unusableError.
func renderRenditions(data []byte, lim imageLimits) (width, height int, out []rendition, err error) {
	defer func() {
		// A decoder bug must not take the message (or the process) with it:
		// the photo is reported as unusable. When the panic comes from
		// imaging.Decode, the goroutine it starts to read EXIF stays blocked
		// on its pipe; a small leak for what should never happen.
		if r := recover(); r != nil {
			width, height, out = 0, 0, nil
			err = unusable("the image could not be decoded (the decoder failed: %v)", r)
		}
	}()

	// The header alone tells the size: refuse a decompression bomb before
	// allocating its pixels.
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, nil, describeDecodeError(err)
	}
	if !acceptedFormats[format] {
		return 0, 0, nil, unusable("%s images are not accepted: send JPEG, PNG, GIF or WebP", format)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return 0, 0, nil, unusable("the image has no pixels (%d×%d)", cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.maxPixels {
		return 0, 0, nil, unusable("the image is %d×%d = %d pixels, over the limit of %d pixels",
			cfg.Width, cfg.Height, px, lim.maxPixels)
	}

	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		if truncated(format, data) {
			return 0, 0, nil, unusable("the image is truncated: the file ends before the picture does")
		}
		return 0, 0, nil, describeDecodeError(err)
	}
	width, height = img.Bounds().Dx(), img.Bounds().Dy()

	widths := renditionWidths(lim.widths, width)
	out = make([]rendition, 0, len(widths))
	src := img
	for _, w := range slices.Backward(widths) {
		h := scaledHeight(w, width, height)
		dst := src
		if w != width {
			// From the previous, larger rendition: much less work than from
			// the original, and h comes from the original's aspect ratio so
			// rounding does not accumulate.
			dst = imaging.Resize(src, w, h, resampleFilter)
		}
		b, err := encodeJPEG(dst, lim.quality)
		if err != nil {
			return 0, 0, nil, unusable("the image cannot be stored as a %d×%d JPEG: %v", w, h, err)
		}
		out = append(out, rendition{width: w, height: h, jpeg: b})
		src = dst
	}
	slices.Reverse(out)
	return width, height, out, nil
}

// renditionWidths picks the widths to produce for a photo origWidth pixels
// wide from the configured widths (ascending, unique): every configured width
// narrower than the photo, plus the photo's own width when it is not wider
// than the largest configured width. A photo is never upscaled, and a small
// one still gets a full-size copy: with 320,640,1024,1600 a 1000-px photo
// gets 320, 640 and 1000, a 1600-px one 320, 640, 1024 and 1600, and a
// 1920-px one 320, 640, 1024 and 1600. The result is ascending.
func renditionWidths(configured []int, origWidth int) []int {
	if origWidth < 1 || len(configured) == 0 {
		return nil
	}
	var out []int
	for _, w := range configured {
		if w < origWidth {
			out = append(out, w)
		}
	}
	if origWidth <= configured[len(configured)-1] {
		out = append(out, origWidth)
	}
	return out
}

// scaledHeight keeps the aspect ratio of a width×height image at newWidth,
// rounded to the nearest pixel and at least 1.
func scaledHeight(newWidth, width, height int) int {
	h := (2*int64(newWidth)*int64(height) + int64(width)) / (2 * int64(width))
	return int(max(h, 1))
}

// encodeJPEG encodes img; transparent areas (PNG, GIF, WebP) become white
// rather than JPEG's default black.
func encodeJPEG(img image.Image, quality int) ([]byte, error) {
	if o, ok := img.(interface{ Opaque() bool }); ok && !o.Opaque() {
		b := img.Bounds()
		flat := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(flat, flat.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(flat, flat.Bounds(), img, b.Min, draw.Over)
		img = flat
	}
	var buf bytes.Buffer
	if err := imaging.Encode(&buf, img, imaging.JPEG, imaging.JPEGQuality(quality)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// truncated reports whether data lacks the end marker of its format. Decoders
// report a cut-off file in their own words (image/jpeg says "short Huffman
// data"), so the editor is told from the missing marker instead.
func truncated(format string, data []byte) bool {
	switch format {
	case "jpeg":
		return !bytes.HasSuffix(bytes.TrimRight(data, "\x00\r\n"), []byte{0xFF, 0xD9}) // EOI
	case "png":
		return !bytes.HasSuffix(data, []byte("IEND\xaeB`\x82"))
	case "gif":
		return len(data) == 0 || data[len(data)-1] != 0x3B // trailer
	}
	return false
}

// describeDecodeError turns a decoder error into a reason for the editor.
func describeDecodeError(err error) error {
	switch {
	case errors.Is(err, image.ErrFormat):
		return unusable("the file is not a JPEG, PNG, GIF or WebP image")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return unusable("the image is truncated: the file ends before the picture does")
	default:
		return unusable("the image is corrupt: %v", err)
	}
}
