package testkit

import (
	"image"
	"image/color"
	"testing"
)

// MeanAbsDiff averages over every pixel's R, G and B, ignores alpha, and
// ranks a size mismatch as the largest difference.
func TestMeanAbsDiff(t *testing.T) {
	black := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	black.SetNRGBA(0, 0, color.NRGBA{A: 255})
	black.SetNRGBA(1, 0, color.NRGBA{A: 255})
	other := image.NewNRGBA(image.Rect(5, 5, 7, 6)) // same size elsewhere
	other.SetNRGBA(5, 5, color.NRGBA{A: 255})
	other.SetNRGBA(6, 5, color.NRGBA{R: 30, G: 60, B: 90, A: 255})
	if d := MeanAbsDiff(black, black); d != 0 {
		t.Errorf("an image differs from itself by %v", d)
	}
	if d := MeanAbsDiff(black, other); d != 30 { // (30+60+90) over 6 channels
		t.Errorf("difference %v, want 30", d)
	}
	if d := MeanAbsDiff(black, image.NewNRGBA(image.Rect(0, 0, 1, 2))); d != 255 {
		t.Errorf("2×1 against 1×2: %v, want 255", d)
	}
}
