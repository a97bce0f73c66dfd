// Package stack starts the whole platform on one machine: NATS embedded in
// this process, MinIO and Redis as child processes with their data under one
// directory, and every service as its own process with its output prefixed.
// `make run` (cmd/blocpress-local) and the end-to-end tests use it.
package stack

import (
	"context"

	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/blocpress/blocpress/libs/localstack"
)

// Services in start order: consumers before the HTTP front doors, and site
// and view-counter before render, whose pages link to them.
var Services = []string{"image-resize", "moderation", "view-counter", "site", "render", "ingest"}

// Ports of every server; 0 picks a free one.
type Ports struct {
	NATS, MinIO, Redis              int
	Site, Ingest, ViewCounter       int
	ImageResize, Moderation, Render int
}

// DefaultPorts are those `make run` uses unless overridden. Redis is not on
// 6379 so that a system Redis does not collide with it.
var DefaultPorts = Ports{NATS: 4222, MinIO: 9000, Redis: 6390, Site: 8080, Ingest: 8081, ViewCounter: 8083,
	ImageResize: 8084, Moderation: 8085, Render: 8086}

// Options configure Start.
type Options struct {
	// DataDir holds nats/, minio/, redis/ and credentials.json; reused across runs.
	DataDir string
	// BinDir holds minio and the service binaries built by `make build`.
	BinDir string
	Ports  Ports
	// PublicHost is the host name in printed and published URLs.
	PublicHost string
	// Log receives every server's output, each line prefixed with its name.
	Log io.Writer
	// S3 credentials for the local MinIO.
	S3AccessKey, S3SecretKey string
	// AdminToken is ingest's operator token.
	AdminToken string
	// ReaderSalt is view-counter's secret for hashing readers; stable across
	// runs so a reader is the same reader after a restart.
	ReaderSalt string
	// DeskSecret signs the review desk's session cookies (32+ characters).
	DeskSecret string
}

// Stack is a running platform.
type Stack struct {
	opts     Options
	NATS     *localstack.NATS
	MinIO    *localstack.Process
	Redis    *localstack.Process
	services map[string]*localstack.Process
	ports    Ports
	mu       sync.Mutex
}

// Start brings everything up and waits until every service is ready. On
// error, whatever was started is stopped.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.PublicHost == "" {
		o.PublicHost = "localhost"
	}
	s := &Stack{opts: o, services: map[string]*localstack.Process{}}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if s.ports, err = resolvePorts(o.Ports); err != nil {
		return nil, err
	}
	for _, d := range []string{"nats", "minio", "redis"} {
		if err := os.MkdirAll(filepath.Join(o.DataDir, d), 0o755); err != nil {
			return nil, fmt.Errorf("creating data dir: %w", err)
		}
	}

	if s.NATS, err = localstack.StartNATS(filepath.Join(o.DataDir, "nats"), s.ports.NATS); err != nil {
		return nil, fmt.Errorf("starting nats: %w", err)
	}
	fmt.Fprintf(prefixed(o.Log, "nats"), "JetStream listening on %s, data in %s\n", s.NATS.URL(), filepath.Join(o.DataDir, "nats"))

	minioBin, err := localstack.FindBinary("minio", o.BinDir)
	if err != nil {
		return nil, err
	}
	if s.MinIO, err = localstack.StartMinIO(ctx, localstack.MinIOOptions{
		Binary: minioBin, Dir: filepath.Join(o.DataDir, "minio"), Port: s.ports.MinIO,
		AccessKey: o.S3AccessKey, SecretKey: o.S3SecretKey, Log: prefixed(o.Log, "minio"),
	}); err != nil {
		return nil, err
	}
	redisBin, err := localstack.FindBinary("redis-server", o.BinDir)
	if err != nil {
		return nil, err
	}
	if s.Redis, err = localstack.StartRedis(ctx, localstack.RedisOptions{
		Binary: redisBin, Dir: filepath.Join(o.DataDir, "redis"), Port: s.ports.Redis, AppendOnly: true,
		Log: prefixed(o.Log, "redis"),
	}); err != nil {
		return nil, err
	}

	for _, name := range Services {
		if err := s.startService(ctx, name, *portField(&o.Ports, name) == 0); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// startService starts one service; when its port was picked here, a failed
// start (the port taken meanwhile by another process) is retried on another.
func (s *Stack) startService(ctx context.Context, name string, picked bool) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var p *localstack.Process
		if p, err = s.newService(name); err != nil {
			return err
		}
		if err = p.Start(ctx); err == nil {
			s.services[name] = p
			return nil
		}
		if !picked {
			break
		}
		free, ferr := localstack.FreePort()
		if ferr != nil {
			return ferr
		}
		*portField(&s.ports, name) = free
	}
	return fmt.Errorf("starting %s: %w", name, err)
}

