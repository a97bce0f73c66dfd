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
	switch {
	case len(os.Args) > 1 && os.Args[1] == "rebuild":
		err = runRebuild(ctx, os.Args[2:], os.Getenv, os.Stdout)
	case len(os.Args) > 1:
		err = fmt.Errorf("unknown command %q; the commands are: (none) to serve, rebuild", os.Args[1])
	default:
		err = run(ctx, os.Getenv, os.Stdout)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "view-counter:", err)
		os.Exit(1)
	}
}
