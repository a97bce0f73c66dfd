// Command blocpress-dlq lists and replays the dead-letter stream: messages a
// consumer gave up on, with the reason.
//
//	blocpress-dlq [-nats URL] list
//	blocpress-dlq [-nats URL] replay SEQ…   # or "all"
//
// Replay republishes the message on its original subject (every consumer of
// that subject sees it again; consumers are idempotent) and removes it from
// the dead-letter stream.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/blocpress/blocpress/libs/bus"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "blocpress-dlq:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("blocpress-dlq", flag.ContinueOnError)
	url := fs.String("nats", "nats://127.0.0.1:4222", "NATS URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("usage: blocpress-dlq [-nats URL] list | replay SEQ… | replay all")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	b, err := bus.Connect(bus.Config{URL: *url, Name: "blocpress-dlq"})
	if err != nil {
		return err
	}
	defer b.Close(context.Background()) //nolint:errcheck
	dls, err := b.DeadLetters(ctx)
	if err != nil {
		return err
	}
	switch fs.Arg(0) {
	case "list":
		if len(dls) == 0 {
			fmt.Println("no dead letters")
		}
		for _, d := range dls {
			fmt.Printf("%d\t%s\t%s\t%s\n", d.Seq, d.Consumer, d.Subject, d.Reason)
		}
		return nil
	case "replay":
		want := map[uint64]bool{}
		all := fs.Arg(1) == "all"
		for _, a := range fs.Args()[1:] {
			if a == "all" {
				continue
			}
			n, err := strconv.ParseUint(a, 10, 64)
			if err != nil {
				return fmt.Errorf("not a sequence number: %q", a)
			}
			want[n] = true
		}
		for _, d := range dls {
			if all || want[d.Seq] {
				if err := b.Replay(ctx, d); err != nil {
					return err
				}
				fmt.Printf("replayed %d on %s\n", d.Seq, d.Subject)
			}
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", fs.Arg(0))
}
