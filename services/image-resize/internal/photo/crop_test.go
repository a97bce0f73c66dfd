package photo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/blocpress/blocpress/libs/testkit"
)

func TestPlaceCrop(t *testing.T) {
	for _, tt := range []struct {
		focal Point
		want  Rect
	}{
		{Point{0.5, 0.5}, Rect{0, 300, 800, 450}},
		{Point{0.5, 0}, Rect{0, 0, 800, 450}},
		{Point{0.5, 1}, Rect{0, 600, 800, 450}},
		{Point{-3, 7}, Rect{0, 600, 800, 450}},
		{Point{0.5, 0.3}, Rect{0, 90, 800, 450}}, // centred on y = 315
	} {
		if got := placeCrop(800, 1050, 800, 450, tt.focal); got != tt.want {
			t.Errorf("placeCrop(focal %+v) = %+v, want %+v", tt.focal, got, tt.want)
		}
	}
}

// A portrait photo of a plain wall with a face-coloured, detailed patch near
// the top: the smart crop goes up to it, the centre crop would miss it.
func TestSmartFocalFindsTheSubject(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 600, 1000))
	for y := range 1000 {
		for x := range 600 {
			c := color.RGBA{120, 130, 140, 255}
			if y > 120 && y < 320 && x > 200 && x < 400 {
				// Skin tone with texture.
				d := uint8((x*7 + y*13) % 23)
				c = color.RGBA{200 + d, 150 + d/2, 120 + d/3, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	opt := Options{Widths: []int{320, 600}, CropWidths: []int{320}, JPEGQuality: 85, MaxPixels: 1e8}
	smart := render(t, buf.Bytes(), opt)
	opt.DefaultCrop = CropCentre
	centre := render(t, buf.Bytes(), opt)
	// The window is 600×337; the patch spans y 120–320.
	if smart.Crop.Y > 120 || smart.Crop.Y+smart.Crop.H < 320 {
		t.Errorf("smart crop %+v does not hold the subject (y 120–320)", smart.Crop)
	}
	if abs(centre.Crop.Y-331) > 1 {
		t.Errorf("centre crop %+v", centre.Crop)
	}
}

// BenchmarkSmartFocal is the detection's cost as Render pays it: on the
// smallest plain rendition (320 px wide).
func BenchmarkSmartFocal(b *testing.B) {
	src, err := jpeg.Decode(bytes.NewReader(testkit.Photo(b, "photo2.jpg")))
	if err != nil {
		b.Fatal(err)
	}
	pic := toPicture(src)
	small := pic.resize(0, 0, float64(pic.w), float64(pic.h), 320, ScaledHeight(320, pic.w, pic.h), DefaultFilter)
	pl := plan{w: pic.w, h: pic.h, crop: Rect{W: pic.w, H: pic.w * 9 / 16}}
	for b.Loop() {
		_ = defaultFocal(small, 1, pl, CropSmart)
	}
}
