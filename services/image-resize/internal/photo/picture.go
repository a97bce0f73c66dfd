package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"io"

	"github.com/disintegration/imaging"
	"golang.org/x/image/webp"

	"github.com/blocpress/blocpress/services/image-resize/internal/jpegdec"
)

// colorModel is how a picture's planes are to be read.
type colorModel int

const (
	modelYCC  colorModel = iota // Y, Cb, Cr; chroma may be subsampled
	modelGray                   // Y
	modelRGBA                   // premultiplied R, G, B, A, all full size
)

// picture is a decoded image as separate planes: a JPEG's own Y, Cb and Cr
// (chroma at its subsampled size), or premultiplied RGBA for transparency.
// Resampling planes instead of interleaved RGBA does 1.5 samples of work
// per pixel for a 4:2:0 photo instead of 4, and a JPEG rendition is encoded
// from Y'CbCr anyway. (Resampling Y'CbCr is the same as resampling R'G'B':
// the conversion between them is affine.)
type picture struct {
	model colorModel
	w, h  int // size of the full-resolution planes
	p     []plane
	// sub[i] is plane i's subsampling (sx, sy): its sample (u, v) covers
	// [u·sx, (u+1)·sx) × [v·sy, (v+1)·sy) of the picture.
	sub [][2]int
}

// decodeError turns a decoder's error into a reason for the editor.
func decodeError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		err.Error() == "invalid JPEG format: short Huffman data" {
		return unusable("the image is truncated: the file ends before the picture does")
	}
	return unusable("the image is corrupt: %v", err)
}

// decodePicture decodes data (inspected as h) at 1/scale of its size (JPEG
// only; other formats decode at full size) into planes.
func decodePicture(data []byte, h Header, scale int) (*picture, error) {
	var img image.Image
	var err error
	switch h.Format {
	case "jpeg":
		img, err = jpegdec.DecodeScaled(bytes.NewReader(data), scale, h.Pixels)
		if err != nil && !bytes.HasSuffix(bytes.TrimRight(data, "\x00\r\n"), []byte{0xFF, 0xD9}) {
			return nil, unusable("the image is truncated: the file ends before the picture does")
		}
	case "png":
		img, err = png.Decode(bytes.NewReader(data))
	case "gif":
		img, err = decodeGIF(data)
	case "webp":
		img, err = decodeWebP(data, h)
	default:
		return nil, unusable("%s images are not accepted", h.Format)
	}
	if err != nil {
		if _, ok := err.(*Unusable); ok {
			return nil, err
		}
		if lacksEnd(h.Format, data) {
			return nil, unusable("the image is truncated: the file ends before the picture does")
		}
		return nil, decodeError(err)
	}
	return toPicture(img), nil
}

// lacksEnd reports whether data misses the end marker of its format:
// decoders report a cut-off file in their own words ("not enough pixel
// data"), so the editor is told from the missing marker instead.
func lacksEnd(format string, data []byte) bool {
	switch format {
	case "png":
		return !bytes.HasSuffix(data, []byte("IEND\xaeB`\x82"))
	case "gif":
		return len(data) == 0 || data[len(data)-1] != 0x3B
	case "webp":
		return len(data) >= 8 && int(binary.LittleEndian.Uint32(data[4:]))+8 > len(data)
	}
	return false
}

// decodeGIF decodes the first frame of a GIF, drawn where it belongs on the
// GIF's logical screen (transparent elsewhere): an animation becomes its
// first frame.
func decodeGIF(data []byte) (image.Image, error) {
	cfg, err := gif.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	frame, err := gif.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	screen := image.Rect(0, 0, cfg.Width, cfg.Height)
	if frame.Bounds() == screen {
		return frame, nil
	}
	canvas := image.NewNRGBA(screen)
	draw.Draw(canvas, frame.Bounds(), frame, frame.Bounds().Min, draw.Src)
	return canvas, nil
}

// decodeWebP decodes a still WebP, or the first frame of an animated one
// (which x/image/webp does not read): that frame's chunks are rewrapped as a
// still WebP and drawn at their place on the canvas.
func decodeWebP(data []byte, h Header) (image.Image, error) {
	if h.Frames <= 1 && !bytes.Contains(data[:min(len(data), 64)], []byte("ANIM")) {
		return webp.Decode(bytes.NewReader(data))
	}
	p := 12
	for p+8 <= len(data) {
		typ := string(data[p : p+4])
		n := int(binary.LittleEndian.Uint32(data[p+4:]))
		if n < 0 || n > len(data)-p-8 {
			break
		}
		if typ == "ANMF" && n >= 16 {
			body := data[p+8 : p+8+n]
			x := 2 * (int(body[0]) | int(body[1])<<8 | int(body[2])<<16)
			y := 2 * (int(body[3]) | int(body[4])<<8 | int(body[5])<<16)
			fw := 1 + int(body[6]) | int(body[7])<<8 | int(body[8])<<16
			fh := 1 + int(body[9]) | int(body[10])<<8 | int(body[11])<<16
			frame, err := webp.Decode(bytes.NewReader(stillWebP(body[16:], fw, fh)))
			if err != nil {
				return nil, err
			}
			canvas := image.NewNRGBA(image.Rect(0, 0, h.Width, h.Height))
			r := image.Rect(x, y, x+frame.Bounds().Dx(), y+frame.Bounds().Dy())
			draw.Draw(canvas, r, frame, frame.Bounds().Min, draw.Src)
			return canvas, nil
		}
		p += 8 + n + n&1
	}
	return nil, unusable("the WebP animation has no readable frame")
}

