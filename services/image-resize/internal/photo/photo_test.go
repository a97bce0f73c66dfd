package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/webp" // decode's image.Decode reads the WebP renditions

	"github.com/blocpress/blocpress/libs/testkit"
)

var defaults = Options{Widths: []int{320, 640, 1024, 1600}, CropWidths: []int{320, 640, 1280}, JPEGQuality: 82, MaxPixels: 40_000_000}

func TestWidths(t *testing.T) {
	configured := []int{320, 640, 1024, 1600}
	tests := []struct {
		width int
		want  []int
	}{
		{1920, []int{320, 640, 1024, 1600}},
		{1601, []int{320, 640, 1024, 1600}},
		{1600, []int{320, 640, 1024, 1600}},
		{1000, []int{320, 640, 1000}},
		{640, []int{320, 640}},
		{321, []int{320, 321}},
		{100, []int{100}},
		{0, nil},
	}
	for _, tt := range tests {
		if got := Widths(configured, tt.width); !slices.Equal(got, tt.want) {
			t.Errorf("Widths(%v, %d) = %v, want %v", configured, tt.width, got, tt.want)
		}
	}
}

func TestScaledHeight(t *testing.T) {
	for _, tt := range []struct{ nw, w, h, want int }{{320, 1920, 1440, 240}, {320, 1440, 1920, 427}, {1000, 3000, 1, 1}} {
		if got := ScaledHeight(tt.nw, tt.w, tt.h); got != tt.want {
			t.Errorf("ScaledHeight(%d, %d, %d) = %d, want %d", tt.nw, tt.w, tt.h, got, tt.want)
		}
	}
}

func render(t *testing.T, data []byte, opt Options) *Result {
	t.Helper()
	res, err := Render(data, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func decode(t *testing.T, r Rendition) image.Image {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(r.Data))
	if err != nil || format != r.Format {
		t.Fatalf("%v: decodes as %q: %v", r, format, err)
	}
	if img.Bounds().Dx() != r.Width || img.Bounds().Dy() != r.Height {
		t.Fatalf("%v: decodes as %v", r, img.Bounds())
	}
	return img
}

// hasMetadata reports whether an encoded JPEG, WebP or PNG carries any
// segment or chunk beyond the image itself.
func hasMetadata(b []byte) bool {
	if bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
		// In entropy-coded data 0xFF is always followed by 0x00 or a
		// restart marker, so an APPn or COM marker byte pair is a segment.
		for i := 0; i+1 < len(b); i++ {
			if b[i] == 0xFF && (b[i+1] >= 0xE0 && b[i+1] <= 0xEF || b[i+1] == 0xFE) {
				return true
			}
		}
		return false
	}
	if bytes.HasPrefix(b, []byte("RIFF")) {
		for p := 12; p+8 <= len(b); {
			n := int(binary.LittleEndian.Uint32(b[p+4:]))
			switch string(b[p : p+4]) {
			case "VP8 ", "VP8L", "VP8X", "ALPH":
			default:
				return true
			}
			p += 8 + n + n&1
		}
		return false
	}
	for p := 8; p+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[p:]))
		switch string(b[p+4 : p+8]) {
		case "IHDR", "PLTE", "tRNS", "IDAT", "IEND":
		default:
			return true
		}
		p += 12 + n
	}
	return false
}

