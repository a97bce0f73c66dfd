package photo

import (
	"math"
	"runtime"
	"sync"

	"github.com/disintegration/imaging"
)

// plane is one channel of 8-bit samples, row-major.
type plane struct {
	w, h, stride int
	pix          []uint8
}

func newPlane(w, h int) plane {
	return plane{w: w, h: h, stride: w, pix: make([]uint8, w*h)}
}

func (p plane) row(y int) []uint8 { return p.pix[y*p.stride : y*p.stride+p.w] }

// weightBits is the fixed-point precision of resampling weights.
const weightBits = 14

// taps are the precomputed weights of a 1-D resampling: output sample j is
// Σ weights[j*n+k]·in[start[j]+k] for k < n (some trailing weights are 0).
type taps struct {
	n       int
	start   []int32
	weights []int32
}

// makeTaps computes the weights that resample srcLen samples to dstLen,
// where output sample j is centred on input position offset+(j+0.5)·scale−0.5
// (in input samples). Downscaling widens the filter by the scale, so every
// input sample contributes (antialiasing); positions outside the input are
// left out and the rest renormalised.
func makeTaps(srcLen, dstLen int, offset, scale float64, f imaging.ResampleFilter) taps {
	fscale := max(scale, 1)
	support := f.Support * fscale
	n := int(math.Ceil(support))*2 + 1
	if f.Support == 0 { // nearest neighbour
		n = 1
	}
	n = min(n, srcLen)
	t := taps{n: n, start: make([]int32, dstLen), weights: make([]int32, dstLen*n)}
	fw := make([]float64, n)
	for j := range dstLen {
		center := offset + (float64(j)+0.5)*scale - 0.5
		lo := int(math.Ceil(center - support))
		hi := int(math.Floor(center + support))
		if f.Support == 0 {
			lo = int(math.Round(center))
			hi = lo
		}
		lo, hi = max(lo, 0), min(hi, srcLen-1)
		if hi < lo { // entirely outside: take the nearest edge sample
			lo = min(max(int(math.Round(center)), 0), srcLen-1)
			hi = lo
		}
		if hi-lo+1 > n {
			hi = lo + n - 1
		}
		sum := 0.0
		for i := lo; i <= hi; i++ {
			w := 1.0
			if f.Support != 0 {
				w = f.Kernel((float64(i) - center) / fscale)
			}
			fw[i-lo] = w
			sum += w
		}
		if sum == 0 {
			for i := range hi - lo + 1 {
				fw[i] = 1
			}
			sum = float64(hi - lo + 1)
		}
		// Weights in fixed point, their sum exactly 1<<weightBits: the
		// rounding error goes to the largest.
		ws := t.weights[j*n : j*n+n]
		total, big := int32(0), 0
		for i := range hi - lo + 1 {
			ws[i] = int32(math.Round(fw[i] / sum * (1 << weightBits)))
			total += ws[i]
			if ws[i] > ws[big] {
				big = i
			}
		}
		ws[big] += 1<<weightBits - total
		t.start[j] = int32(lo)
		// A window shorter than n (at the edges) keeps zero weights at its
		// end; keep it inside the input by moving the start back.
		if over := lo + n - srcLen; over > 0 {
			shift := min(over, lo)
			copy(ws[shift:], ws[:n-shift])
			clear(ws[:shift])
			t.start[j] = int32(lo - shift)
		}
	}
	return t
}

// clamp8 turns a fixed-point sum into a sample.
func clamp8(v int32) uint8 {
	v = (v + 1<<(weightBits-1)) >> weightBits
	return uint8(min(max(v, 0), 255))
}

// region is the part of a source plane to resample, in its samples:
// [x0, x0+w) × [y0, y0+h), fractional for crops of subsampled planes.
type region struct{ x0, y0, w, h float64 }

