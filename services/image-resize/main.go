// Command image-resize makes the renditions of every uploaded photo. For each
// media.uploaded event it reads the original from S3, decides its type from
// the bytes and refuses what is too large (in bytes, or in pixels as its
// header declares them, every frame of an animation counted) before
// decoding anything; waits for room in its memory budget; decodes the photo
// once (a JPEG at a reduced DCT scale when the largest rendition needs far
// fewer pixels), applies the EXIF orientation and derives each width from
// the next larger one, 16:9 crops around a focal point, a dominant colour and
// a placeholder (internal/photo). Renditions carry no metadata of the
// original. It stores them under media/<tenant>/<media>/, with
// manifest.json beside them, records the photo's manifest in the "media" KV
// bucket and publishes media.resized — or, for a photo that cannot be used,
// media.failed with a reason for the editor, after one try.
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
