// Package localstack starts the platform's real servers on loopback: NATS with
// JetStream embedded in the process, and MinIO and Redis as child processes.
// The local launcher (make run) and the test kit both use it.
package localstack

import (
	"context"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// FreePort returns a loopback port that is free now. It picks from
// 20000-32767, below Linux's ephemeral range (32768-60999), because a port
// the kernel handed out for ":0" is soon reused for some outgoing connection
// and a server started on it a moment later then fails with "address already
// in use".
func FreePort() (int, error) {
	for range 50 {
		port := 20000 + mathrand.IntN(12768)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			ln.Close()
			return port, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// NATS is an embedded nats-server with JetStream.
type NATS struct {
	opts *server.Options
	srv  *server.Server
}

// StartNATS starts NATS on 127.0.0.1:port (0 picks one) with JetStream stored
// in dir. The port is kept across Restart.
func StartNATS(dir string, port int) (*NATS, error) {
	return onFreePorts(port == 0, func() (*NATS, error) {
		p, err := portOr(port)
		if err != nil {
			return nil, err
		}
		return startNATS(dir, p)
	})
}

func startNATS(dir string, port int) (*NATS, error) {
	n := &NATS{opts: &server.Options{
		ServerName: "blocpress-local",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		NoLog:      true,
	}}
	return n, n.start()
}

func (n *NATS) start() error {
	srv, err := server.NewServer(n.opts)
	if err != nil {
		return fmt.Errorf("configuring nats: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("nats did not become ready on port %d", n.opts.Port)
	}
	n.srv = srv
	return nil
}

// URL is the client URL.
func (n *NATS) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.opts.Port) }

// Port is the client port.
func (n *NATS) Port() int { return n.opts.Port }

// Stop shuts the server down and waits for it.
func (n *NATS) Stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

// Restart stops and starts the server on the same port and store.
func (n *NATS) Restart() error {
	n.Stop()
	return n.start()
}

// Process is a server started as a child process.
type Process struct {
	Name string
	Addr string // host:port
	bin  string
	args []string
	env  []string
	log  io.Writer
	cmd  *exec.Cmd
	wait chan error
	ping func(ctx context.Context) error
}

// ProcessSpec describes a child process and how to tell it is ready.
type ProcessSpec struct {
	Name string
	// Addr is the host:port it serves, for callers.
	Addr string
	Bin  string
	Args []string
	// Env is the full environment; nil inherits the parent's.
	Env []string
	// Log receives stdout and stderr; discarded when nil.
	Log io.Writer
	// Ready returns nil once the process serves.
	Ready func(ctx context.Context) error
}

// NewProcess prepares a process; Start runs it.
func NewProcess(s ProcessSpec) *Process {
	return &Process{Name: s.Name, Addr: s.Addr, bin: s.Bin, args: s.Args, env: s.Env, log: s.Log, ping: s.Ready}
}

// HTTPReady is a readiness check that wants 200 from url.
func HTTPReady(url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	}
}

// FindBinary looks for name on PATH, then in extraDirs.
func FindBinary(name string, extraDirs ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range extraDirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in %v: run `make deps` to install it", name, extraDirs)
}

// MinIOOptions configure StartMinIO.
type MinIOOptions struct {
	Binary    string // path to the minio binary
	Dir       string // data directory
	Port      int    // 0 picks one
	AccessKey string
	SecretKey string
	Log       io.Writer // server output; discarded when nil
}

// StartMinIO starts `minio server` and waits until it answers its health check.
func StartMinIO(ctx context.Context, o MinIOOptions) (*Process, error) {
	return onFreePorts(o.Port == 0, func() (*Process, error) {
		port, err := portOr(o.Port)
		if err != nil {
			return nil, err
		}
		console, err := FreePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p := &Process{
			Name: "minio", Addr: addr, bin: o.Binary, log: o.Log,
			args: []string{"server", o.Dir, "--address", addr, "--console-address", "127.0.0.1:" + strconv.Itoa(console), "--quiet"},
			env: append(os.Environ(), "MINIO_ROOT_USER="+o.AccessKey, "MINIO_ROOT_PASSWORD="+o.SecretKey,
				"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1"),
		}
		p.ping = HTTPReady("http://" + addr + "/minio/health/live")
		return p, p.Start(ctx)
	})
}

// onFreePorts runs start, and when the ports were picked here (not given by
// the caller) and it fails — most likely because another process took a
// picked port between the check and the bind — tries twice more with new ones.
func onFreePorts[T any](picked bool, start func() (T, error)) (T, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var v T
		if v, err = start(); err == nil || !picked {
			return v, err
		}
	}
	var zero T
	return zero, err
}

// RedisOptions configure StartRedis.
type RedisOptions struct {
	Binary string
	Dir    string
	Port   int
	// AppendOnly keeps counts across a restart of the process.
	AppendOnly bool
	Log        io.Writer
}

// StartRedis starts `redis-server` and waits until it answers PING.
func StartRedis(ctx context.Context, o RedisOptions) (*Process, error) {
	return onFreePorts(o.Port == 0, func() (*Process, error) {
		port, err := portOr(o.Port)
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		aof := "no"
		if o.AppendOnly {
			aof = "yes"
		}
		p := &Process{
			Name: "redis", Addr: addr, bin: o.Binary, log: o.Log, env: os.Environ(),
			args: []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", o.Dir,
				"--save", "", "--appendonly", aof, "--protected-mode", "no", "--daemonize", "no"},
		}
		p.ping = func(ctx context.Context) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Second))
			if _, err := c.Write([]byte("PING\r\n")); err != nil {
				return err
			}
			buf := make([]byte, 7)
			if _, err := io.ReadFull(c, buf); err != nil {
				return err
			}
			if string(buf) != "+PONG\r\n" {
				return fmt.Errorf("redis answered %q", buf)
			}
			return nil
		}
		return p, p.Start(ctx)
	})
}

func portOr(p int) (int, error) {
	if p != 0 {
		return p, nil
	}
	return FreePort()
}

// Start (re)starts the process and waits until it is ready, bounded by ctx.
func (p *Process) Start(ctx context.Context) error {
	if p.cmd != nil {
		return fmt.Errorf("%s is already running", p.Name)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	if p.log != nil {
		cmd.Stdout, cmd.Stderr = p.log, p.log
	}
	// Its own process group, so a Ctrl-C to the launcher reaches it only
	// through Stop, in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	p.cmd = cmd
	p.wait = make(chan error, 1)
	go func() { p.wait <- cmd.Wait() }()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := p.ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-p.wait:
			p.wait <- werr
			return fmt.Errorf("%s exited while starting: %v", p.Name, werr)
		case <-ctx.Done():
			p.Stop()
			return fmt.Errorf("%s not ready at %s: %w", p.Name, p.Addr, ctx.Err())
		case <-deadline.C:
			p.Stop()
			return fmt.Errorf("%s not ready at %s after 60s: %v", p.Name, p.Addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Running reports whether the process was started and not stopped.
func (p *Process) Running() bool { return p.cmd != nil }

// Stop sends SIGTERM, waits up to 30s (a service drains in at most its
// shutdown timeout), then kills.
func (p *Process) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.wait:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.wait
	}
	p.cmd = nil
}

// Kill stops the process at once, as a crash would.
func (p *Process) Kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.wait
	p.cmd = nil
}