func TestRenderPhoto(t *testing.T) {
	res := render(t, testkit.Photo(t, "photo1.jpg"), defaults)
	if res.Width != 1920 || res.Height != 1440 || res.Transparent || res.Scale != 1 {
		t.Errorf("result %d×%d transparent %v scale %d", res.Width, res.Height, res.Transparent, res.Scale)
	}
	var got []string
	for _, r := range res.Renditions {
		got = append(got, r.String()[:strings.LastIndex(r.String(), " ")])
		decode(t, r)
		if hasMetadata(r.Data) {
			t.Errorf("%v carries metadata", r)
		}
	}
	want := []string{"plain jpeg 320×240", "plain jpeg 640×480", "plain jpeg 1024×768", "plain jpeg 1600×1200",
		"crop-16x9 jpeg 320×180", "crop-16x9 jpeg 640×360", "crop-16x9 jpeg 1280×720"}
	if !slices.Equal(got, want) {
		t.Errorf("renditions %q, want %q", got, want)
	}
	if len(res.Placeholder) == 0 || len(res.Placeholder) > 400 {
		t.Errorf("placeholder is %d bytes", len(res.Placeholder))
	}
	ph, err := png.Decode(bytes.NewReader(res.Placeholder))
	if err != nil || max(ph.Bounds().Dx(), ph.Bounds().Dy()) != 8 {
		t.Errorf("placeholder: %v %v", ph.Bounds(), err)
	}
	// The rendition looks like the photo resized the careful way (at
	// quality 100, so that JPEG's loss does not hide a difference).
	full, _ := imaging.Decode(bytes.NewReader(testkit.Photo(t, "photo1.jpg")))
	q100 := defaults
	q100.JPEGQuality = 100
	if d := testkit.MeanAbsDiff(decode(t, render(t, testkit.Photo(t, "photo1.jpg"), q100).Renditions[1]), imaging.Resize(full, 640, 480, imaging.Lanczos)); d > 2 {
		t.Errorf("640-px rendition differs from a Lanczos resize by %.1f per channel", d)
	}
}

// A large JPEG is decoded at a reduced DCT scale, and the result is as good
// as from the full-size decode.
func TestReducedScaleDecode(t *testing.T) {
	data := testkit.Photo(t, "photo1.jpg") // 1920×1440
	opt := Options{Widths: []int{320, 480}, JPEGQuality: 95, MaxPixels: 1e8}
	scaled := render(t, data, opt)
	if scaled.Scale != 4 {
		t.Errorf("decoded at 1/%d, want 1/4 (480 wide)", scaled.Scale)
	}
	opt.MinHeadroom = 1e9
	full := render(t, data, opt)
	if full.Scale != 1 {
		t.Fatalf("with no scale allowed: 1/%d", full.Scale)
	}
	for i := range scaled.Renditions {
		if d := testkit.MeanAbsDiff(decode(t, scaled.Renditions[i]), decode(t, full.Renditions[i])); d > 3 {
			t.Errorf("%v differs from the full-decode one by %.1f per channel", scaled.Renditions[i], d)
		}
	}
}

