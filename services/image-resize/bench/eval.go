package main

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/HugoSmits86/nativewebp"
	"github.com/disintegration/imaging"

	"github.com/blocpress/blocpress/services/image-resize/internal/photo"
)

// psnr is the peak signal-to-noise ratio of b against a over R, G and B.
func psnr(a, b image.Image) float64 {
	ra, rb := toNRGBA(a), toNRGBA(b)
	if ra.Rect.Size() != rb.Rect.Size() {
		return 0
	}
	var se float64
	n := 0
	for y := range ra.Rect.Dy() {
		pa := ra.Pix[y*ra.Stride : y*ra.Stride+4*ra.Rect.Dx()]
		pb := rb.Pix[y*rb.Stride : y*rb.Stride+4*rb.Rect.Dx()]
		for i := range pa {
			if i%4 == 3 {
				continue
			}
			d := float64(pa[i]) - float64(pb[i])
			se += d * d
			n++
		}
	}
	if se == 0 {
		return 99
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

func toNRGBA(img image.Image) *image.NRGBA {
	if m, ok := img.(*image.NRGBA); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	b := img.Bounds()
	m := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	return m
}

// runEval compares resampling filters and the DCT-scale headroom: each
// combination renders the plain widths at JPEG quality 100, and each output
// is compared with a reference made the slow, careful way (the full-size
// decode resized straight to that width with Lanczos, in floating point,
// then through the same JPEG encoder at quality 100).
func runEval(files []string) error {
	type variant struct {
		name     string
		filter   imaging.ResampleFilter
		headroom float64
	}
	variants := []variant{
		{"lanczos3, DCT scale, headroom 1", imaging.Lanczos, 1},
		{"lanczos3, DCT scale, headroom 2", imaging.Lanczos, 2},
		{"lanczos3, full decode", imaging.Lanczos, 1e9},
		{"catmull-rom, DCT scale, headroom 1", imaging.CatmullRom, 1},
		{"mitchell, DCT scale, headroom 1", imaging.MitchellNetravali, 1},
		{"linear, DCT scale, headroom 1", imaging.Linear, 1},
		{"box, DCT scale, headroom 1", imaging.Box, 1},
	}
	type score struct {
		psnr    float64
		n       int
		elapsed time.Duration
	}
	scores := make([]score, len(variants))
	var vipsScore score
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		full, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
		if err != nil {
			fmt.Printf("%s: %v\n", short(f), err)
			continue
		}
		w0, h0 := full.Bounds().Dx(), full.Bounds().Dy()
		widths := photo.Widths(intList(*widthsFlag), w0)
		refs := map[int]image.Image{}
		for _, w := range widths {
			ref := imaging.Resize(full, w, photo.ScaledHeight(w, w0, h0), imaging.Lanczos)
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, ref, &jpeg.Options{Quality: 100}); err != nil {
				return err
			}
			refs[w], _ = jpeg.Decode(&buf)
		}
		line := fmt.Sprintf("%-44s", short(f))
		for i, v := range variants {
			opt := photo.Options{Widths: intList(*widthsFlag), JPEGQuality: 100, MaxPixels: 1 << 40,
				Filter: v.filter, MinHeadroom: v.headroom}
			var res *photo.Result
			elapsed := time.Duration(math.MaxInt64)
			for range 2 {
				start := time.Now()
				res, err = photo.Render(data, opt)
				elapsed = min(elapsed, time.Since(start))
			}
			if err != nil {
				return err
			}
			sum, n := 0.0, 0
			for _, r := range res.Renditions {
				if r.Kind != photo.KindPlain || refs[r.Width] == nil {
					continue
				}
				img, err := jpeg.Decode(bytes.NewReader(r.Data))
				if err != nil {
					return err
				}
				sum += psnr(refs[r.Width], img)
				n++
			}
			scores[i].psnr += sum
			scores[i].n += n
			scores[i].elapsed += elapsed
			line += fmt.Sprintf(" %5.2f", sum/float64(n))
		}
		// libvips, for context: its outputs at quality 100.
		sum, n := 0.0, 0
		var vipsElapsed time.Duration
		for _, w := range widths {
			dst := filepath.Join(*outDir, fmt.Sprintf("eval-%d.jpg", w))
			m, _, err := run(*vipsBin, f, "--size", fmt.Sprintf("%dx%d", w, photo.ScaledHeight(w, w0, h0)+1), "-o", dst+"[Q=100,strip]")
			if err != nil {
				return err
			}
			vipsElapsed += m.wall
			b, err := os.ReadFile(dst)
			if err != nil {
				return err
			}
			img, err := jpeg.Decode(bytes.NewReader(b))
			if err != nil {
				return err
			}
			sum += psnr(refs[w], img)
			n++
		}
		vipsScore.psnr += sum
		vipsScore.n += n
		vipsScore.elapsed += vipsElapsed
		fmt.Printf("%s  vips %5.2f\n", line, sum/float64(n))
	}
	fmt.Printf("\nmean PSNR (dB) of every plain rendition against the reference, and render time (in process, best of 2):\n")
	for i, v := range variants {
		fmt.Printf("  %-38s %6.2f dB %8.0f ms\n", v.name, scores[i].psnr/float64(scores[i].n), ms(scores[i].elapsed))
	}
	fmt.Printf("  %-38s %6.2f dB %8.0f ms (4 processes)\n", "vipsthumbnail (context)", vipsScore.psnr/float64(vipsScore.n), ms(vipsScore.elapsed))
	return nil
}

