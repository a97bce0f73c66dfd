package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/blocpress/blocpress/libs/config"
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
}

// maxJPEGSide is the largest width or height a JPEG can have.
const maxJPEGSide = 65535

// validate checks the settings and puts Widths in ascending order without
// repeats, which renditionWidths relies on.
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