// withOrientation re-encodes img turned so that EXIF orientation o turns it
// back, with an APP1 segment saying o.
func withOrientation(t *testing.T, img image.Image, o int) []byte {
	t.Helper()
	stored := img
	switch o { // the inverse of what o asks a viewer to do
	case 2:
		stored = imaging.FlipH(img)
	case 3:
		stored = imaging.Rotate180(img)
	case 4:
		stored = imaging.FlipV(img)
	case 5:
		stored = imaging.Transpose(img)
	case 6:
		stored = imaging.Rotate90(img) // counter-clockwise; the viewer turns it clockwise
	case 7:
		stored = imaging.Transverse(img)
	case 8:
		stored = imaging.Rotate270(img)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, stored, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	exif := append([]byte("Exif\x00\x00"), exifBlock(binary.BigEndian, o)...)
	seg := append([]byte{0xFF, 0xE1}, binary.BigEndian.AppendUint16(nil, uint16(len(exif)+2))...)
	seg = append(seg, exif...)
	return append(append([]byte{0xFF, 0xD8}, seg...), buf.Bytes()[2:]...)
}

// Every EXIF orientation gives the same renditions and crops as the photo
// stored upright.
func TestEveryOrientation(t *testing.T) {
	src, err := jpeg.Decode(bytes.NewReader(testkit.Photo(t, "photo3.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	upright := imaging.Resize(src, 600, 0, imaging.Lanczos) // a landscape: the crops move vertically
	opt := Options{Widths: []int{200, 400}, CropWidths: []int{160, 320}, JPEGQuality: 95, MaxPixels: 1e8, DefaultCrop: CropSmart}
	want := render(t, withOrientation(t, upright, 1), opt)
	for o := 2; o <= 8; o++ {
		data := withOrientation(t, upright, o)
		if h, _ := Inspect(data); h.Orientation != o {
			t.Fatalf("test file for orientation %d reads as %d", o, h.Orientation)
		}
		got := render(t, data, opt)
		if got.Width != want.Width || got.Height != want.Height || got.Crop != want.Crop {
			t.Errorf("orientation %d: %d×%d crop %+v, want %d×%d crop %+v", o, got.Width, got.Height, got.Crop, want.Width, want.Height, want.Crop)
		}
		for i, r := range got.Renditions {
			if d := testkit.MeanAbsDiff(decode(t, r), decode(t, want.Renditions[i])); d > 4 {
				t.Errorf("orientation %d: %v differs from upright by %.1f per channel", o, r, d)
			}
		}
	}
}

func TestTransparentPNGStaysPNG(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 800, 400))
	for y := range 400 {
		for x := range 800 {
			if x >= 300 && x < 500 {
				img.SetNRGBA(x, y, color.NRGBA{R: 200, G: 30, B: 30, A: 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	res := render(t, buf.Bytes(), defaults)
	if !res.Transparent {
		t.Fatal("not seen as transparent")
	}
	var pngs, webps, jpegs int
	for _, r := range res.Renditions {
		out := decode(t, r)
		switch {
		case r.Format == "png" || r.Format == "webp":
			if r.Format == "png" {
				pngs++
			} else {
				webps++
				if !bytes.HasPrefix(r.Data[12:], []byte("VP8L")) {
					t.Errorf("%v: not a bare lossless WebP", r)
				}
			}
			if _, _, _, a := out.At(5, 5).RGBA(); a != 0 {
				t.Errorf("%v: transparent corner has alpha %d", r, a>>8)
			}
			if rr, _, _, a := out.At(r.Width/2, r.Height/2).RGBA(); a>>8 != 255 || rr>>8 < 190 {
				t.Errorf("%v: centre is not opaque red", r)
			}
			if hasMetadata(r.Data) {
				t.Errorf("%v carries metadata", r)
			}
		case r.Kind == KindPlain:
			jpegs++
			if rr, g, b, _ := out.At(5, 5).RGBA(); rr>>8 < 240 || g>>8 < 240 || b>>8 < 240 {
				t.Errorf("%v: transparent corner is not white in the JPEG", r)
			}
		}
	}
	if pngs != 3 || webps != 3 || jpegs != 3 { // 320, 640, 800
		t.Errorf("%d PNG, %d WebP and %d JPEG plain renditions, want 3 of each", pngs, webps, jpegs)
	}
	// An opaque PNG becomes JPEG only.
	buf.Reset()
	opaque := image.NewRGBA(image.Rect(0, 0, 500, 300))
	draw.Draw(opaque, opaque.Rect, image.NewUniform(color.RGBA{10, 120, 200, 255}), image.Point{}, draw.Src)
	if err := png.Encode(&buf, opaque); err != nil {
		t.Fatal(err)
	}
	res = render(t, buf.Bytes(), defaults)
	for _, r := range res.Renditions {
		if r.Format != "jpeg" {
			t.Errorf("opaque PNG gave %v", r)
		}
	}
	if d := res.Dominant; absDiff(d.R, 10) > 2 || absDiff(d.G, 120) > 2 || absDiff(d.B, 200) > 2 {
		t.Errorf("dominant colour %v, want the image's only colour", res.Dominant)
	}
}

func TestAnimatedGIFBecomesItsFirstFrame(t *testing.T) {
	res := render(t, animatedGIF(t, 400, 300, 3), defaults)
	if res.Header.Frames != 3 || res.Width != 400 || res.Height != 300 {
		t.Fatalf("header %+v", res.Header)
	}
	first := color.RGBAModel.Convert(palette9(10)).(color.RGBA)
	for _, r := range res.Renditions {
		c := color.RGBAModel.Convert(decode(t, r).At(r.Width/2, r.Height/2)).(color.RGBA)
		if absDiff(c.R, first.R) > 8 || absDiff(c.G, first.G) > 8 || absDiff(c.B, first.B) > 8 {
			t.Errorf("%v: centre %v, want the first frame's %v", r, c, first)
		}
	}
	// A first frame smaller than the screen sits where it belongs.
	g := &gif.GIF{Config: image.Config{Width: 200, Height: 100, ColorModel: color.Palette(palette9All())}}
	m := image.NewPaletted(image.Rect(150, 50, 200, 100), palette9All())
	for i := range m.Pix {
		m.Pix[i] = 10
	}
	g.Image, g.Delay = []*image.Paletted{m}, []int{0}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	res = render(t, buf.Bytes(), Options{Widths: []int{200}, JPEGQuality: 90, MaxPixels: 1e6})
	if !res.Transparent || res.Width != 200 || res.Height != 100 {
		t.Fatalf("offset frame: %d×%d transparent %v", res.Width, res.Height, res.Transparent)
	}
}

func palette9All() color.Palette {
	p := make(color.Palette, 256)
	for i := range p {
		p[i] = color.RGBA{uint8(i), uint8(255 - i), uint8(i / 2), 255}
	}
	p[10] = color.RGBA{200, 40, 40, 255}
	return p
}

// palette9 is the colour animatedGIF paints frame 0 with at index i.
func palette9(i int) color.Color { return palette.Plan9[i] }

func absDiff(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }

func TestOtherFormats(t *testing.T) {
	for _, name := range []string{"progressive.jpg", "gray.jpg", "cmyk.jpg", "lossy.webp", "lossless-alpha.webp"} {
		res := render(t, testdata(t, name), defaults)
		if len(res.Renditions) == 0 {
			t.Errorf("%s: no renditions", name)
		}
		for _, r := range res.Renditions {
			decode(t, r)
		}
		if name == "lossless-alpha.webp" && !res.Transparent {
			t.Errorf("%s: transparency lost", name)
		}
	}
	// An animated WebP (two frames made from the lossy still) → first frame.
	anim := animatedWebP(t, testdata(t, "lossy.webp"), 480, 320)
	res := render(t, anim, defaults)
	if res.Header.Frames != 2 || res.Width != 480 {
		t.Errorf("animated WebP: %+v", res.Header)
	}
}

// animatedWebP wraps the VP8 chunk of a still lossy WebP as two animation
// frames.
func animatedWebP(t *testing.T, still []byte, w, h int) []byte {
	t.Helper()
	i := bytes.Index(still, []byte("VP8 "))
	if i < 0 {
		t.Fatal("no VP8 chunk")
	}
	chunk := still[i:]
	var body bytes.Buffer
	body.WriteString("WEBPVP8X")
	body.Write(binary.LittleEndian.AppendUint32(nil, 10))
	body.Write([]byte{0x02, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), 0, byte(h - 1), byte((h - 1) >> 8), 0})
	body.WriteString("ANIM")
	body.Write(binary.LittleEndian.AppendUint32(nil, 6))
	body.Write([]byte{0, 0, 0, 0, 0, 0})
	for range 2 {
		body.WriteString("ANMF")
		body.Write(binary.LittleEndian.AppendUint32(nil, uint32(16+len(chunk))))
		body.Write([]byte{0, 0, 0, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), 0, byte(h - 1), byte((h - 1) >> 8), 0, 100, 0, 0, 0})
		body.Write(chunk)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(body.Len()))...), body.Bytes()...)
}

func TestBrokenFilesAreUnusable(t *testing.T) {
	photo := testkit.Photo(t, "photo1.jpg")
	prog := testdata(t, "progressive.jpg")
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 300, 300))); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		data []byte
		want string
	}{
		"truncated JPEG":             {photo[:len(photo)/2], "truncated"},
		"truncated progressive JPEG": {prog[:len(prog)*2/3], "truncated"},
		"truncated PNG":              {pngBuf.Bytes()[:pngBuf.Len()-30], "truncated"},
		"PNG header only":            {pngHeader(300, 200), "truncated"},
		"truncated GIF":              {animatedGIF(t, 50, 50, 1)[:30], "truncated"},
		"truncated WebP":             {testdata(t, "lossy.webp")[:2000], "truncated"},
	}
	for name, tt := range tests {
		_, err := Render(tt.data, defaults)
		var u *Unusable
		if !errors.As(err, &u) || !strings.Contains(u.Reason, tt.want) {
			t.Errorf("%s: err = %v, want a reason containing %q", name, err, tt.want)
		}
	}
}