// stillWebP wraps the chunks of one animation frame (ALPH?, VP8 or VP8L) as
// a WebP file of its own.
func stillWebP(chunks []byte, w, h int) []byte {
	var body bytes.Buffer
	body.WriteString("WEBP")
	if bytes.HasPrefix(chunks, []byte("ALPH")) {
		// Alpha with VP8 needs the extended header.
		body.WriteString("VP8X")
		body.Write([]byte{10, 0, 0, 0, 0x10, 0, 0, 0})
		w1, h1 := w-1, h-1
		body.Write([]byte{byte(w1), byte(w1 >> 8), byte(w1 >> 16), byte(h1), byte(h1 >> 8), byte(h1 >> 16)})
	}
	body.Write(chunks)
	out := make([]byte, 0, 8+body.Len())
	out = append(out, "RIFF"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(body.Len()))
	return append(out, body.Bytes()...)
}

// toPicture takes the planes of a decoded image, without copying when it
// already is planar Y'CbCr or grey.
func toPicture(img image.Image) *picture {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.YCbCr:
		if b.Min == (image.Point{}) {
			return yccPicture(m)
		}
	case *image.Gray:
		if b.Min == (image.Point{}) {
			return &picture{model: modelGray, w: w, h: h,
				p: []plane{{w: w, h: h, stride: m.Stride, pix: m.Pix}}, sub: [][2]int{{1, 1}}}
		}
	case *image.NYCbCrA:
		if b.Min == (image.Point{}) && opaqueAlpha(m.A, m.AStride, w, h) {
			return yccPicture(&m.YCbCr)
		}
	}
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return opaqueToYCC(img)
	}
	return toPremultiplied(img)
}

func opaqueAlpha(a []uint8, stride, w, h int) bool {
	for y := range h {
		for _, v := range a[y*stride : y*stride+w] {
			if v != 0xff {
				return false
			}
		}
	}
	return true
}

func yccPicture(m *image.YCbCr) *picture {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	sx, sy := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		sx = 2
	case image.YCbCrSubsampleRatio420:
		sx, sy = 2, 2
	case image.YCbCrSubsampleRatio440:
		sy = 2
	case image.YCbCrSubsampleRatio411:
		sx = 4
	case image.YCbCrSubsampleRatio410:
		sx, sy = 4, 2
	}
	cw, ch := (w+sx-1)/sx, (h+sy-1)/sy
	return &picture{model: modelYCC, w: w, h: h,
		p: []plane{
			{w: w, h: h, stride: m.YStride, pix: m.Y},
			{w: cw, h: ch, stride: m.CStride, pix: m.Cb},
			{w: cw, h: ch, stride: m.CStride, pix: m.Cr},
		},
		sub: [][2]int{{1, 1}, {sx, sy}, {sx, sy}},
	}
}

