// Command takedown publishes one article.unpublished event, the way an
// operator's tool would, so that make check-pages can look at a takedown
// page on the demo site: takedown -nats URL -tenant ID -article ID -reason "notice: …".
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "takedown:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("takedown", flag.ContinueOnError)
	natsURL := fs.String("nats", "nats://127.0.0.1:4222", "NATS URL")
	tid := fs.String("tenant", "", "tenant id")
	id := fs.String("article", "", "article id")
	rev := fs.Int64("revision", 0, "revision taken down (0: whichever is published)")
	reason := fs.String("reason", "notice: ", `"notice: text", "gone: text" or "redirect <target>: text"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tid == "" || *id == "" {
		return fmt.Errorf("give -tenant and -article")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := bus.Connect(bus.Config{URL: *natsURL, Name: "check-pages-takedown"})
	if err != nil {
		return err
	}
	defer b.Close(context.WithoutCancel(ctx)) //nolint:errcheck
	return b.Publish(ctx, &eventsv1.Envelope{
		Id:            fmt.Sprintf("%s.%s.%d.unpublished", *tid, *id, *rev),
		Type:          bus.TypeArticleUnpublished,
		Tenant:        *tid,
		CorrelationId: *id,
		Payload: &eventsv1.Envelope_ArticleUnpublished{ArticleUnpublished: &eventsv1.ArticleUnpublished{
			ArticleId: *id, Revision: *rev, Reason: *reason,
		}},
	})
}