func TestCropFollowsTheFocalPoint(t *testing.T) {
	src, _ := jpeg.Decode(bytes.NewReader(testkit.Photo(t, "photo3.jpg")))
	portrait := imaging.Resize(imaging.Rotate90(src), 400, 0, imaging.Lanczos) // the crop moves vertically
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, portrait, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	opt := Options{Widths: []int{400}, CropWidths: []int{320}, JPEGQuality: 90, MaxPixels: 1e8}
	h := portrait.Bounds().Dy()
	for _, tt := range []struct {
		focal Point
		y     int
	}{{Point{0.5, 0}, 0}, {Point{0.5, 1}, h - 225}, {Point{0.5, 0.5}, (h - 225) / 2}} {
		opt.Focal = &tt.focal
		res := render(t, buf.Bytes(), opt)
		if res.Crop.W != 400 || res.Crop.H != 225 || abs(res.Crop.Y-tt.y) > 1 {
			t.Errorf("focal %+v: crop %+v, want 400×225 at y=%d", tt.focal, res.Crop, tt.y)
		}
		crop := decode(t, res.Renditions[len(res.Renditions)-1])
		want := imaging.Resize(imaging.Crop(portrait, image.Rect(0, res.Crop.Y, 400, res.Crop.Y+225)), 320, 180, imaging.Lanczos)
		if d := testkit.MeanAbsDiff(crop, want); d > 4 {
			t.Errorf("focal %+v: the crop differs from the window by %.1f per channel", tt.focal, d)
		}
	}
}

