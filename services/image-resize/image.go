package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/blocpress/blocpress/services/image-resize/internal/photo"
)

// The photo manifest, and where its parts live.
//
// The KV manifest (bucket "media", proto MediaManifest) and the
// media.resized event list what pages are built from, in the proto's
// Rendition (width, height, bytes, key, format):
//   - the plain renditions for srcset: format "jpeg", key
//     media/<tenant>/<media>/<width>.jpg — or, for a photo with
//     transparency, format "png", key …/<width>.png, so that srcset keeps
//     the transparency (render takes "jpeg" and "png" plain renditions);
//   - the 16:9 crops for list pages and social cards: format "jpeg-16x9",
//     key …/<width>-16x9.jpg (render's socialImage picks the widest; its
//     srcset leaves them out).
//
// Everything else goes to a JSON sidecar, media/<tenant>/<media>/manifest.json
// (image-resize is its only writer; it is written before the KV manifest,
// so whoever sees the KV entry finds it): the original's format, size in
// bytes and pixels, frames and orientation; every stored rendition with
// kind, format, width, height, bytes and key — including, for a transparent
// photo, the JPEGs flattened on white (…/<width>.jpg, so every plain width
// also exists as JPEG) and lossless WebP (…/<width>.webp); the crop window
// and focal point; the dominant colour and a tiny placeholder PNG as a data:
// URI. The README lists the proto fields that would carry these instead.

// sidecar is manifest.json.
type sidecar struct {
	MediaID  string `json:"media_id"`
	Tenant   string `json:"tenant"`
	Original struct {
		Format      string `json:"format"`
		Bytes       int64  `json:"bytes"`
		Width       int    `json:"width"`
		Height      int    `json:"height"`
		Frames      int    `json:"frames"`
		Orientation int    `json:"orientation"`
	} `json:"original"`
	// Width and Height are the displayed size (orientation applied).
	Width         int                `json:"width"`
	Height        int                `json:"height"`
	Transparent   bool               `json:"transparent"`
	DominantColor string             `json:"dominant_color"`
	Placeholder   string             `json:"placeholder"`
	Crop          *sidecarCrop       `json:"crop,omitempty"`
	Renditions    []sidecarRendition `json:"renditions"`
}

type sidecarCrop struct {
	X      int     `json:"x"`
	Y      int     `json:"y"`
	Width  int     `json:"width"`
	Height int     `json:"height"`
	FocalX float64 `json:"focal_x"`
	FocalY float64 `json:"focal_y"`
	// FocalSource is "editor", "smart" or "centre".
	FocalSource string `json:"focal_source"`
}

type sidecarRendition struct {
	Kind   string `json:"kind"` // plain, plain-alpha (PNG, WebP), crop-16x9
	Format string `json:"format"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
	Key    string `json:"key"`
}

// focalPoint is media/<tenant>/<media>/focal.json, where the editor's focal
// point is read from (ingest is to write it; see the README).
type focalPoint struct {
	X *float64 `json:"x"`
	Y *float64 `json:"y"`
}

func parseFocal(b []byte) (*photo.Point, error) {
	var f focalPoint
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.X == nil || f.Y == nil || *f.X < 0 || *f.X > 1 || *f.Y < 0 || *f.Y > 1 {
		return nil, fmt.Errorf("focal point %s is not {\"x\":0…1,\"y\":0…1}", b)
	}
	return &photo.Point{X: *f.X, Y: *f.Y}, nil
}

// renditionObject is where a rendition is stored and its content type.
func renditionObject(tenantID, mediaID string, r photo.Rendition) (key, contentType string) {
	base := "media/" + tenantID + "/" + mediaID + "/"
	w := strconv.Itoa(r.Width)
	switch {
	case r.Kind == photo.KindCrop:
		return base + w + "-16x9.jpg", "image/jpeg"
	case r.Format == "png":
		return base + w + ".png", "image/png"
	case r.Format == "webp":
		return base + w + ".webp", "image/webp"
	}
	return renditionKey(tenantID, mediaID, r.Width), "image/jpeg"
}

func sidecarKey(tenantID, mediaID string) string {
	return "media/" + tenantID + "/" + mediaID + "/manifest.json"
}

func focalKey(tenantID, mediaID string) string {
	return "media/" + tenantID + "/" + mediaID + "/focal.json"
}

func makeSidecar(tenantID, mediaID string, size int64, res *photo.Result, focalSource string) *sidecar {
	s := &sidecar{MediaID: mediaID, Tenant: tenantID, Width: res.Width, Height: res.Height, Transparent: res.Transparent}
	s.Original.Format = res.Header.Format
	s.Original.Bytes = size
	s.Original.Width, s.Original.Height = res.Header.Width, res.Header.Height
	s.Original.Frames, s.Original.Orientation = res.Header.Frames, res.Header.Orientation
	d := res.Dominant
	s.DominantColor = fmt.Sprintf("#%02x%02x%02x", d.R, d.G, d.B)
	if len(res.Placeholder) > 0 {
		s.Placeholder = "data:image/png;base64," + base64.StdEncoding.EncodeToString(res.Placeholder)
	}
	if res.Crop.W > 0 {
		s.Crop = &sidecarCrop{X: res.Crop.X, Y: res.Crop.Y, Width: res.Crop.W, Height: res.Crop.H,
			FocalX: res.Focal.X, FocalY: res.Focal.Y, FocalSource: focalSource}
	}
	s.Renditions = []sidecarRendition{}
	for _, r := range res.Renditions {
		k, _ := renditionObject(tenantID, mediaID, r)
		s.Renditions = append(s.Renditions, sidecarRendition{Kind: string(r.Kind), Format: r.Format,
			Width: r.Width, Height: r.Height, Bytes: len(r.Data), Key: k})
	}
	return s
}

// inManifest reports whether a rendition is listed in the KV manifest and
// the media.resized event (see the top of this file).
func inManifest(r photo.Rendition, transparent bool) bool {
	switch r.Kind {
	case photo.KindCrop:
		return true
	case photo.KindPlain:
		return !transparent
	case photo.KindPlainAlpha:
		return r.Format == "png"
	}
	return false
}

// manifestFormat is a rendition's format as the proto's Rendition.format
// says it: "jpeg", "png", or "jpeg-16x9" for a crop.
func manifestFormat(r photo.Rendition) string {
	if r.Kind == photo.KindCrop {
		return r.Format + "-16x9"
	}
	return r.Format
}
