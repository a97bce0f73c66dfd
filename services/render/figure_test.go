package main

import (
	"strconv"
	"strings"
	"testing"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

func TestFigureOf(t *testing.T) {
	id := strings.Repeat("ab", 32)
	rd := func(w, h int32) *eventsv1.Rendition {
		return &eventsv1.Rendition{Width: w, Height: h, Key: "media/hy/" + id + "/" + strconv.Itoa(int(w)) + ".jpg", Format: "jpeg"}
	}
	img := &eventsv1.Image{MediaId: id, Caption: " Các đại biểu ", Credit: "Lam Hồng"}

	fig, thumb := figureOf("hy", img, &eventsv1.MediaResized{Renditions: []*eventsv1.Rendition{
		rd(1600, 1067), rd(320, 213), rd(1024, 683), rd(640, 427),
		{Width: 800, Height: 533, Key: "elsewhere/800.webp"},                           // not where site serves from
		{Width: 800, Height: 533, Key: "media/hy/" + id + "/800.webp", Format: "webp"}, // not in srcset
		{Width: 1200, Height: 675, Key: "media/hy/" + id + "/1200-16x9.jpg", Format: "jpeg-16x9"},
		{Width: 900, Height: 600, Key: "media/hy/" + id + "/900.avif", Format: "avif"}, // unknown
	}})
	if fig == nil {
		t.Fatal("no figure")
	}
	base := "/hy/media/" + id + "/"
	if fig.Src != base+"1024.jpg" || fig.Width != 1024 || fig.Height != 683 {
		t.Errorf("src %s %dx%d, want the 1024 rendition", fig.Src, fig.Width, fig.Height)
	}
	want := base + "320.jpg 320w, " + base + "640.jpg 640w, " + base + "1024.jpg 1024w, " + base + "1600.jpg 1600w"
	if fig.Srcset != want {
		t.Errorf("srcset\n got %s\nwant %s", fig.Srcset, want)
	}
	if thumb != base+"320.jpg" || fig.Caption != "Các đại biểu" || fig.Credit != "Lam Hồng" {
		t.Errorf("thumb %q caption %q credit %q", thumb, fig.Caption, fig.Credit)
	}

	og := socialImage("hy", img, &eventsv1.MediaResized{Renditions: []*eventsv1.Rendition{rd(1600, 1067),
		{Width: 1200, Height: 675, Key: "media/hy/" + id + "/1200-16x9.jpg", Format: "jpeg-16x9"}}})
	if og.Image != base+"1200-16x9.jpg" || og.ImageWidth != 1200 || og.ImageHeight != 675 {
		t.Errorf("og image %+v, want the 16:9 crop", og)
	}
	if og := socialImage("hy", img, &eventsv1.MediaResized{Renditions: []*eventsv1.Rendition{rd(320, 213), rd(1600, 1067)}}); og.Image != base+"1600.jpg" {
		t.Errorf("og image without a crop %+v", og)
	}

	// With no rendition up to 1024 px wide, src is the smallest one.
	fig, _ = figureOf("hy", img, &eventsv1.MediaResized{Renditions: []*eventsv1.Rendition{rd(2048, 1000), rd(1280, 700)}})
	if fig.Src != base+"1280.jpg" {
		t.Errorf("src %s, want the smallest rendition when none is ≤1024", fig.Src)
	}
	if fig, _ := figureOf("hy", img, &eventsv1.MediaResized{}); fig != nil {
		t.Errorf("figure without renditions: %+v", fig)
	}
}
