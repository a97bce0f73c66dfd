// Package photo makes the renditions of an uploaded photo: it decides the
// type from the bytes, refuses what is too large from the header before
// decoding, decodes once (a JPEG at a reduced DCT scale when the largest
// rendition needs far fewer pixels), applies the EXIF orientation, and
// derives each width from the next larger one, a 16:9 crop around a focal
// point, and a dominant colour and tiny placeholder. Every output is
// re-encoded, so no metadata of the original (EXIF with GPS, XMP, ICC,
// comments) survives.
package photo

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/disintegration/imaging"
)

// Options say what to make of a photo.
type Options struct {
	// Widths of the plain renditions, ascending, unique (see Widths).
	Widths []int
	// CropWidths of the 16:9 crops, ascending, unique; none when empty.
	CropWidths []int
	// JPEGQuality is 1–100.
	JPEGQuality int
	// MaxPixels bounds Header.Pixels (every frame of an animation counts).
	MaxPixels int64
	// Focal is where the editor wants a crop centred, as fractions of the
	// displayed (oriented) photo; nil lets DefaultCrop decide.
	Focal *Point
	// Filter resamples; the zero value means DefaultFilter.
	Filter imaging.ResampleFilter
	// MinHeadroom is how much larger than the largest output the decoded
	// image must stay when a JPEG is decoded at a reduced DCT scale; 0 means
	// DefaultHeadroom.
	MinHeadroom float64
	// DefaultCrop places a crop when Focal is nil: CropSmart or CropCentre.
	DefaultCrop CropStrategy
}

// DefaultFilter is Lanczos (3 lobes): see the README's figures for how it
// compares with Catmull-Rom and linear on the corpus.
var DefaultFilter = imaging.Lanczos

// DefaultHeadroom lets a JPEG decode at the smallest DCT scale that still
// covers the largest output: the reduced IDCT is itself a good low-pass
// filter, so the resampler needs no extra margin (measured in the README).
const DefaultHeadroom = 1.0

// Point is a position in a photo as fractions of its width and height.
type Point struct{ X, Y float64 }

// Kind tells a plain rendition from a crop.
type Kind string

const (
	KindPlain      Kind = "plain"
	KindCrop       Kind = "crop-16x9"
	KindPlainAlpha Kind = "plain-alpha" // a PNG keeping transparency, beside the JPEG
)

// Rendition is one encoded output.
type Rendition struct {
	Kind          Kind
	Format        string // "jpeg", "png" or "webp"
	Width, Height int
	Data          []byte
}

// Result is everything made from one photo.
type Result struct {
	Header Header
	// Width and Height are the photo's displayed size (after orientation).
	Width, Height int
	// Scale is the DCT scale the JPEG was decoded at (1, 2, 4 or 8).
	Scale int
	// Transparent is true when the photo has transparent pixels: its plain
	// renditions come as PNG and lossless WebP too, beside the JPEGs
	// flattened on white.
	Transparent bool
	Renditions  []Rendition
	// Crop is the 16:9 window of the crops, in displayed pixels, and Focal
	// its centre as fractions.
	Crop  Rect
	Focal Point
	// Dominant is the most common colour, for a box to show while loading.
	Dominant color.RGBA
	// Placeholder is a PNG at most 8 pixels on its longer side, to stretch
	// and blur while loading.
	Placeholder []byte
}

// Rect is a pixel rectangle.
type Rect struct{ X, Y, W, H int }

