// Command site serves the published sites to readers: the pages render wrote
// to S3 under site/<tenant>/ and the photo renditions image-resize wrote under
// media/<tenant>/, at /<tenant>/… and, on a tenant's own host names, at the
// same paths without the prefix. It adds what static storage cannot: validation
// of every path before it reaches S3, conditional requests (ETag,
// Last-Modified), cache headers, gzip, and Vietnamese error pages.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "site:", err)
		os.Exit(1)
	}
}
