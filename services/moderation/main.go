// Command moderation decides whether a submitted article may be published.
// For each article.submitted event it checks the article against its
// tenant's configuration — a title, one of the tenant's categories, a body,
// a media id for every photo, and none of the tenant's blocked terms in any
// text a reader sees — and publishes article.approved carrying the whole
// article, or article.rejected with a short reason per finding. Tenants are
// watched in the "tenants" KV bucket, so a changed blocklist applies without
// a restart.
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
		fmt.Fprintln(os.Stderr, "moderation:", err)
		os.Exit(1)
	}
}