// Widths picks the widths to produce for a photo origWidth pixels wide from
// the configured widths (ascending, unique): every configured width narrower
// than the photo, plus the photo's own width when it is not wider than the
// largest configured width. A photo is never upscaled, and a small one still
// gets a full-size copy: with 320,640,1024,1600 a 1000-px photo gets 320,
// 640 and 1000, a 1600-px one 320, 640, 1024 and 1600, and a 1920-px one
// 320, 640, 1024 and 1600. The result is ascending.
func Widths(configured []int, origWidth int) []int {
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

// ScaledHeight keeps the aspect ratio of a width×height image at newWidth,
// rounded to the nearest pixel and at least 1.
func ScaledHeight(newWidth, width, height int) int {
	h := (2*int64(newWidth)*int64(height) + int64(width)) / (2 * int64(width))
	return int(max(h, 1))
}

// plan is what Render will produce for a photo, decided from its header.
type plan struct {
	w, h       int // displayed size
	widths     []int
	cropWidths []int
	crop       Rect // in displayed pixels
	scale      int
}

func makePlan(h Header, opt *Options) plan {
	w, hh := h.OrientedSize()
	pl := plan{w: w, h: hh, widths: Widths(opt.Widths, w), scale: 1}
	// The largest 16:9 window that fits.
	cw, ch := w, w*9/16
	if ch > hh {
		cw, ch = hh*16/9, hh
	}
	cw, ch = max(cw, 1), max(ch, 1)
	pl.crop = Rect{W: cw, H: ch}
	if len(opt.CropWidths) > 0 {
		pl.cropWidths = Widths(opt.CropWidths, cw)
		// The window's own width, for a photo smaller than the largest
		// crop, goes down to a multiple of 16 so that the crop is exactly
		// 16:9.
		if n := len(pl.cropWidths); n > 0 && pl.cropWidths[n-1] == cw && cw >= 16 && !slices.Contains(opt.CropWidths, cw) {
			pl.cropWidths[n-1] = cw / 16 * 16
			if n > 1 && pl.cropWidths[n-2] >= pl.cropWidths[n-1] {
				pl.cropWidths = pl.cropWidths[:n-1]
			}
		}
	}
	if h.Format != "jpeg" {
		return pl
	}
	// The decoded image must cover the largest plain rendition and the
	// largest crop with the headroom asked for.
	headroom := opt.MinHeadroom
	if headroom <= 0 {
		headroom = DefaultHeadroom
	}
	need := 1.0 // fraction of the full size the outputs need
	if n := len(pl.widths); n > 0 {
		need = max(float64(pl.widths[n-1])/float64(w), 0)
	}
	if n := len(pl.cropWidths); n > 0 {
		need = max(need, float64(pl.cropWidths[n-1])/float64(cw))
	}
	for _, s := range []int{8, 4, 2} {
		// The decoded size is rounded up; use the rounded-down one to be sure.
		if float64(w/s) >= need*float64(w)*headroom && float64(hh/s) >= need*float64(hh)*headroom {
			pl.scale = s
			break
		}
	}
	return pl
}

// WorkingBytes estimates the memory Render needs for a photo with header h:
// the decoded planes at the scale it will use, the coefficients a
// progressive JPEG keeps, and the resampling buffers. The service weighs
// each photo by it against its memory budget.
func WorkingBytes(h Header, opt Options) int64 {
	pl := makePlan(h, &opt)
	full := int64(h.Width) * int64(h.Height)
	decoded := full / int64(pl.scale*pl.scale)
	var b int64
	switch h.Format {
	case "jpeg":
		b = decoded * 3 // Y'CbCr up to 4:4:4
		if h.Progressive {
			b += full * 3 * 2 // 16-bit coefficients of every block
		}
	case "png", "gif", "webp":
		b = decoded*4 + decoded*4 // the decoder's RGBA and our planes (4 with alpha)
	}
	lw, lh := 0, 0
	if n := len(pl.widths); n > 0 {
		lw = pl.widths[n-1]
		lh = ScaledHeight(lw, pl.w, pl.h)
	}
	b += int64(lw) * int64(lh) * 4 * 3 // outputs, intermediates, encoder buffers
	return b
}

// Render makes every output for data. A photo that cannot be used yields an
// *Unusable error with the reason; a panic of a decoder becomes one too.
func Render(data []byte, opt Options) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, unusable("the image could not be decoded (the decoder failed: %v)", r)
		}
	}()
	if opt.Filter.Kernel == nil {
		opt.Filter = DefaultFilter
	}
	h, err := Inspect(data)
	if err != nil {
		return nil, err
	}
	if err := CheckLimits(h, opt.MaxPixels); err != nil {
		return nil, err
	}
	pl := makePlan(h, &opt)
	pic, err := decodePicture(data, h, pl.scale)
	if err != nil {
		return nil, err
	}
	res = &Result{Header: h, Width: pl.w, Height: pl.h, Scale: pl.scale, Transparent: pic.model == modelRGBA}

	// Stored (not yet oriented) size of the decoded picture versus the
	// displayed size: every output is resampled from pic in stored
	// coordinates, then oriented.
	sw, sh := h.Width, h.Height
	kx, ky := float64(pic.w)/float64(sw), float64(pic.h)/float64(sh)

	var enc encoder
	enc.quality = opt.JPEGQuality

	// Plain renditions, largest first, each from the previous.
	var smallest, largest *picture
	if n := len(pl.widths); n > 0 {
		var prev *picture
		for i := n - 1; i >= 0; i-- {
			w := pl.widths[i]
			hh := ScaledHeight(w, pl.w, pl.h)
			var cur *picture
			if prev == nil {
				tw, th := storedSize(w, hh, h.Orientation)
				if tw == pic.w && th == pic.h && pic.model != modelYCC {
					cur = pic.orient(h.Orientation) // nothing to resample
				} else {
					cur = pic.resize(0, 0, float64(pic.w), float64(pic.h), tw, th, opt.Filter).orient(h.Orientation)
				}
			} else {
				cur = prev.resize(0, 0, float64(prev.w), float64(prev.h), w, hh, opt.Filter)
			}
			enc.add(KindPlain, cur, res.Transparent)
			if largest == nil {
				largest = cur
			}
			prev, smallest = cur, cur
		}
	}

	// Crops: a 16:9 window around the focal point, in displayed pixels.
	if len(pl.cropWidths) > 0 {
		focal := opt.Focal
		if focal == nil {
			// Detection looks at a small picture: the smallest plain
			// rendition (already oriented) when there is one.
			src, o := pic, h.Orientation
			if smallest != nil {
				src, o = smallest, 1
			}
			f := defaultFocal(src, o, pl, opt.DefaultCrop)
			focal = &f
		}
		res.Crop = placeCrop(pl.w, pl.h, pl.crop.W, pl.crop.H, *focal)
		res.Focal = Point{
			X: (float64(res.Crop.X) + float64(res.Crop.W)/2) / float64(pl.w),
			Y: (float64(res.Crop.Y) + float64(res.Crop.H)/2) / float64(pl.h),
		}
		var prev *picture
		for i := len(pl.cropWidths) - 1; i >= 0; i-- {
			w := pl.cropWidths[i]
			hh := max(1, int(math.Round(float64(w)*9/16)))
			var cur *picture
			switch {
			case prev == nil && largest != nil && float64(res.Crop.W)*float64(largest.w)/float64(pl.w) >= float64(w):
				// The largest plain rendition still has enough pixels in
				// the window: far less to resample than the decoded photo.
				k := float64(largest.w) / float64(pl.w)
				c := res.Crop
				cur = largest.resize(float64(c.X)*k, float64(c.Y)*k, float64(c.W)*k, float64(c.H)*k, w, hh, opt.Filter)
			case prev == nil:
				sx, sy, srw, srh := storedRect(res.Crop, pl.w, pl.h, h.Orientation)
				tw, th := storedSize(w, hh, h.Orientation)
				cur = pic.resize(sx*kx, sy*ky, srw*kx, srh*ky, tw, th, opt.Filter).orient(h.Orientation)
			default:
				cur = prev.resize(0, 0, float64(prev.w), float64(prev.h), w, hh, opt.Filter)
			}
			enc.add(KindCrop, cur, false)
			prev = cur
		}
	}

	if smallest != nil {
		res.Dominant, res.Placeholder = placeholder(smallest, opt.Filter)
	}
	outs, err := enc.wait()
	if err != nil {
		return nil, err
	}
	res.Renditions = outs
	return res, nil
}

