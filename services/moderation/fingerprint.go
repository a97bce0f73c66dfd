package main

// Near-duplicates are found with one-permutation MinHash over the
// article's three-syllable shingles (folded, so that a repost with its
// marks stripped or its tone marks moved still matches): each shingle's
// hash goes to one of sigBins bins, which keeps the smallest. The share of
// equal bins among the bins either article fills estimates the Jaccard
// index of the two shingle sets. 128 bins give an estimate within about
// ±0.05 of it, in one hash per shingle.
const (
	sigBins     = 128
	emptyBin    = ^uint32(0)
	minShingles = 20 // below this an article is too short to compare
)

// fingerprint is the signature of a text given as its syllables' hashes,
// nil when it is too short.
func fingerprint(h []uint32) []uint32 {
	if len(h) < minShingles+2 {
		return nil
	}
	sig := make([]uint32, sigBins)
	for i := range sig {
		sig[i] = emptyBin
	}
	for i := 0; i+2 < len(h); i++ {
		x := mix64(uint64(h[i])<<32 | uint64(h[i+1]) ^ uint64(h[i+2])*0x9E3779B97F4A7C15)
		bin := x >> (64 - 7)
		if v := uint32(x); v < sig[bin] {
			sig[bin] = v
		}
	}
	return sig
}

// similarity estimates the Jaccard index of two signatures' shingle sets.
func similarity(a, b []uint32) float64 {
	if len(a) != sigBins || len(b) != sigBins {
		return 0
	}
	same, union := 0, 0
	for i := range a {
		if a[i] == emptyBin && b[i] == emptyBin {
			continue
		}
		union++
		if a[i] == b[i] {
			same++
		}
	}
	if union == 0 {
		return 0
	}
	return float64(same) / float64(union)
}

// mix64 is the finaliser of SplitMix64: every input bit affects every
// output bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}