// runWebP measures the pure-Go WebP encoder that the module proxy serves
// (github.com/HugoSmits86/nativewebp, lossless only; the lossy pure-Go
// encoders are not available to this build) against what we store now:
// for photos the JPEG renditions, for transparent images the PNG ones.
func runWebP(files []string) error {
	var jpegBytes, webpOnJPEG, pngBytes, webpOnPNG int
	var jpegTime, webpJPEGTime, pngTime, webpPNGTime time.Duration
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		res, err := photo.Render(data, serviceOptions())
		if err != nil {
			fmt.Printf("%s: %v\n", short(f), err)
			continue
		}
		for _, r := range res.Renditions {
			if r.Kind == photo.KindCrop || r.Format == "webp" {
				continue
			}
			var img image.Image
			if r.Format == "png" {
				img, err = png.Decode(bytes.NewReader(r.Data))
			} else {
				img, err = jpeg.Decode(bytes.NewReader(r.Data))
			}
			if err != nil {
				return err
			}
			nrgba := toNRGBA(img)
			start := time.Now()
			var buf bytes.Buffer
			if err := nativewebp.Encode(&buf, nrgba, nil); err != nil {
				return err
			}
			wt := time.Since(start)
			// The time to make the format we store instead, from the same pixels.
			start = time.Now()
			var ref bytes.Buffer
			if r.Format == "png" {
				err = png.Encode(&ref, nrgba)
			} else {
				err = jpeg.Encode(&ref, img, &jpeg.Options{Quality: *quality})
			}
			if err != nil {
				return err
			}
			rt := time.Since(start)
			if r.Format == "png" {
				pngBytes += len(r.Data)
				webpOnPNG += buf.Len()
				pngTime += rt
				webpPNGTime += wt
			} else {
				jpegBytes += len(r.Data)
				webpOnJPEG += buf.Len()
				jpegTime += rt
				webpJPEGTime += wt
			}
		}
		fmt.Printf("%-44s done\n", short(f))
	}
	fmt.Printf("\nphotos: JPEG q%d %d bytes in %.0f ms; lossless WebP %d bytes (%.2f×) in %.0f ms (%.1f× the time)\n",
		*quality, jpegBytes, ms(jpegTime), webpOnJPEG, float64(webpOnJPEG)/float64(jpegBytes), ms(webpJPEGTime), float64(webpJPEGTime)/float64(jpegTime))
	if pngBytes > 0 {
		fmt.Printf("transparent: PNG %d bytes in %.0f ms; lossless WebP %d bytes (%.2f×) in %.0f ms (%.1f× the time)\n",
			pngBytes, ms(pngTime), webpOnPNG, float64(webpOnPNG)/float64(pngBytes), ms(webpPNGTime), float64(webpPNGTime)/float64(pngTime))
	}
	return nil
}

