// Command render builds the static sites of blocpress. It consumes
// article.approved and article.unpublished, writes each article's page with
// html/template into S3 under site/<tenant>/, keeps the render-index KV bucket
// of published articles (its single writer), rebuilds every tenant's home and
// category pages from it, and announces article.published for the site,
// view-counter and ingest. Photos come from the manifests image-resize keeps in
// the media bucket; an article whose photos are not resized yet is retried.
//
// An approval with a future scheduled_at waits in the render-schedule KV
// bucket until a scheduler loop publishes it (schedule.go). Its internal port
// also serves the editors' preview of an article (preview.go). "Tin liên
// quan" is a scored choice by tags, category and recency (related.go); the
// side column's boxes are described on aside (pages.go).
//
// "render rebuild -tenant <id>" (or -all) rebuilds a tenant's whole site from
// the ARTICLES stream, with a progress bar; it is idempotent.
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
	var err error
	if len(os.Args) > 1 && os.Args[1] == "rebuild" {
		err = rebuildCommand(ctx, os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
	} else {
		err = run(ctx, os.Getenv, os.Stdout)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}
