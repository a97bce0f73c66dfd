package photo

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Header is what the first bytes of a file say about it, read without
// decoding a pixel and without allocating in proportion to the file.
type Header struct {
	Format        string // "jpeg", "png", "gif" or "webp"
	Width, Height int    // as stored, before the EXIF orientation
	// Frames is the number of frames of an animation (GIF, APNG, animated
	// WebP), 1 for a still image.
	Frames int
	// Pixels is what decoding the file could cost: width×height of a still,
	// the sum of every frame's area for an animation.
	Pixels int64
	// Orientation is the EXIF orientation, 1 to 8 (1 when absent or invalid).
	Orientation int
	// Progressive is a progressive JPEG (its decoder keeps every DCT
	// coefficient until the end).
	Progressive bool
}

// OrientedSize is the size as displayed, after the EXIF orientation.
func (h Header) OrientedSize() (w, h2 int) {
	if h.Orientation >= 5 {
		return h.Height, h.Width
	}
	return h.Width, h.Height
}

// Inspect decides the type of data from its bytes and reads its header. A
// file that is not a JPEG, PNG, GIF or WebP, or whose header is broken,
// yields an *Unusable error naming what it is when that is known (SVG, HEIC,
// AVIF, TIFF, BMP, PDF …).
func Inspect(data []byte) (Header, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return inspectJPEG(data)
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return inspectPNG(data)
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return inspectGIF(data)
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return inspectWebP(data)
	}
	if name := knownOtherFormat(data); name != "" {
		return Header{}, unusable("%s files are not accepted: send a JPEG, PNG, GIF or WebP photo", name)
	}
	return Header{}, unusable("the file is not a JPEG, PNG, GIF or WebP image")
}