func resolvePorts(p Ports) (Ports, error) {
	for _, f := range []*int{&p.NATS, &p.MinIO, &p.Redis, &p.Site, &p.Ingest, &p.ViewCounter,
		&p.ImageResize, &p.Moderation, &p.Render} {
		if *f == 0 {
			free, err := localstack.FreePort()
			if err != nil {
				return p, err
			}
			*f = free
		}
	}
	return p, nil
}

// Ports returns the ports in use.
func (s *Stack) Ports() Ports { return s.ports }

// URL of a public HTTP service: "site", "ingest" or "view-counter".
func (s *Stack) URL(service string) string {
	return fmt.Sprintf("http://%s:%d", s.opts.PublicHost, s.httpPort(service))
}

func (s *Stack) httpPort(name string) int { return *portField(&s.ports, name) }

// portField points at a service's HTTP port in p.
func portField(p *Ports, name string) *int {
	return map[string]*int{
		"site": &p.Site, "ingest": &p.Ingest, "view-counter": &p.ViewCounter,
		"image-resize": &p.ImageResize, "moderation": &p.Moderation, "render": &p.Render,
	}[name]
}

func (s *Stack) newService(name string) (*localstack.Process, error) {
	bin := filepath.Join(s.opts.BinDir, name)
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("service binary %s missing: run `make build`", bin)
	}
	port := s.httpPort(name)
	prefix := map[string]string{
		"site": "SITE_", "ingest": "INGEST_", "view-counter": "VIEW_COUNTER_",
		"image-resize": "IMAGE_RESIZE_", "moderation": "MODERATION_", "render": "RENDER_",
	}[name]
	env := append(os.Environ(),
		"NATS_URL="+s.NATS.URL(),
		"S3_ENDPOINT="+s.MinIO.Addr,
		"S3_ACCESS_KEY="+s.opts.S3AccessKey,
		"S3_SECRET_KEY="+s.opts.S3SecretKey,
		"S3_BUCKET=blocpress",
		prefix+"HTTP_ADDR=127.0.0.1:"+strconv.Itoa(port),
	)
	switch name {
	case "ingest":
		env = append(env, "INGEST_ADMIN_TOKEN="+s.opts.AdminToken, "INGEST_PUBLIC_URL="+s.URL("ingest"))
		// The editor web app (/editor/): previews from render, photos from
		// the site, and sign-ins that survive a restart. Sharing the desk's
		// secret is safe: each app derives its own cookie key from it.
		env = append(env, "INGEST_RENDER_URL="+s.URL("render"), "INGEST_SITE_URL="+s.URL("site"),
			"INGEST_SESSION_SECRET="+s.opts.DeskSecret)
	case "moderation":
		// The review desk's sessions survive a restart of the local stack.
		env = append(env, "MODERATION_SITE_URL="+s.URL("site"), "MODERATION_SESSION_SECRET="+s.opts.DeskSecret)
	case "render":
		env = append(env, "RENDER_SITE_URL="+s.URL("site"), "RENDER_VIEWS_URL="+s.URL("view-counter"))
	case "view-counter":
		env = append(env, "VIEW_COUNTER_REDIS_ADDR="+s.Redis.Addr, "VIEW_COUNTER_SITE_ORIGINS="+s.URL("site"),
			"VIEW_COUNTER_READER_SALT="+s.opts.ReaderSalt)
	}
	return localstack.NewProcess(localstack.ProcessSpec{
		Name: name, Addr: "127.0.0.1:" + strconv.Itoa(port), Bin: bin, Env: env,
		Log:   prefixed(s.opts.Log, name),
		Ready: localstack.HTTPReady(fmt.Sprintf("http://127.0.0.1:%d/readyz", port)),
	}), nil
}

// Service returns a service's process, to stop, kill or restart it in tests.
func (s *Stack) Service(name string) *localstack.Process { return s.services[name] }

// Stop stops the services in reverse order, then Redis, MinIO and NATS.
func (s *Stack) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var wg sync.WaitGroup
	for i := len(Services) - 1; i >= 0; i-- {
		if p := s.services[Services[i]]; p != nil {
			// Front doors first, then consumers together.
			if Services[i] == "ingest" || Services[i] == "site" {
				p.Stop()
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); p.Stop() }()
		}
	}
	wg.Wait()
	if s.Redis != nil {
		s.Redis.Stop()
	}
	if s.MinIO != nil {
		s.MinIO.Stop()
	}
	if s.NATS != nil {
		s.NATS.Stop()
	}
}