// CheckLimits refuses a photo over the pixel limit, from its header.
func CheckLimits(h Header, maxPixels int64) error {
	if maxPixels <= 0 || h.Pixels <= maxPixels {
		return nil
	}
	if h.Frames > 1 {
		return unusable("the animation has %d frames of up to %d×%d, %d pixels in all, over the limit of %d pixels",
			h.Frames, h.Width, h.Height, h.Pixels, maxPixels)
	}
	return unusable("the image is %d×%d = %d pixels, over the limit of %d pixels", h.Width, h.Height, h.Pixels, maxPixels)
}

// storedSize is the stored-orientation size of a w×h displayed output.
func storedSize(w, h, orientation int) (int, int) {
	if orientation >= 5 {
		return h, w
	}
	return w, h
}

// storedRect maps a rectangle of the displayed w×h photo back to the stored
// image, as (x, y, width, height).
func storedRect(r Rect, w, h, orientation int) (x, y, rw, rh float64) {
	X, Y, W, H := float64(r.X), float64(r.Y), float64(r.W), float64(r.H)
	fw, fh := float64(w), float64(h)
	switch orientation {
	case 2:
		return fw - X - W, Y, W, H
	case 3:
		return fw - X - W, fh - Y - H, W, H
	case 4:
		return X, fh - Y - H, W, H
	case 5:
		return Y, X, H, W
	case 6: // displayed (x, y) comes from stored (y, h_s−1−x) where h_s = w
		return Y, fw - X - W, H, W
	case 7:
		return fh - Y - H, fw - X - W, H, W
	case 8:
		return fh - Y - H, X, H, W
	}
	return X, Y, W, H
}

