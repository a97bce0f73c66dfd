package photo

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"

	"github.com/HugoSmits86/nativewebp"
)

// encodeJPEG encodes a Y'CbCr (4:2:0, as resize makes it) or grey picture;
// a premultiplied RGBA one is flattened on white. The encoder writes no
// metadata segment at all: no EXIF, XMP, ICC or comment.
func (p *picture) encodeJPEG(quality int) ([]byte, error) {
	var img image.Image
	switch p.model {
	case modelGray:
		img = &image.Gray{Pix: p.p[0].pix, Stride: p.p[0].stride, Rect: image.Rect(0, 0, p.w, p.h)}
	case modelYCC:
		img = &image.YCbCr{
			Y: p.p[0].pix, Cb: p.p[1].pix, Cr: p.p[2].pix,
			YStride: p.p[0].stride, CStride: p.p[1].stride,
			SubsampleRatio: image.YCbCrSubsampleRatio420,
			Rect:           image.Rect(0, 0, p.w, p.h),
		}
	default:
		img = p.flatten()
	}
	var buf bytes.Buffer
	buf.Grow(p.w * p.h / 4)
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// flatten draws a premultiplied RGBA picture on white.
func (p *picture) flatten() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, p.w, p.h))
	for y := range p.h {
		r, g, b, a := p.p[0].row(y), p.p[1].row(y), p.p[2].row(y), p.p[3].row(y)
		px := img.Pix[y*img.Stride:]
		for x := range p.w {
			white := 255 - a[x]
			px[4*x] = r[x] + white
			px[4*x+1] = g[x] + white
			px[4*x+2] = b[x] + white
			px[4*x+3] = 255
		}
	}
	return img
}

// nrgba un-premultiplies an RGBA picture.
func (p *picture) nrgba() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, p.w, p.h))
	for y := range p.h {
		r, g, b, a := p.p[0].row(y), p.p[1].row(y), p.p[2].row(y), p.p[3].row(y)
		px := img.Pix[y*img.Stride:]
		for x := range p.w {
			al := uint32(a[x])
			if al == 0 {
				continue
			}
			px[4*x] = uint8(min((uint32(r[x])*255+al/2)/al, 255))
			px[4*x+1] = uint8(min((uint32(g[x])*255+al/2)/al, 255))
			px[4*x+2] = uint8(min((uint32(b[x])*255+al/2)/al, 255))
			px[4*x+3] = uint8(al)
		}
	}
	return img
}

// encodePNG encodes an image with its transparency.
func encodePNG(img *image.NRGBA) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeWebP encodes an image with its transparency as lossless WebP
// (VP8L), with the pure-Go encoder the module proxy serves: on the corpus's
// transparent images it makes 0.84× the bytes of PNG in 0.37× the time of
// Go's PNG encoder (see the README). It writes no metadata chunk.
func encodeWebP(img *image.NRGBA) ([]byte, error) {
	var buf bytes.Buffer
	if err := nativewebp.Encode(&buf, img, nil); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
