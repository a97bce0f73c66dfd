// This file is not part of Go's image/jpeg: it adds the reduced inverse DCTs
// behind DecodeScaled.

package jpegdec

import "math"

// idctFracBits is the fixed-point precision of the reduced IDCT constants.
const idctFracBits = 13

// zigOf maps the natural order to the zig-zag order (the inverse of unzig).
var zigOf = func() (z [blockSize]uint8) {
	for zig, nat := range unzig {
		z[nat] = uint8(zig)
	}
	return z
}()

// reconstructScaled dequantizes the lowest bs×bs coefficients of b (natural
// order; qt is in zig-zag order) and writes their bs×bs inverse DCT to dst.
func reconstructScaled(b *block, qt *block, bs int, dst []byte, stride int) {
	switch bs {
	case 1:
		dst[0] = clampDC(b[0] * qt[0])
	case 2:
		var c [4]int64
		for v := range 2 {
			for u := range 2 {
				n := 8*v + u
				c[2*v+u] = int64(b[n] * qt[zigOf[n]])
			}
		}
		idct2(&c, dst, stride)
	case 4:
		var c [16]int64
		ac := int64(0)
		for v := range 4 {
			for u := range 4 {
				n := 8*v + u
				x := int64(b[n] * qt[zigOf[n]])
				c[4*v+u] = x
				ac |= x
			}
		}
		if ac == c[0] { // only the DC term (or nothing at all)
			p := clampDC(int32(c[0]))
			for y := range 4 {
				row := dst[y*stride : y*stride+4]
				row[0], row[1], row[2], row[3] = p, p, p, p
			}
			return
		}
		idct4(&c, dst, stride)
	}
}

// idctK4 and idctK2 are the N-point inverse DCT matrices, K[x][u] =
// C(u)/2·cos((2x+1)uπ/2N) with C(0) = 1/√2, in fixed point. Applied to the
// lowest N×N coefficients of an 8×8 block on rows then columns, they give N×N
// pixels that each stand for a (8/N)×(8/N) square of the full-size block —
// the same reduction as libjpeg's jidctred.c. The DC term is exactly the
// block's mean.
var (
	idctK4 = func() (k [4][4]int64) {
		m := idctMatrix(4)
		for x := range 4 {
			copy(k[x][:], m[x])
		}
		return k
	}()
	idctK2 = func() (k [2][2]int64) {
		m := idctMatrix(2)
		for x := range 2 {
			copy(k[x][:], m[x])
		}
		return k
	}()
)

func idctMatrix(n int) [][]int64 {
	k := make([][]int64, n)
	for x := range n {
		k[x] = make([]int64, n)
		for u := range n {
			c := 1.0
			if u == 0 {
				c = 1 / math.Sqrt2
			}
			v := c / 2 * math.Cos(float64((2*x+1)*u)*math.Pi/float64(2*n))
			k[x][u] = int64(math.Round(v * (1 << idctFracBits)))
		}
	}
	return k
}

// pixel level-shifts and clamps a value with 2·idctFracBits fraction bits.
func pixel(v int64) uint8 {
	v = (v+(1<<(2*idctFracBits-1)))>>(2*idctFracBits) + 128
	return uint8(min(max(v, 0), 255))
}

// clampDC is the 1×1 reduction of a block: its mean, from the dequantized DC
// coefficient (which is 8× the mean, level-shifted).
func clampDC(dc int32) uint8 {
	v := (dc+4)>>3 + 128
	return uint8(min(max(v, 0), 255))
}

// idct4 writes the 4×4 inverse DCT of c, the dequantized lowest 4×4
// coefficients of a block (row-major), to dst.
func idct4(c *[16]int64, dst []byte, stride int) {
	k := &idctK4
	var t [16]int64
	for v := range 4 {
		r0, r1, r2, r3 := c[4*v], c[4*v+1], c[4*v+2], c[4*v+3]
		t[4*v] = r0*k[0][0] + r1*k[0][1] + r2*k[0][2] + r3*k[0][3]
		t[4*v+1] = r0*k[1][0] + r1*k[1][1] + r2*k[1][2] + r3*k[1][3]
		t[4*v+2] = r0*k[2][0] + r1*k[2][1] + r2*k[2][2] + r3*k[2][3]
		t[4*v+3] = r0*k[3][0] + r1*k[3][1] + r2*k[3][2] + r3*k[3][3]
	}
	for y := range 4 {
		k0, k1, k2, k3 := k[y][0], k[y][1], k[y][2], k[y][3]
		row := dst[y*stride : y*stride+4]
		row[0] = pixel(k0*t[0] + k1*t[4] + k2*t[8] + k3*t[12])
		row[1] = pixel(k0*t[1] + k1*t[5] + k2*t[9] + k3*t[13])
		row[2] = pixel(k0*t[2] + k1*t[6] + k2*t[10] + k3*t[14])
		row[3] = pixel(k0*t[3] + k1*t[7] + k2*t[11] + k3*t[15])
	}
}

// idct2 writes the 2×2 inverse DCT of c, the dequantized lowest 2×2
// coefficients of a block, to dst.
func idct2(c *[4]int64, dst []byte, stride int) {
	k := &idctK2
	t00 := c[0]*k[0][0] + c[1]*k[0][1]
	t01 := c[0]*k[1][0] + c[1]*k[1][1]
	t10 := c[2]*k[0][0] + c[3]*k[0][1]
	t11 := c[2]*k[1][0] + c[3]*k[1][1]
	dst[0] = pixel(k[0][0]*t00 + k[0][1]*t10)
	dst[1] = pixel(k[0][0]*t01 + k[0][1]*t11)
	dst[stride] = pixel(k[1][0]*t00 + k[1][1]*t10)
	dst[stride+1] = pixel(k[1][0]*t01 + k[1][1]*t11)
}

// block16 holds a block's coefficients between the scans of a progressive
// JPEG. They fit in 16 bits (an 8-bit JPEG's are at most 11 bits and a sign;
// a hostile file's larger ones are cut, not trusted), so every block of the
// image takes 128 bytes instead of Go's 256: the largest buffer a
// progressive photo needs.
type block16 [blockSize]int16

func (b *block16) widen() (w block) {
	for i, v := range b {
		w[i] = int32(v)
	}
	return w
}