// encoder encodes renditions concurrently with the resampling of the next
// ones, keeping their order.
type encoder struct {
	quality int
	wg      sync.WaitGroup
	mu      sync.Mutex
	outs    []*Rendition
	err     error
}

func (e *encoder) add(kind Kind, p *picture, transparent bool) {
	jpegOut := &Rendition{Kind: kind, Format: "jpeg", Width: p.w, Height: p.h}
	e.outs = append(e.outs, jpegOut)
	var pngOut, webpOut *Rendition
	if transparent {
		pngOut = &Rendition{Kind: KindPlainAlpha, Format: "png", Width: p.w, Height: p.h}
		webpOut = &Rendition{Kind: KindPlainAlpha, Format: "webp", Width: p.w, Height: p.h}
		e.outs = append(e.outs, pngOut, webpOut)
	}
	e.wg.Go(func() {
		defer func() {
			if r := recover(); r != nil {
				e.setErr(fmt.Errorf("the encoder failed: %v", r), p)
			}
		}()
		b, err := p.encodeJPEG(e.quality)
		e.setErr(err, p)
		jpegOut.Data = b
		if pngOut != nil {
			img := p.nrgba()
			b, err := encodePNG(img)
			e.setErr(err, p)
			pngOut.Data = b
			b, err = encodeWebP(img)
			e.setErr(err, p)
			webpOut.Data = b
		}
	})
}

func (e *encoder) setErr(err error, p *picture) {
	if err == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = unusable("the image cannot be stored as a %d×%d rendition: %v", p.w, p.h, err)
	}
}

// wait returns the renditions in ascending width per kind.
func (e *encoder) wait() ([]Rendition, error) {
	e.wg.Wait()
	if e.err != nil {
		return nil, e.err
	}
	out := make([]Rendition, 0, len(e.outs))
	for _, r := range e.outs {
		out = append(out, *r)
	}
	slices.SortStableFunc(out, func(a, b Rendition) int {
		if a.Kind != b.Kind {
			return kindOrder(a.Kind) - kindOrder(b.Kind)
		}
		if a.Format != b.Format {
			return strings.Compare(a.Format, b.Format)
		}
		return a.Width - b.Width
	})
	return out, nil
}

func kindOrder(k Kind) int {
	switch k {
	case KindPlain:
		return 0
	case KindPlainAlpha:
		return 1
	}
	return 2
}

// String names a rendition for logs and tests.
func (r Rendition) String() string {
	return fmt.Sprintf("%s %s %d×%d %dB", r.Kind, r.Format, r.Width, r.Height, len(r.Data))
}