// resample resizes the region r of src to dstW×dstH with filter f. The
// vertical pass goes first: it runs over whole rows (sequential memory, no
// per-sample weight look-up), so giving it the larger share of the work — the
// source width rather than the output width — is faster than the other order.
func resample(src plane, r region, dstW, dstH int, f imaging.ResampleFilter) plane {
	sx, sy := r.w/float64(dstW), r.h/float64(dstH)
	tx := makeTaps(src.w, dstW, r.x0, sx, f)
	ty := makeTaps(src.h, dstH, r.y0, sy, f)
	// Only the source columns some output column reads go through the
	// vertical pass.
	x0 := int(tx.start[0])
	x1 := min(int(tx.start[dstW-1])+tx.n, src.w)
	midW := x1 - x0
	mid := plane{w: midW, h: dstH, stride: midW, pix: make([]uint8, midW*dstH)}
	parallelRows(dstH, midW*ty.n, func(a, b int) {
		acc := make([]int32, midW)
		for y := a; y < b; y++ {
			clear(acc)
			start := int(ty.start[y])
			ws := ty.weights[y*ty.n : (y+1)*ty.n]
			rowAt := func(k int) []uint8 {
				o := (start+k)*src.stride + x0
				return src.pix[o : o+midW]
			}
			k := 0
			for ; k+4 <= len(ws); k += 4 {
				addScaledRows4(acc, rowAt(k), rowAt(k+1), rowAt(k+2), rowAt(k+3), ws[k], ws[k+1], ws[k+2], ws[k+3])
			}
			for ; k < len(ws); k++ {
				if ws[k] != 0 {
					addScaledRow(acc, rowAt(k), ws[k])
				}
			}
			out := mid.pix[y*midW : (y+1)*midW]
			for x, v := range acc {
				out[x] = clamp8(v)
			}
		}
	})
	for j := range tx.start {
		tx.start[j] -= int32(x0)
	}
	dst := newPlane(dstW, dstH)
	parallelRows(dstH, dstW*tx.n, func(a, b int) {
		for y := a; y < b; y++ {
			resampleRow(dst.pix[y*dstW:(y+1)*dstW], mid.row(y), &tx)
		}
	})
	return dst
}

// resampleRow is the horizontal pass over one row.
func resampleRow(out, in []uint8, t *taps) {
	n := t.n
	switch n {
	case 1:
		for j := range out {
			out[j] = in[t.start[j]]
		}
		return
	}
	for j := range out {
		ws := t.weights[j*n : j*n+n]
		px := in[t.start[j]:]
		px = px[:len(ws)]
		var s0, s1 int32
		k := 0
		for ; k+1 < len(ws); k += 2 {
			s0 += ws[k] * int32(px[k])
			s1 += ws[k+1] * int32(px[k+1])
		}
		if k < len(ws) {
			s0 += ws[k] * int32(px[k])
		}
		out[j] = clamp8(s0 + s1)
	}
}

// addScaledRow adds w·in to acc, sample by sample (the vertical pass).
func addScaledRow(acc []int32, in []uint8, w int32) {
	in = in[:len(acc)]
	for x, v := range in {
		acc[x] += w * int32(v)
	}
}

// addScaledRows4 is four addScaledRow at once: a quarter of the loads and
// stores of acc.
func addScaledRows4(acc []int32, r0, r1, r2, r3 []uint8, w0, w1, w2, w3 int32) {
	n := len(acc)
	r0, r1, r2, r3 = r0[:n], r1[:n], r2[:n], r3[:n]
	for x := range acc {
		acc[x] += w0*int32(r0[x]) + w1*int32(r1[x]) + w2*int32(r2[x]) + w3*int32(r3[x])
	}
}

// parallelRows runs fn over [0, rows) in bands, one per CPU, when the work
// (rows × costPerRow multiply-adds) is worth the goroutines.
func parallelRows(rows, costPerRow int, fn func(a, b int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || rows < 2*workers || rows*costPerRow < 1<<18 {
		fn(0, rows)
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var panicked any
	band := (rows + workers - 1) / workers
	for a := 0; a < rows; a += band {
		b := min(a+band, rows)
		wg.Go(func() {
			// A panic must reach the caller's goroutine, where Render
			// contains it; in this one it would end the process.
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					panicked = r
					mu.Unlock()
				}
			}()
			fn(a, b)
		})
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}
