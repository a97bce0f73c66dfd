package photo

import (
	"bytes"
	"image"
	"image/color"
	"image/png"

	"github.com/disintegration/imaging"
)

// placeholderSide is the longer side of the placeholder image.
const placeholderSide = 8

// placeholder computes, from the smallest rendition, the dominant colour
// (the most common colour at 4 bits per channel, averaged within that bin)
// and a tiny PNG of the photo to stretch and blur while the real one loads.
func placeholder(p *picture, f imaging.ResampleFilter) (color.RGBA, []byte) {
	var count [4096]int
	var sum [4096][3]int
	for y := range p.h {
		for x := range p.w {
			if p.model == modelRGBA && p.p[3].pix[y*p.p[3].stride+x] < 128 {
				continue
			}
			r, g, b := p.rgb(x, y)
			bin := int(r>>4)<<8 | int(g>>4)<<4 | int(b>>4)
			count[bin]++
			sum[bin][0] += int(r)
			sum[bin][1] += int(g)
			sum[bin][2] += int(b)
		}
	}
	best := 0
	for i, c := range count {
		if c > count[best] {
			best = i
		}
	}
	dominant := color.RGBA{A: 255}
	if n := count[best]; n > 0 {
		dominant.R, dominant.G, dominant.B = uint8(sum[best][0]/n), uint8(sum[best][1]/n), uint8(sum[best][2]/n)
	} else {
		dominant = color.RGBA{255, 255, 255, 255}
	}

	w, h := placeholderSide, max(1, ScaledHeight(placeholderSide, p.w, p.h))
	if p.h > p.w {
		h, w = placeholderSide, max(1, ScaledHeight(placeholderSide, p.h, p.w))
	}
	w, h = min(w, p.w), min(h, p.h)
	tiny := p.resize(0, 0, float64(p.w), float64(p.h), w, h, f)
	var img image.Image
	if tiny.model == modelRGBA {
		img = tiny.nrgba()
	} else {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				r, g, b := tiny.rgb(x, y)
				m.SetRGBA(x, y, color.RGBA{r, g, b, 255})
			}
		}
		img = m
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return dominant, nil
	}
	return dominant, buf.Bytes()
}
