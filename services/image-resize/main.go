// Command image-resize makes the renditions of every uploaded photo. For each
// media.uploaded event it reads the original from S3, refuses what is too
// large (in bytes, or in pixels as read from the header, before decoding),
// applies the EXIF orientation, writes JPEG renditions without any metadata
// to media/<tenant>/<media>/<width>.jpg, records the photo's manifest in the
// "media" KV bucket and publishes media.resized — or, for a photo that cannot
// be used, media.failed with a reason for the editor.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "image-resize:", err)
		os.Exit(1)
	}
}
