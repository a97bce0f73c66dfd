package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/services/image-resize/internal/photo"
)

// envPrefix prefixes this service's own variables; config.Common's NATS_* and
// S3_* are shared and unprefixed.
const envPrefix = "IMAGE_RESIZE_"

// Config is image-resize's configuration, read from the environment.
type Config struct {
	config.Common
	HTTPAddr string `env:"HTTP_ADDR" default:":8084" help:"listen address for /healthz, /readyz, /metrics"`
	// Widths are the rendition widths in pixels; a photo never gets one wider
	// than itself (see renditionWidths).
	Widths []int `env:"WIDTHS" default:"320,640,1024,1600" help:"rendition widths in pixels, comma-separated"`
	// MaxPixels bounds width×height, checked from the header before decoding:
	// a decoded photo takes 4 bytes per pixel.
	MaxPixels int64 `env:"MAX_PIXELS" default:"40000000" help:"largest accepted width×height"`
	// MaxBytes bounds the original's size.
	MaxBytes    int64 `env:"MAX_BYTES" default:"26214400" help:"largest accepted original, in bytes"`
	JPEGQuality int   `env:"JPEG_QUALITY" default:"82" help:"JPEG quality of renditions, 1-100"`
	// CropWidths are the widths of the 16:9 crops (list pages, social
	// cards), made around the editor's focal point or CropDefault's.
	CropWidths []int `env:"CROP_WIDTHS" default:"320,640,1280" help:"16:9 crop widths in pixels, comma-separated; 0 for none"`
	// CropDefault places a crop whose photo has no focal point: "smart"
	// (smartcrop-style detection) or "centre".
	CropDefault string `env:"CROP_DEFAULT" default:"smart" help:"crop placement without a focal point: smart or centre"`
	// PixelBudget bounds the working memory of the photos in hand at once,
	// in 4-byte pixels: each photo weighs what photo.WorkingBytes estimates
	// for it (decoded planes at the scale it is decoded at, buffers), and
	// waits until the budget has room. A photo larger than the whole budget
	// runs alone.
	PixelBudget int64 `env:"PIXEL_BUDGET" default:"64000000" help:"working memory of photos in flight, in 4-byte pixels"`
}

// maxJPEGSide is the largest width or height a JPEG can have.
const maxJPEGSide = 65535

// validate checks the settings and puts Widths and CropWidths in ascending
// order without repeats, which photo.Widths relies on.
func (c *Config) validate() error {
	var errs []error
	if len(c.Widths) == 0 {
		errs = append(errs, errors.New(envPrefix+"WIDTHS: at least one width is required"))
	}
	for _, w := range c.Widths {
		if w < 1 || w > maxJPEGSide {
			errs = append(errs, fmt.Errorf("%sWIDTHS: %d is not between 1 and %d", envPrefix, w, maxJPEGSide))
		}
	}
	slices.Sort(c.Widths)
	c.Widths = slices.Compact(c.Widths)
	if len(c.CropWidths) == 1 && c.CropWidths[0] == 0 {
		c.CropWidths = nil
	}
	for _, w := range c.CropWidths {
		if w < 1 || w > maxJPEGSide {
			errs = append(errs, fmt.Errorf("%sCROP_WIDTHS: %d is not between 1 and %d", envPrefix, w, maxJPEGSide))
		}
	}
	slices.Sort(c.CropWidths)
	c.CropWidths = slices.Compact(c.CropWidths)
	if c.CropDefault != "smart" && c.CropDefault != "centre" {
		errs = append(errs, fmt.Errorf("%sCROP_DEFAULT: %q is neither smart nor centre", envPrefix, c.CropDefault))
	}
	if c.PixelBudget < 1 {
		errs = append(errs, fmt.Errorf("%sPIXEL_BUDGET: %d must be positive", envPrefix, c.PixelBudget))
	}
	if c.MaxPixels < 1 {
		errs = append(errs, fmt.Errorf("%sMAX_PIXELS: %d must be positive", envPrefix, c.MaxPixels))
	}
	if c.MaxBytes < 1 {
		errs = append(errs, fmt.Errorf("%sMAX_BYTES: %d must be positive", envPrefix, c.MaxBytes))
	}
	if c.JPEGQuality < 1 || c.JPEGQuality > 100 {
		errs = append(errs, fmt.Errorf("%sJPEG_QUALITY: %d is not between 1 and 100", envPrefix, c.JPEGQuality))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%sSHUTDOWN_TIMEOUT: %s must be positive", envPrefix, c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// photoOptions are the rendition settings.
func (c *Config) photoOptions() photo.Options {
	o := photo.Options{
		Widths:      c.Widths,
		CropWidths:  c.CropWidths,
		JPEGQuality: c.JPEGQuality,
		MaxPixels:   c.MaxPixels,
		DefaultCrop: photo.CropSmart,
	}
	if c.CropDefault == "centre" {
		o.DefaultCrop = photo.CropCentre
	}
	return o
}
