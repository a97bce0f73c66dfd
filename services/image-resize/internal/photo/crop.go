package photo

import (
	"image/color"
	"math"

	"github.com/disintegration/imaging"
)

// CropStrategy places a crop when the editor set no focal point.
type CropStrategy int

const (
	// CropSmart centres the crop on what a smartcrop-style detector finds
	// most interesting: edges, skin tones and saturated colour, with a mild
	// pull to the centre.
	CropSmart CropStrategy = iota
	// CropCentre centres the crop.
	CropCentre
)

// placeCrop positions a cw×ch window in a w×h photo as close to centring
// it on focal as the photo's edges allow.
func placeCrop(w, h, cw, ch int, focal Point) Rect {
	fx := min(max(focal.X, 0), 1)
	fy := min(max(focal.Y, 0), 1)
	x := int(math.Round(fx*float64(w) - float64(cw)/2))
	y := int(math.Round(fy*float64(h) - float64(ch)/2))
	return Rect{X: min(max(x, 0), w-cw), Y: min(max(y, 0), h-ch), W: cw, H: ch}
}

// analysisWidth is the width of the thumbnail the crop detector looks at.
const analysisWidth = 160

// defaultFocal is the focal point for a photo whose editor set none.
func defaultFocal(pic *picture, orientation int, pl plan, s CropStrategy) Point {
	centre := Point{X: 0.5, Y: 0.5}
	if s == CropCentre || (pl.crop.W == pl.w && pl.crop.H == pl.h) {
		return centre
	}
	return SmartFocal(pic.thumbnail(orientation), pl.crop.W, pl.crop.H, pl.w, pl.h)
}

// thumbnail is a small oriented copy for analysis. Catmull-Rom: a quarter
// fewer taps than Lanczos, and the detector does not need the last bit of
// sharpness.
func (p *picture) thumbnail(orientation int) *picture {
	tw, th := p.w, p.h
	if orientation >= 5 {
		tw, th = th, tw
	}
	w := min(analysisWidth, tw)
	h := max(1, ScaledHeight(w, tw, th))
	sw, sh := storedSize(w, h, orientation)
	return p.resize(0, 0, float64(p.w), float64(p.h), sw, sh, imaging.CatmullRom).orient(orientation)
}

// SmartFocal scores every pixel of the oriented thumbnail t for interest —
// luma edges (Laplacian), skin tones, saturated colour, as smartcrop does —
// and returns the centre of the cw×ch window (in a w×h photo) that holds the
// most of it, mildly pulled to the centre. The window spans the whole photo
// in one direction, so only its position along the other one is searched.
func SmartFocal(t *picture, cw, ch, w, h int) Point {
	imp := importance(t)
	tw, th := t.w, t.h
	horizontal := float64(cw)/float64(w) < float64(ch)/float64(h) // window narrower than the photo
	var sums []float64
	var win int
	if horizontal {
		sums = make([]float64, tw)
		for y := range th {
			for x := range tw {
				sums[x] += imp[y*tw+x]
			}
		}
		win = max(1, int(math.Round(float64(cw)/float64(w)*float64(tw))))
	} else {
		sums = make([]float64, th)
		for y := range th {
			for x := range tw {
				sums[y] += imp[y*tw+x]
			}
		}
		win = max(1, int(math.Round(float64(ch)/float64(h)*float64(th))))
	}
	n := len(sums)
	if win >= n {
		return Point{0.5, 0.5}
	}
	total := 0.0
	for _, v := range sums {
		total += v
	}
	cur := 0.0
	for i := range win {
		cur += sums[i]
	}
	best, bestAt := -1.0, 0
	for at := 0; at+win <= n; at++ {
		if at > 0 {
			cur += sums[at+win-1] - sums[at-1]
		}
		// Up to 15% less for a window at the far edge: interest has to be
		// clearly off-centre to move the crop there.
		off := math.Abs(float64(at)+float64(win)/2-float64(n)/2) / (float64(n) / 2)
		score := cur * (1 - 0.15*off)
		if total == 0 {
			score = 1 - off
		}
		if score > best {
			best, bestAt = score, at
		}
	}
	c := (float64(bestAt) + float64(win)/2) / float64(n)
	if horizontal {
		return Point{X: c, Y: 0.5}
	}
	return Point{X: 0.5, Y: c}
}

// importance is smartcrop's per-pixel interest: edge strength plus skin
// tone plus saturation, each weighted by brightness where smartcrop does.
func importance(t *picture) []float64 {
	w, h := t.w, t.h
	luma := make([]float64, w*h)
	imp := make([]float64, w*h)
	for y := range h {
		for x := range w {
			r, g, b := t.rgb(x, y)
			l := (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 255
			luma[y*w+x] = l
			// Skin: the colour's direction close to smartcrop's skin colour.
			mag := math.Sqrt(float64(r)*float64(r) + float64(g)*float64(g) + float64(b)*float64(b))
			skin := 0.0
			if mag > 0 {
				rd, gd, bd := float64(r)/mag-0.78, float64(g)/mag-0.57, float64(b)/mag-0.44
				d := math.Sqrt(rd*rd + gd*gd + bd*bd)
				if s := 1 - d; s > 0.8 && l >= 0.2 && l <= 1 {
					skin = (s - 0.8) * (255 / 0.2) / 255 * 1.8
				}
			}
			// Saturation (HSL).
			mx := float64(max(r, g, b)) / 255
			mn := float64(min(r, g, b)) / 255
			sat := 0.0
			if mx != mn {
				lum := (mx + mn) / 2
				if lum > 0.5 {
					sat = (mx - mn) / (2 - mx - mn)
				} else {
					sat = (mx - mn) / (mx + mn)
				}
			}
			satScore := 0.0
			if sat > 0.4 && l >= 0.05 && l <= 0.9 {
				satScore = (sat - 0.4) / 0.6 * 0.3
			}
			imp[y*w+x] = skin + satScore
		}
	}
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			lap := 4*luma[i] - luma[i-1] - luma[i+1] - luma[i-w] - luma[i+w]
			imp[i] += math.Abs(lap)
		}
	}
	return imp
}

// rgb is the colour at (x, y) of an oriented picture; a transparent pixel
// counts as white.
func (p *picture) rgb(x, y int) (r, g, b uint8) {
	switch p.model {
	case modelGray:
		v := p.p[0].pix[y*p.p[0].stride+x]
		return v, v, v
	case modelRGBA:
		a := p.p[3].pix[y*p.p[3].stride+x]
		white := 255 - a
		return p.p[0].pix[y*p.p[0].stride+x] + white, p.p[1].pix[y*p.p[1].stride+x] + white, p.p[2].pix[y*p.p[2].stride+x] + white
	}
	yy := p.p[0].pix[y*p.p[0].stride+x]
	cx, cy := x/p.sub[1][0], y/p.sub[1][1]
	cb := p.p[1].pix[cy*p.p[1].stride+cx]
	cr := p.p[2].pix[cy*p.p[2].stride+cx]
	return color.YCbCrToRGB(yy, cb, cr)
}