func abs(x int) int { return max(x, -x) }

// A decoder panic is contained and reported as an unusable photo.
func TestPanicIsContained(t *testing.T) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic escaped: %v", r)
		}
	}()
	_, err := Render(testkit.Photo(t, "photo1.jpg"), Options{Widths: []int{320}, JPEGQuality: 82, MaxPixels: 1e8,
		Filter: imaging.ResampleFilter{Support: 1, Kernel: func(float64) float64 { panic("kernel exploded") }}})
	var u *Unusable
	if !errors.As(err, &u) || !strings.Contains(u.Reason, "kernel exploded") {
		t.Fatalf("err = %v, want the panic as an unusable photo", err)
	}
}

// WorkingBytes weighs photos by what decoding them costs: a JPEG decoded at
// a reduced scale weighs little, a progressive one its coefficients too, a
// PNG its full RGBA.
func TestWorkingBytes(t *testing.T) {
	jpegH := Header{Format: "jpeg", Width: 6000, Height: 4000, Frames: 1, Pixels: 24e6, Orientation: 1}
	prog := jpegH
	prog.Progressive = true
	pngH := jpegH
	pngH.Format = "png"
	small := Header{Format: "jpeg", Width: 800, Height: 600, Frames: 1, Pixels: 48e4, Orientation: 1}
	j, p, n, s := WorkingBytes(jpegH, defaults), WorkingBytes(prog, defaults), WorkingBytes(pngH, defaults), WorkingBytes(small, defaults)
	if !(s < j && j < p && j < n) {
		t.Errorf("small %d, 24-MP JPEG %d, progressive %d, PNG %d: want small < JPEG < progressive, PNG", s, j, p, n)
	}
	if n < 24e6*4 {
		t.Errorf("24-MP PNG weighs %d bytes, less than its decoded RGBA", n)
	}
}