// opaqueToYCC converts an opaque image to Y'CbCr planes, chroma at half
// size in both directions (4:2:0, each chroma sample the mean of its 2×2
// pixels): half the memory of full-size planes and a quarter of the chroma
// resampling, and the JPEG encoder would subsample anyway.
func opaqueToYCC(img image.Image) *picture {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	py, pcb, pcr := newPlane(w, h), newPlane(cw, ch), newPlane(cw, ch)
	// rgbRow writes row y's R, G, B into dst (3 bytes a pixel).
	rgbRow := func(dst []uint8, y int) {
		switch m := img.(type) {
		case *image.RGBA:
			px := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				dst[3*x], dst[3*x+1], dst[3*x+2] = px[4*x], px[4*x+1], px[4*x+2]
			}
		case *image.NRGBA:
			px := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				dst[3*x], dst[3*x+1], dst[3*x+2] = px[4*x], px[4*x+1], px[4*x+2]
			}
		default:
			for x := range w {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				dst[3*x], dst[3*x+1], dst[3*x+2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
			}
		}
	}
	parallelRows(ch, w*16, func(a, z int) {
		rows := [2][]uint8{make([]uint8, 3*w), make([]uint8, 3*w)}
		for cy := a; cy < z; cy++ {
			n := min(2, h-2*cy)
			for k := range n {
				rgbRow(rows[k], 2*cy+k)
				ry := py.row(2*cy + k)
				r := rows[k]
				for x := range w {
					ry[x], _, _ = color.RGBToYCbCr(r[3*x], r[3*x+1], r[3*x+2])
				}
			}
			rcb, rcr := pcb.row(cy), pcr.row(cy)
			for cx := range cw {
				var sr, sg, sb, cnt int
				for k := range n {
					for x := 2 * cx; x < min(2*cx+2, w); x++ {
						sr += int(rows[k][3*x])
						sg += int(rows[k][3*x+1])
						sb += int(rows[k][3*x+2])
						cnt++
					}
				}
				_, rcb[cx], rcr[cx] = color.RGBToYCbCr(uint8((sr+cnt/2)/cnt), uint8((sg+cnt/2)/cnt), uint8((sb+cnt/2)/cnt))
			}
		}
	})
	return &picture{model: modelYCC, w: w, h: h, p: []plane{py, pcb, pcr}, sub: [][2]int{{1, 1}, {2, 2}, {2, 2}}}
}

// toPremultiplied converts an image with transparency to premultiplied
// R, G, B, A planes: resampling premultiplied colour keeps the colour of
// fully transparent pixels from bleeding into their neighbours.
func toPremultiplied(img image.Image) *picture {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ps := []plane{newPlane(w, h), newPlane(w, h), newPlane(w, h), newPlane(w, h)}
	parallelRows(h, w*8, func(a, z int) {
		for y := a; y < z; y++ {
			r, g, bl, al := ps[0].row(y), ps[1].row(y), ps[2].row(y), ps[3].row(y)
			if m, ok := img.(*image.NRGBA); ok {
				px := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
				for x := range w {
					a := uint32(px[4*x+3])
					r[x] = uint8((uint32(px[4*x])*a + 127) / 255)
					g[x] = uint8((uint32(px[4*x+1])*a + 127) / 255)
					bl[x] = uint8((uint32(px[4*x+2])*a + 127) / 255)
					al[x] = uint8(a)
				}
				continue
			}
			for x := range w {
				cr, cg, cb, ca := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				r[x], g[x], bl[x], al[x] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8), uint8(ca>>8)
			}
		}
	})
	return &picture{model: modelRGBA, w: w, h: h, p: ps, sub: [][2]int{{1, 1}, {1, 1}, {1, 1}, {1, 1}}}
}

// resize resamples the region (x0, y0, rw, rh) of p, in p's full-resolution
// coordinates, to w×h. Y'CbCr comes out 4:2:0, ready for a JPEG encoder.
func (p *picture) resize(x0, y0, rw, rh float64, w, h int, f imaging.ResampleFilter) *picture {
	out := &picture{model: p.model, w: w, h: h}
	for i, src := range p.p {
		osx, osy := 1, 1
		if p.model == modelYCC && i > 0 {
			osx, osy = 2, 2
		}
		pw, ph := (w+osx-1)/osx, (h+osy-1)/osy
		isx, isy := float64(p.sub[i][0]), float64(p.sub[i][1])
		r := region{
			x0: x0 / isx, y0: y0 / isy,
			w: rw / float64(w) * float64(osx) / isx * float64(pw),
			h: rh / float64(h) * float64(osy) / isy * float64(ph),
		}
		out.p = append(out.p, resample(src, r, pw, ph, f))
		out.sub = append(out.sub, [2]int{osx, osy})
	}
	return out
}

// orient applies an EXIF orientation (2–8) to every plane.
func (p *picture) orient(o int) *picture {
	if o < 2 || o > 8 {
		return p
	}
	out := &picture{model: p.model, w: p.w, h: p.h}
	if o >= 5 {
		out.w, out.h = p.h, p.w
	}
	for i, src := range p.p {
		out.p = append(out.p, orientPlane(src, o))
		s := p.sub[i]
		if o >= 5 {
			s[0], s[1] = s[1], s[0]
		}
		out.sub = append(out.sub, s)
	}
	return out
}

// orientPlane turns a plane as EXIF orientation o says the stored image must
// be turned to display it.
func orientPlane(src plane, o int) plane {
	w, h := src.w, src.h
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := newPlane(dw, dh)
	for y := range h {
		row := src.row(y)
		for x, v := range row {
			var dx, dy int
			switch o {
			case 2: // mirrored horizontally
				dx, dy = w-1-x, y
			case 3: // rotated 180°
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored vertically
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // rotate 90° clockwise to display
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // rotate 90° counter-clockwise to display
				dx, dy = y, w-1-x
			}
			dst.pix[dy*dw+dx] = v
		}
	}
	return dst
}
