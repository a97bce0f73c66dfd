// Command blocpress-local runs the whole platform on one machine (`make run`):
// NATS embedded, Redis and MinIO as local processes with their data under
// -data, every service as its own process, the demo tenants and the sample
// articles. Ctrl-C stops everything in order; a second run reuses the data.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/blocpress/blocpress/deploy/internal/client"
	"github.com/blocpress/blocpress/deploy/internal/demo"
	"github.com/blocpress/blocpress/deploy/internal/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "blocpress-local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("blocpress-local", flag.ContinueOnError)
	root := fs.String("root", ".", "repository root (holds deploy/demo and libs/testkit/testdata/photos)")
	dataDir := fs.String("data", "data", "data directory, reused across runs")
	binDir := fs.String("bin", "bin", "directory of minio and the service binaries")
	host := fs.String("host", "localhost", "host name in printed URLs")
	noDemo := fs.Bool("no-demo", false, "do not create demo tenants and articles")
	p := stack.DefaultPorts
	for _, f := range []struct {
		name string
		v    *int
	}{{"nats-port", &p.NATS}, {"minio-port", &p.MinIO}, {"redis-port", &p.Redis}, {"site-port", &p.Site},
		{"ingest-port", &p.Ingest}, {"view-counter-port", &p.ViewCounter}, {"image-resize-port", &p.ImageResize},
		{"moderation-port", &p.Moderation}, {"render-port", &p.Render}} {
		fs.IntVar(f.v, f.name, *f.v, "port of "+f.name[:len(f.name)-5]+" (0 picks a free one)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return err
	}
	credPath := filepath.Join(*dataDir, "credentials.json")
	creds, err := demo.LoadCredentials(credPath)
	if err != nil {
		return err
	}
	if err := creds.Save(credPath); err != nil {
		return err
	}

	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	s, err := stack.Start(startCtx, stack.Options{
		DataDir: *dataDir, BinDir: *binDir, Ports: p, PublicHost: *host, Log: os.Stdout,
		S3AccessKey: creds.S3AccessKey, S3SecretKey: creds.S3SecretKey, AdminToken: creds.AdminToken, ReaderSalt: creds.ReaderSalt, DeskSecret: creds.DeskSecret,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("stopping…")
		s.Stop()
		fmt.Println("stopped")
	}()

	var imported map[string][]string
	if !*noDemo {
		imported, err = demo.Setup(startCtx, s.URL("ingest"), creds, credPath,
			filepath.Join(*root, "deploy", "demo"), filepath.Join(*root, "libs", "testkit", "testdata", "photos"), os.Stdout)
		if err != nil {
			return fmt.Errorf("demo setup: %w", err)
		}
		for tenant, ids := range imported {
			c := client.New(s.URL("ingest"), creds.Tenants[tenant].Admin)
			for _, id := range ids {
				if _, err := c.WaitPublished(startCtx, tenant, id); err != nil {
					return fmt.Errorf("demo article: %w", err)
				}
			}
		}
	}

	fmt.Printf("\nblocpress is running.\n\n")
	tenants := make([]string, 0, len(creds.Tenants))
	for t := range creds.Tenants {
		tenants = append(tenants, t)
	}
	sort.Strings(tenants)
	for _, t := range tenants {
		fmt.Printf("  site %-10s %s/%s/   (also http://%s.localhost:%d/)\n", t, s.URL("site"), t, t, s.Ports().Site)
	}
	fmt.Printf("\n  ingest API      %s   (keys in %s)\n", s.URL("ingest"), credPath)
	fmt.Printf("  editor          %s/editor/   (sign in with a tenant's id and its editor key)\n", s.URL("ingest"))
	fmt.Printf("  review desk     %s/desk/   (sign in with a tenant's reviewer_key)\n", s.URL("moderation"))
	fmt.Printf("  view-counter    %s\n", s.URL("view-counter"))
	fmt.Printf("  NATS            %s\n\n", s.NATS.URL())
	if len(tenants) > 0 {
		t := tenants[0]
		fmt.Printf("Try:\n  curl -s -H 'Authorization: Bearer %s' --data-binary @libs/testkit/testdata/photos/photo2.jpg %s/v1/tenants/%s/media\n\n",
			creds.Tenants[t].Editor, s.URL("ingest"), t)
	}
	fmt.Println("Ctrl-C stops everything.")
	<-ctx.Done()
	return nil
}
