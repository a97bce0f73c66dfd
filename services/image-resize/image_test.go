package main

import (
	"testing"

	"github.com/blocpress/blocpress/services/image-resize/internal/photo"
)

func TestParseFocal(t *testing.T) {
	p, err := parseFocal([]byte(`{"x":0.25,"y":1}`))
	if err != nil || *p != (photo.Point{X: 0.25, Y: 1}) {
		t.Errorf("parseFocal = %v, %v", p, err)
	}
	for _, bad := range []string{`{"x":0.5}`, `{"x":-0.1,"y":0.5}`, `{"x":0.5,"y":1.5}`, `not json`, `{}`} {
		if _, err := parseFocal([]byte(bad)); err == nil {
			t.Errorf("parseFocal(%s) accepted", bad)
		}
	}
}

func TestRenditionObjects(t *testing.T) {
	const tid, mid = "hung-yen", "abc"
	for _, tt := range []struct {
		r          photo.Rendition
		key, ctype string
	}{
		{photo.Rendition{Kind: photo.KindPlain, Format: "jpeg", Width: 640}, "media/hung-yen/abc/640.jpg", "image/jpeg"},
		{photo.Rendition{Kind: photo.KindPlainAlpha, Format: "png", Width: 640}, "media/hung-yen/abc/640.png", "image/png"},
		{photo.Rendition{Kind: photo.KindCrop, Format: "jpeg", Width: 1280}, "media/hung-yen/abc/1280-16x9.jpg", "image/jpeg"},
	} {
		if k, c := renditionObject(tid, mid, tt.r); k != tt.key || c != tt.ctype {
			t.Errorf("%v: %s %s, want %s %s", tt.r, k, c, tt.key, tt.ctype)
		}
	}
}

func TestManifestListsWhatPagesUse(t *testing.T) {
	for _, tt := range []struct {
		r           photo.Rendition
		transparent bool
		in          bool
		format      string
	}{
		{photo.Rendition{Kind: photo.KindPlain, Format: "jpeg"}, false, true, "jpeg"},
		{photo.Rendition{Kind: photo.KindPlain, Format: "jpeg"}, true, false, "jpeg"},
		{photo.Rendition{Kind: photo.KindPlainAlpha, Format: "png"}, true, true, "png"},
		{photo.Rendition{Kind: photo.KindPlainAlpha, Format: "webp"}, true, false, "webp"},
		{photo.Rendition{Kind: photo.KindCrop, Format: "jpeg"}, false, true, "jpeg-16x9"},
	} {
		if in := inManifest(tt.r, tt.transparent); in != tt.in || manifestFormat(tt.r) != tt.format {
			t.Errorf("%v (transparent %v): in manifest %v as %q, want %v as %q", tt.r, tt.transparent, in, manifestFormat(tt.r), tt.in, tt.format)
		}
	}
}
