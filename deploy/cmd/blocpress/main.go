// Command blocpress is the operators' command line for a running platform.
// It talks to the services' public HTTP APIs only, as any client would.
//
//	blocpress import --ingest URL --tenant T --key ADMIN_KEY [flags] FILE|DIR…
//
// import turns text dumps of legacy article pages into articles (see
// `blocpress import -h` and deploy/internal/legacy).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `blocpress: the operators' command line for a blocpress platform.

Usage:
  blocpress import --ingest URL --tenant T --key ADMIN_KEY [flags] FILE|DIR…
      Import text dumps of legacy article pages through ingest's API.
      "blocpress import -h" lists the flags.
`

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "import":
		return runImport(ctx, args[1:], stdout, stderr, isTerminal(stderr))
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "blocpress: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// isTerminal reports whether w is a character device (a terminal), where a
// redrawn progress bar makes sense; in CI and pipes plain lines are written.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