// knownOtherFormat names formats an editor might send that are refused, so
// the reason can say what the file is.
func knownOtherFormat(data []byte) string {
	if len(data) >= 12 && string(data[4:8]) == "ftyp" {
		switch string(data[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return "HEIC/HEIF"
		case "avif", "avis":
			return "AVIF"
		}
		return "MP4/QuickTime"
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
	lower := bytes.ToLower(trimmed[:min(len(trimmed), 512)])
	switch {
	case bytes.HasPrefix(lower, []byte("<svg")),
		bytes.HasPrefix(lower, []byte("<?xml")) && bytes.Contains(lower, []byte("<svg")),
		bytes.HasPrefix(lower, []byte("<!doctype svg")):
		return "SVG"
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return "TIFF (or camera raw)"
	case bytes.HasPrefix(data, []byte("BM")) && len(data) >= 14:
		return "BMP"
	case bytes.HasPrefix(data, []byte("%PDF")):
		return "PDF"
	case bytes.HasPrefix(data, []byte{0xFF, 0x0A}), bytes.HasPrefix(data, []byte("\x00\x00\x00\x0cJXL \r\n\x87\n")):
		return "JPEG XL"
	case bytes.HasPrefix(data, []byte("8BPS")):
		return "Photoshop"
	case bytes.HasPrefix(data, []byte{0, 0, 1, 0}):
		return "ICO"
	case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")):
		return "HTML"
	}
	return ""
}

// inspectJPEG walks the marker segments up to the first scan: the frame
// header gives the size, an APP1 Exif segment the orientation.
func inspectJPEG(data []byte) (Header, error) {
	h := Header{Format: "jpeg", Frames: 1, Orientation: 1}
	p := 2
	sawFrame := false
	for {
		// Markers may be preceded by any number of 0xFF fill bytes.
		for p < len(data) && data[p] != 0xFF {
			p++ // extraneous bytes: decoders skip them too
		}
		for p < len(data) && data[p] == 0xFF {
			p++
		}
		if p >= len(data) {
			if sawFrame {
				return h, nil // the decoder will find it truncated, after the limits
			}
			return Header{}, unusable("the JPEG is corrupt: it has no frame header")
		}
		marker := data[p]
		p++
		switch {
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			continue // no length
		case marker == 0xD9:
			return Header{}, unusable("the JPEG is corrupt: it ends before its first scan")
		}
		if p+2 > len(data) {
			if sawFrame {
				return h, nil
			}
			return Header{}, unusable("the image is truncated: the file ends before the picture does")
		}
		n := int(binary.BigEndian.Uint16(data[p:]))
		if p+n > len(data) && !sawFrame && !(marker >= 0xC0 && marker <= 0xCF) {
			return Header{}, unusable("the image is truncated: the file ends before the picture does")
		}
		if n < 2 {
			return Header{}, unusable("the JPEG is corrupt: a segment has length %d", n)
		}
		seg := data[p+2 : min(p+n, len(data))]
		switch {
		case marker == 0xDA: // start of scan
			if !sawFrame {
				return Header{}, unusable("the JPEG is corrupt: a scan comes before the frame header")
			}
			return h, nil
		case marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")):
			if o := exifOrientation(seg[6:]); o != 0 {
				h.Orientation = o
			}
		case marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
			if sawFrame {
				return Header{}, unusable("the JPEG is corrupt: it has two frame headers")
			}
			switch marker {
			case 0xC0, 0xC1, 0xC2:
			case 0xC3, 0xC7, 0xCB, 0xCF:
				return Header{}, unusable("lossless JPEGs are not accepted: save the photo as an ordinary JPEG")
			case 0xC5, 0xC6, 0xCD, 0xCE:
				return Header{}, unusable("hierarchical JPEGs are not accepted: save the photo as an ordinary JPEG")
			default:
				return Header{}, unusable("arithmetic-coded JPEGs are not accepted: save the photo as an ordinary JPEG")
			}
			if len(seg) < 6 {
				return Header{}, unusable("the image is truncated: the file ends before the picture does")
			}
			if seg[0] != 8 {
				return Header{}, unusable("%d-bit JPEGs are not accepted: save the photo as an 8-bit JPEG", seg[0])
			}
			h.Progressive = marker == 0xC2
			h.Height = int(binary.BigEndian.Uint16(seg[1:]))
			h.Width = int(binary.BigEndian.Uint16(seg[3:]))
			if comps := seg[5]; comps != 1 && comps != 3 && comps != 4 {
				return Header{}, unusable("the JPEG is corrupt: it has %d colour components", comps)
			}
			if h.Width == 0 || h.Height == 0 {
				return Header{}, unusable("the image has no pixels (%d×%d)", h.Width, h.Height)
			}
			h.Pixels = int64(h.Width) * int64(h.Height)
			sawFrame = true
		}
		p += n
	}
}

// inspectPNG reads IHDR and the chunks before the image data: acTL makes it
// an animation, eXIf carries an orientation.
func inspectPNG(data []byte) (Header, error) {
	h := Header{Format: "png", Frames: 1, Orientation: 1}
	p := 8
	first := true
	for {
		if p+8 > len(data) {
			if !first {
				return h, nil // the decoder will find it truncated, after the limits
			}
			return Header{}, unusable("the image is truncated: the file ends before the picture does")
		}
		n := int64(binary.BigEndian.Uint32(data[p:]))
		typ := string(data[p+4 : p+8])
		end := int64(p) + 12 + n
		if n > 1<<31-1 || end > int64(len(data)) {
			if !first {
				return h, nil
			}
			return Header{}, unusable("the image is truncated: the file ends before the picture does")
		}
		body := data[p+8 : p+8+int(n)]
		if first && typ != "IHDR" {
			return Header{}, unusable("the PNG is corrupt: it does not start with a header chunk")
		}
		switch typ {
		case "IHDR":
			if !first || len(body) != 13 {
				return Header{}, unusable("the PNG is corrupt: its header chunk is malformed")
			}
			h.Width = int(binary.BigEndian.Uint32(body[0:]))
			h.Height = int(binary.BigEndian.Uint32(body[4:]))
			if h.Width <= 0 || h.Height <= 0 || h.Width > 1<<24 || h.Height > 1<<24 {
				return Header{}, unusable("the image has an impossible size (%d×%d)", int64(binary.BigEndian.Uint32(body[0:])), int64(binary.BigEndian.Uint32(body[4:])))
			}
			h.Pixels = int64(h.Width) * int64(h.Height)
		case "acTL":
			if len(body) >= 4 {
				if f := int64(binary.BigEndian.Uint32(body)); f > 1 {
					h.Frames = int(min(f, 1<<30))
					h.Pixels = int64(h.Width) * int64(h.Height) * int64(h.Frames)
				}
			}
		case "eXIf":
			if o := exifOrientation(body); o != 0 {
				h.Orientation = o
			}
		case "IDAT", "IEND":
			return h, nil
		}
		first = false
		p = int(end)
	}
}

// inspectGIF walks every block of a GIF (without decompressing anything):
// each frame's area counts toward the pixels.
func inspectGIF(data []byte) (Header, error) {
	truncated := unusable("the image is truncated: the file ends before the picture does")
	if len(data) < 13 {
		return Header{}, truncated
	}
	h := Header{Format: "gif", Orientation: 1}
	h.Width = int(binary.LittleEndian.Uint16(data[6:]))
	h.Height = int(binary.LittleEndian.Uint16(data[8:]))
	p := 13
	if flags := data[10]; flags&0x80 != 0 {
		p += 3 << ((flags & 7) + 1)
	}
	// skipSubBlocks returns the position after a chain of data sub-blocks.
	skipSubBlocks := func(p int) (int, bool) {
		for p < len(data) {
			n := int(data[p])
			p++
			if n == 0 {
				return p, true
			}
			p += n
		}
		return p, false
	}
	var ok bool
	for {
		if p >= len(data) {
			if h.Frames > 0 {
				// A GIF that lost its trailer still shows: browsers and
				// decoders accept it when the first frame is whole.
				break
			}
			return Header{}, truncated
		}
		switch data[p] {
		case 0x3B: // trailer
			goto done
		case 0x21: // extension
			if p+2 > len(data) {
				return Header{}, truncated
			}
			if p, ok = skipSubBlocks(p + 2); !ok && h.Frames == 0 {
				return Header{}, truncated
			}
		case 0x2C: // image descriptor
			if p+10 > len(data) {
				if h.Frames > 0 {
					goto done
				}
				return Header{}, truncated
			}
			fw := int64(binary.LittleEndian.Uint16(data[p+5:]))
			fh := int64(binary.LittleEndian.Uint16(data[p+7:]))
			flags := data[p+9]
			p += 10
			if flags&0x80 != 0 {
				p += 3 << ((flags & 7) + 1)
			}
			p++ // LZW minimum code size
			if p, ok = skipSubBlocks(p); !ok && h.Frames == 0 {
				return Header{}, truncated
			}
			h.Frames++
			h.Pixels += fw * fh
		default:
			if h.Frames > 0 {
				goto done // trailing garbage after a whole frame
			}
			return Header{}, unusable("the GIF is corrupt: unknown block 0x%02x", data[p])
		}
	}
done:
	if h.Frames == 0 {
		return Header{}, unusable("the GIF has no image in it")
	}
	if h.Width == 0 || h.Height == 0 {
		return Header{}, unusable("the image has no pixels (%d×%d)", h.Width, h.Height)
	}
	// The first frame is drawn on the logical screen: count that too.
	h.Pixels = max(h.Pixels, int64(h.Width)*int64(h.Height))
	return h, nil
}

// inspectWebP reads the RIFF chunks of a WebP: VP8 (lossy), VP8L (lossless)
// or VP8X (extended: alpha, animation, EXIF).
func inspectWebP(data []byte) (Header, error) {
	truncated := unusable("the image is truncated: the file ends before the picture does")
	h := Header{Format: "webp", Frames: 1, Orientation: 1}
	p := 12
	sawImage, extended, animated := false, false, false
	frames := 0
	var framePixels, stillPixels int64
	for p+8 <= len(data) {
		typ := string(data[p : p+4])
		n := int(binary.LittleEndian.Uint32(data[p+4:]))
		if n < 0 || n > len(data)-p-8 {
			if sawImage || frames > 0 {
				break // a cut-off trailing chunk (EXIF, XMP): the picture is whole
			}
			return Header{}, truncated
		}
		body := data[p+8 : p+8+n]
		switch typ {
		case "VP8X":
			if len(body) < 10 {
				return Header{}, unusable("the WebP is corrupt: its VP8X chunk is too short")
			}
			extended = true
			animated = body[0]&0x02 != 0
			h.Width = 1 + int(body[4]) | int(body[5])<<8 | int(body[6])<<16
			h.Height = 1 + int(body[7]) | int(body[8])<<8 | int(body[9])<<16
		case "VP8 ", "VP8L":
			w, hh, err := webpFrameSize(typ, body)
			if err != nil {
				return Header{}, err
			}
			if !extended {
				h.Width, h.Height = w, hh
			}
			// The decoder allocates what the frame header says, whatever
			// the canvas says: count the larger.
			stillPixels = max(stillPixels, int64(w)*int64(hh))
			sawImage = true
		case "ANMF":
			if len(body) < 16 {
				return Header{}, unusable("the WebP is corrupt: an animation frame is too short")
			}
			fw := 1 + int64(body[6]) | int64(body[7])<<8 | int64(body[8])<<16
			fh := 1 + int64(body[9]) | int64(body[10])<<8 | int64(body[11])<<16
			area := fw * fh
			// The frame's own image header may claim more than the frame.
			if inner := body[16:]; len(inner) >= 8 {
				typ := string(inner[:4])
				if typ == "ALPH" {
					n := int(binary.LittleEndian.Uint32(inner[4:]))
					if n >= 0 && n <= len(inner)-8 {
						inner = inner[min(len(inner), 8+n+n&1):]
					}
				}
				if len(inner) >= 8 {
					if w, hh, err := webpFrameSize(string(inner[:4]), inner[8:]); err == nil {
						area = max(area, int64(w)*int64(hh))
					}
				}
			}
			frames++
			framePixels += area
		case "EXIF":
			if o := exifOrientation(bytes.TrimPrefix(body, []byte("Exif\x00\x00"))); o != 0 {
				h.Orientation = o
			}
		}
		p += 8 + n + n&1
	}
	if animated || frames > 0 {
		if frames == 0 {
			return Header{}, unusable("the WebP animation has no frames")
		}
		h.Frames = frames
		h.Pixels = max(framePixels, int64(h.Width)*int64(h.Height))
		return h, nil
	}
	if !sawImage && !extended {
		if p < len(data) || len(data) < 20 {
			return Header{}, truncated
		}
		return Header{}, unusable("the WebP has no image in it")
	}
	if h.Width == 0 || h.Height == 0 {
		return Header{}, unusable("the image has no pixels (%d×%d)", h.Width, h.Height)
	}
	h.Pixels = max(int64(h.Width)*int64(h.Height), stillPixels)
	return h, nil
}

// webpFrameSize reads the size from a VP8 or VP8L chunk's body.
func webpFrameSize(typ string, body []byte) (w, h int, err error) {
	switch typ {
	case "VP8 ":
		// Frame tag (3 bytes), start code 9d 01 2a, then 14-bit sizes.
		if len(body) < 10 || body[3] != 0x9d || body[4] != 0x01 || body[5] != 0x2a {
			return 0, 0, unusable("the WebP is corrupt: its VP8 frame header is malformed")
		}
		return int(binary.LittleEndian.Uint16(body[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(body[8:]) & 0x3fff), nil
	case "VP8L":
		if len(body) < 5 || body[0] != 0x2f {
			return 0, 0, unusable("the WebP is corrupt: its VP8L header is malformed")
		}
		bits := binary.LittleEndian.Uint32(body[1:])
		return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1, nil
	}
	return 0, 0, unusable("the WebP is corrupt: unknown image chunk %q", typ)
}

// exifOrientation reads tag 0x0112 of IFD0 from a TIFF-structured EXIF
// block; 0 when absent or invalid.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := int64(bo.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > int64(len(tiff)) {
		return 0
	}
	n := int64(bo.Uint16(tiff[ifd:]))
	for i := range n {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(tiff)) {
			return 0
		}
		if bo.Uint16(tiff[e:]) != 0x0112 {
			continue
		}
		// Type SHORT, count 1: the value is in the first two bytes.
		if bo.Uint16(tiff[e+2:]) != 3 {
			return 0
		}
		if o := int(bo.Uint16(tiff[e+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 0
	}
	return 0
}

// Unusable is a photo that no retry will make usable. Reason is for the
// editor who sent it.
type Unusable struct{ Reason string }

func (e *Unusable) Error() string { return e.Reason }

func unusable(format string, args ...any) error {
	return &Unusable{Reason: fmt.Sprintf(format, args...)}
}
