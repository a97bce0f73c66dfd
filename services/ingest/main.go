// Command ingest is the editors' entry point to blocpress: the admin API that
// creates tenants and API keys, the tenant API that takes photos and articles,
// validates them, stores originals and revision documents in S3 and announces
// them on the bus (media.uploaded, article.submitted), and the status of every
// article, kept current by consuming what moderation and render say about it.
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
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}