// runCrop compares where the 16:9 crop lands with smart detection and with
// the centre, and where libvips's attention crop puts it, for each photo:
// the overlap (intersection over union) of the windows, and the time the
// detection costs.
func runCrop(files []string) error {
	var smartVips, centreVips, smartCentre float64
	var nPhotos, moved int
	var smartTime, centreTime time.Duration
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		opt := serviceOptions()
		// As the service does it: the detector looks at the smallest plain
		// rendition, so the difference in time is the detection's.
		opt.CropWidths = []int{1280}
		timed := func(s photo.CropStrategy) (*photo.Result, time.Duration, error) {
			o := opt
			o.DefaultCrop = s
			best := time.Duration(math.MaxInt64)
			var res *photo.Result
			for range 2 {
				start := time.Now()
				r, err := photo.Render(data, o)
				if err != nil {
					return nil, 0, err
				}
				best, res = min(best, time.Since(start)), r
			}
			return res, best, nil
		}
		smart, st, err := timed(photo.CropSmart)
		if err != nil {
			fmt.Printf("%s: %v\n", short(f), err)
			continue
		}
		centre, ct, err := timed(photo.CropCentre)
		if err != nil {
			return err
		}
		smartTime += st
		centreTime += ct
		// libvips's attention crop at 320×180; where its window lies is
		// found by matching its output against a thumbnail (locate).
		dst := filepath.Join(*outDir, "attention-"+filepath.Base(f)+".png")
		if _, _, err := run(*vipsBin, f, "--size", "320x180", "--smartcrop", "attention", "-o", dst); err != nil {
			return err
		}
		att, err := os.ReadFile(dst)
		if err != nil {
			return err
		}
		attImg, err := png.Decode(bytes.NewReader(att))
		if err != nil {
			return err
		}
		vipsCrop := locate(data, opt, smart, attImg)
		s, c := smart.Crop, centre.Crop
		a, b, d := iou(s, vipsCrop), iou(c, vipsCrop), iou(s, c)
		smartVips += a
		centreVips += b
		smartCentre += d
		nPhotos++
		if d < 0.9 {
			moved++
		}
		fmt.Printf("%-44s %5dx%-5d smart %+v centre %+v vips-attention %+v  IoU smart/vips %.2f centre/vips %.2f smart/centre %.2f  %4.0f ms vs %4.0f ms\n",
			short(f), smart.Width, smart.Height, s, c, vipsCrop, a, b, d, ms(st), ms(ct))
	}
	n := float64(nPhotos)
	fmt.Printf("\n%d photos: mean IoU with libvips attention: smart %.2f, centre %.2f; smart vs centre %.2f (%d photos moved by more than 10%%)\n",
		nPhotos, smartVips/n, centreVips/n, smartCentre/n, moved)
	fmt.Printf("render time with crops: smart %.0f ms, centre %.0f ms in all (%.1f ms a photo apart; on a shared machine this is mostly noise: BenchmarkSmartFocal in internal/photo measures the detection alone)\n",
		ms(smartTime), ms(centreTime), ms(smartTime-centreTime)/n)
	return nil
}

func find(rs []photo.Rendition, k photo.Kind) photo.Rendition {
	for _, r := range rs {
		if r.Kind == k {
			return r
		}
	}
	return photo.Rendition{}
}

// locate finds the window of libvips's attention crop: it slides a window
// of the crop's size over a 256-px-wide thumbnail of the photo and keeps the
// position that looks most like libvips's output.
func locate(data []byte, opt photo.Options, ref *photo.Result, att image.Image) photo.Rect {
	o := opt
	o.Widths, o.CropWidths = []int{256}, nil
	res, err := photo.Render(data, o)
	if err != nil || len(res.Renditions) == 0 {
		return ref.Crop
	}
	thumbImg, err := jpeg.Decode(bytes.NewReader(res.Renditions[0].Data))
	if err != nil {
		return ref.Crop
	}
	thumb := toNRGBA(thumbImg)
	k := float64(thumb.Rect.Dx()) / float64(ref.Width)
	ww := max(1, int(math.Round(float64(ref.Crop.W)*k)))
	wh := max(1, int(math.Round(float64(ref.Crop.H)*k)))
	ww, wh = min(ww, thumb.Rect.Dx()), min(wh, thumb.Rect.Dy())
	want := toNRGBA(imaging.Resize(att, ww, wh, imaging.Lanczos))
	best, bx, by := math.MaxFloat64, 0, 0
	for y := 0; y+wh <= thumb.Rect.Dy(); y++ {
		for x := 0; x+ww <= thumb.Rect.Dx(); x++ {
			d := 0.0
			for yy := 0; yy < wh; yy += 2 {
				for xx := 0; xx < ww; xx += 2 {
					p := thumb.PixOffset(x+xx, y+yy)
					q := want.PixOffset(xx, yy)
					for c := range 3 {
						d += math.Abs(float64(thumb.Pix[p+c]) - float64(want.Pix[q+c]))
					}
				}
			}
			if d < best {
				best, bx, by = d, x, y
			}
		}
	}
	r := photo.Rect{X: int(math.Round(float64(bx) / k)), Y: int(math.Round(float64(by) / k)), W: ref.Crop.W, H: ref.Crop.H}
	r.X, r.Y = min(r.X, ref.Width-r.W), min(r.Y, ref.Height-r.H)
	return r
}

func iou(a, b photo.Rect) float64 {
	x0, y0 := max(a.X, b.X), max(a.Y, b.Y)
	x1, y1 := min(a.X+a.W, b.X+b.W), min(a.Y+a.H, b.Y+b.H)
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	in := float64((x1 - x0) * (y1 - y0))
	return in / (float64(a.W*a.H) + float64(b.W*b.H) - in)
}
