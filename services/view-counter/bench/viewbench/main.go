// Command viewbench is `make bench-views` (see ../run.sh): on one machine it
// starts NATS (embedded), Redis and one view-counter on loopback, posts
// beacons with wrk, has redis-benchmark INCR the same Redis with the same
// number of connections and no pipelining, measures how long a beacon takes
// to show in the counts at half the load, and prints the comparison.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/localstack"
	"github.com/blocpress/blocpress/libs/tenant"
)

type options struct {
	viewCounter string
	script      string
	binDir      string
	connections int
	threads     int
	duration    time.Duration
	incr        int
	probeEvery  time.Duration
	keep        bool
	profile     string
	rounds      int
	env         []string
}

func main() {
	var o options
	flag.StringVar(&o.viewCounter, "view-counter", "", "view-counter binary (required)")
	flag.StringVar(&o.script, "script", "services/view-counter/bench/beacons.lua", "wrk script posting beacons")
	flag.StringVar(&o.binDir, "bin", "bin", "where `make deps` installs tools (redis-server is looked for there after PATH)")
	flag.IntVar(&o.connections, "connections", 50, "connections of wrk and of redis-benchmark")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "length of the full-load and half-load runs")
	flag.IntVar(&o.incr, "incr-requests", 1_000_000, "INCRs redis-benchmark sends")
	flag.DurationVar(&o.probeEvery, "probe-every", 40*time.Millisecond, "interval between count-lag probes at half load")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs)")
	flag.IntVar(&o.rounds, "rounds", 3, "full-load wrk runs, each followed by a redis-benchmark run of about as long; the ratio is their median")
	flag.StringVar(&o.profile, "profile", "", "write view-counter's CPU and allocation profiles of the full-load run into this directory")
	flag.Func("env", "extra NAME=VALUE for view-counter (repeatable), e.g. -env VIEW_COUNTER_PUBLISHERS=1", func(v string) error {
		if !strings.Contains(v, "=") {
			return errors.New("want NAME=VALUE")
		}
		o.env = append(o.env, v)
		return nil
	})
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "viewbench:", err)
		os.Exit(1)
	}
}

const tenantID = "bench"

// stack is what the benchmark runs against.
type stack struct {
	dir   string
	pprof string // view-counter's pprof address, when profiling
	nats  *localstack.NATS
	redis *localstack.Process
	vc    *localstack.Process
	rdb   *redis.Client
	bus   *bus.Bus
	base  string
}

func (s *stack) stop() {
	if s.vc != nil {
		s.vc.Stop()
	}
	if s.bus != nil {
		_ = s.bus.Close(context.Background())
	}
	if s.rdb != nil {
		_ = s.rdb.Close()
	}
	if s.redis != nil {
		s.redis.Stop()
	}
	if s.nats != nil {
		s.nats.Stop()
	}
}

func start(ctx context.Context, o options) (*stack, error) {
	dir, err := os.MkdirTemp("", "viewbench-")
	if err != nil {
		return nil, err
	}
	s := &stack{dir: dir}
	if s.nats, err = localstack.StartNATS(filepath.Join(dir, "nats"), 0); err != nil {
		return s, err
	}
	redisBin, err := localstack.FindBinary("redis-server", o.binDir)
	if err != nil {
		return s, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "redis"), 0o755); err != nil {
		return s, err
	}
	if s.redis, err = localstack.StartRedis(ctx, localstack.RedisOptions{Binary: redisBin, Dir: filepath.Join(dir, "redis")}); err != nil {
		return s, err
	}
	s.rdb = redis.NewClient(&redis.Options{Addr: s.redis.Addr})
	if s.bus, err = bus.Connect(bus.Config{URL: s.nats.URL(), Name: "viewbench"}); err != nil {
		return s, err
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.bus.Declare(dctx); err != nil {
		return s, err
	}
	kv, err := s.bus.KV(dctx, bus.BucketTenants)
	if err != nil {
		return s, err
	}
	// The benchmark stands in for ingest, the tenants bucket's writer.
	if err := tenant.NewStore(kv).Put(dctx, &tenant.Tenant{ID: tenantID, Name: "Benchmark", Hosts: []string{tenantID + ".localhost"},
		Categories: []tenant.Category{{Slug: "tin-tuc", Name: "Tin tức"}}}); err != nil {
		return s, err
	}
	port, err := localstack.FreePort()
	if err != nil {
		return s, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logFile, err := os.Create(filepath.Join(dir, "view-counter.log"))
	if err != nil {
		return s, err
	}
	s.base = "http://" + addr
	env := append(os.Environ(),
		"NATS_URL="+s.nats.URL(),
		"VIEW_COUNTER_HTTP_ADDR="+addr,
		"VIEW_COUNTER_REDIS_ADDR="+s.redis.Addr,
		"VIEW_COUNTER_READER_SALT=viewbench",
		"VIEW_COUNTER_TRUSTED_PROXIES=127.0.0.1/32", // wrk's X-Forwarded-For gives each reader its address
		"VIEW_COUNTER_LOG_LEVEL=warn",
	)
	if o.profile != "" {
		pport, err := localstack.FreePort()
		if err != nil {
			return s, err
		}
		s.pprof = "127.0.0.1:" + strconv.Itoa(pport)
		env = append(env, "VIEW_COUNTER_PPROF_ADDR="+s.pprof)
	}
	env = append(env, o.env...)
	s.vc = localstack.NewProcess(localstack.ProcessSpec{
		Name: "view-counter", Addr: addr, Bin: o.viewCounter, Log: logFile, Env: env,
		Ready: localstack.HTTPReady(s.base + "/readyz"),
	})
	return s, s.vc.Start(ctx)
}

func run(ctx context.Context, o options) error {
	if o.viewCounter == "" {
		return errors.New("-view-counter is required")
	}
	if o.rounds < 1 {
		return errors.New("-rounds must be at least 1")
	}
	load, _ := os.ReadFile("/proc/loadavg")
	s, err := start(ctx, o)
	defer func() {
		if s != nil {
			s.stop()
			if o.keep {
				fmt.Println("logs kept in", s.dir)
			} else {
				_ = os.RemoveAll(s.dir)
			}
		}
	}()
	if err != nil {
		return err
	}
	wrkVersion := "wrk"
	out, _ := exec.Command("wrk", "-v").CombinedOutput() // prints its version, exits 1
	if f := strings.Fields(string(out)); len(f) >= 2 && f[0] == "wrk" {
		wrkVersion = f[0] + " " + f[1]
	}
	fmt.Printf("view-counter beacons against Redis INCR on one machine: %d CPUs, load %s before\n", runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Printf("  %s, %d threads, %d connections, %s per run; redis-benchmark -t incr -c %d (1 thread), no pipelining, %d requests then about %s per round\n",
		wrkVersion, o.threads, o.connections, o.duration, o.connections, o.incr, o.duration)
	fmt.Printf("  nothing is pinned to a CPU: each side (load generator, server(s)) shares all %d CPUs with the other and with the rest of the machine\n\n", runtime.NumCPU())

	url := s.base + "/"
	if _, err := runWrk(ctx, o, url, 3*time.Second, 0); err != nil { // warm-up: JIT of nothing, but TCP, caches, GC heap
		return err
	}
	if _, err := s.waitFolded(ctx); err != nil {
		return err
	}

	// Full load.
	cpu0, err := s.cpu(ctx)
	if err != nil {
		return err
	}
	var profWG sync.WaitGroup
	var profErr error
	if s.pprof != "" {
		if profErr = s.fetchProfile(ctx, "allocs", filepath.Join(o.profile, "allocs-before.pb.gz")); profErr != nil {
			return profErr
		}
		profWG.Go(func() {
			time.Sleep(time.Second)
			secs := max(1, int(o.duration.Seconds())-2)
			profErr = s.fetchProfile(ctx, "profile?seconds="+strconv.Itoa(secs), filepath.Join(o.profile, "cpu.pb.gz"))
		})
	}
	full, err := runWrk(ctx, o, url, o.duration, 0)
	if err != nil {
		return err
	}
	profWG.Wait()
	if s.pprof != "" {
		if profErr == nil {
			profErr = s.fetchProfile(ctx, "allocs", filepath.Join(o.profile, "allocs.pb.gz"))
		}
		if profErr != nil {
			return profErr
		}
	}
	cpu1, err := s.cpu(ctx)
	if err != nil {
		return err
	}
	caughtUp, err := s.waitFolded(ctx)
	if err != nil {
		return err
	}
	vm, err := s.metrics(ctx)
	if err != nil {
		return err
	}
	stored, err := s.streamBytes(ctx)
	if err != nil {
		return err
	}

	// Redis alone.
	cpu2, err := s.cpu(ctx)
	if err != nil {
		return err
	}
	incr, err := runRedisBenchmark(ctx, s.redis.Addr, o)
	if err != nil {
		return err
	}
	cpu3, err := s.cpu(ctx)
	if err != nil {
		return err
	}

	// More rounds, each a beacon run and right after it an INCR run of
	// about the same length: on a shared machine the load of others drifts,
	// and a ratio of runs close in time, taken as the median, drifts less.
	ratios := []float64{full.rps / incr.rps}
	rounds := []string{fmt.Sprintf("%.0f/%.0f", full.rps, incr.rps)}
	for range o.rounds - 1 {
		w, err := runWrk(ctx, o, url, o.duration, 0)
		if err != nil {
			return err
		}
		if _, err := s.waitFolded(ctx); err != nil {
			return err
		}
		ro := o
		ro.incr = max(100_000, int(incr.rps*o.duration.Seconds()))
		in, err := runRedisBenchmark(ctx, s.redis.Addr, ro)
		if err != nil {
			return err
		}
		ratios = append(ratios, w.rps/in.rps)
		rounds = append(rounds, fmt.Sprintf("%.0f/%.0f", w.rps, in.rps))
	}

	// Half load, with probes. wrk paces each connection by a delay between
	// a response and the next request, so a short run first measures what
	// a delay gives, and the delay is corrected for the time requests take.
	target := full.rps / 2
	interval := float64(o.connections) * 1000 / target
	for range 2 {
		cal, err := runWrk(ctx, o, url, 2*time.Second, interval)
		if err != nil || cal.rps <= 0 {
			break
		}
		perRequest := float64(o.connections)*1000/cal.rps - interval // ms a request itself takes
		interval = max(0.05, float64(o.connections)*1000/target-max(0, perRequest))
	}
	var probes []time.Duration
	var probeErr error
	var wg sync.WaitGroup
	pctx, cancelProbes := context.WithCancel(ctx)
	wg.Go(func() { probes, probeErr = probeLag(pctx, s.base, o.probeEvery) })
	time.Sleep(time.Second) // probes start once the load is steady
	half, err := runWrk(ctx, o, url, o.duration, interval)
	cancelProbes()
	wg.Wait()
	if err != nil {
		return err
	}
	if probeErr != nil {
		return probeErr
	}
	slices.Sort(probes)

	pct := func(d float64) string { return fmt.Sprintf("%.0f%%", 100*d/full.elapsed.Seconds()) }
	ratio := median(ratios)
	fmt.Printf("  full load   beacons/s       %9.0f   (%d beacons in %s: %d answered 204, %d other, %d socket errors)\n",
		full.rps, full.requests, full.elapsed.Round(10*time.Millisecond), full.requests-full.non2xx, full.non2xx, full.socketErrors)
	fmt.Printf("              beacon latency  p50 %s  p99 %s  max %s\n", ms(full.p50), ms(full.p99), ms(full.max))
	fmt.Printf("              CPU, of %d%%     view-counter %s  redis %s  nats (+this program) %s  wrk %s\n", 100*runtime.NumCPU(),
		pct(cpu1.viewCounter-cpu0.viewCounter), pct(cpu1.redis-cpu0.redis), pct(cpu1.self-cpu0.self), pct(cpu1.children-cpu0.children))
	fmt.Printf("              JetStream       %.0f messages of %.0f views on average, %.2f ms from publish to ack on average\n",
		vm["view_counter_published_batch_views_count"], vm["view_counter_published_batch_views_sum"]/math.Max(1, vm["view_counter_published_batch_views_count"]),
		1000*vm["view_counter_publish_seconds_sum"]/math.Max(1, vm["view_counter_publish_seconds_count"]))
	fmt.Printf("              counted         %.0f views + %.0f repeats = %.0f of %.0f accepted; counts caught up %s after the last beacon\n",
		vm["view_counter_views_counted_total"], vm["view_counter_views_repeated_total"],
		vm["view_counter_views_counted_total"]+vm["view_counter_views_repeated_total"], vm[`view_counter_beacons_total{outcome="accepted"}`], caughtUp.Round(10*time.Millisecond))
	fmt.Printf("              VIEWS stream    %.0f bytes a view stored\n", float64(stored)/math.Max(1, vm[`view_counter_beacons_total{outcome="accepted"}`]))
	fmt.Printf("  redis INCR  INCR/s          %9.0f   (p50 %s)\n", incr.rps, incr.p50)
	fmt.Printf("              CPU, of %d%%     redis %.0f%%  redis-benchmark %.0f%%   (%.0f INCRs in %s)\n", 100*runtime.NumCPU(),
		100*(cpu3.redis-cpu2.redis)/incr.elapsed.Seconds(), 100*(cpu3.children-cpu2.children)/incr.elapsed.Seconds(), float64(o.incr), incr.elapsed.Round(10*time.Millisecond))
	perRound := make([]string, len(ratios))
	for i, r := range ratios {
		perRound[i] = fmt.Sprintf("%.2f (%s)", r, rounds[i])
	}
	fmt.Printf("  ratio       beacons/s ÷ INCR/s = %.2f, the median of %d rounds: %s\n", ratio, len(ratios), strings.Join(perRound, ", "))
	fmt.Printf("  half load   beacons/s       %9.0f   (target %.0f): beacon p99 %s\n", half.rps, target, ms(half.p99))
	if len(probes) > 0 {
		fmt.Printf("              count lag       p50 %s  p99 %s  max %s   (%d probes: beacon sent → count read back, polled every 2 ms)\n",
			ms(quantile(probes, .5)), ms(quantile(probes, .99)), ms(probes[len(probes)-1]), len(probes))
	}
	fmt.Printf("  goals       ratio ≥ 1.0: %s   beacon p99 < 10 ms: %s   count lag p99 < 2 s at half load: %s\n",
		yes(ratio >= 1), yes(full.p99 < 10*time.Millisecond), yes(len(probes) > 0 && quantile(probes, .99) < 2*time.Second))
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// wrkResult is what wrk printed.
type wrkResult struct {
	rps              float64
	requests, non2xx int64
	socketErrors     int64
	elapsed          time.Duration
	p50, p99, max    time.Duration
	raw              string
}

var (
	reRPS      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reRequests = regexp.MustCompile(`(\d+) requests in ([\d.]+\w+),`)
	reNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	reLatency  = regexp.MustCompile(`(?m)^\s+Latency\s+\S+\s+\S+\s+(\S+)`)
	rePct      = regexp.MustCompile(`(?m)^\s+(50|99)%\s+(\S+)`)
)

// runWrk posts beacons for d; interval > 0 paces each connection.
func runWrk(ctx context.Context, o options, url string, d time.Duration, interval float64) (wrkResult, error) {
	args := []string{"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.connections), "-d", fmt.Sprintf("%ds", int(d.Seconds())),
		"--latency", "--timeout", "5s", "-s", o.script, url, "--", tenantID}
	if interval > 0 {
		args = append(args, strconv.FormatFloat(interval, 'f', 3, 64))
	}
	out, err := exec.CommandContext(ctx, "wrk", args...).CombinedOutput()
	r := wrkResult{raw: string(out)}
	if err != nil {
		return r, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	m := reRPS.FindStringSubmatch(r.raw)
	if m == nil {
		return r, fmt.Errorf("wrk printed no Requests/sec:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := reRequests.FindStringSubmatch(r.raw); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
		r.elapsed = wrkDuration(m[2])
	}
	if m := reNon2xx.FindStringSubmatch(r.raw); m != nil {
		r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reSocket.FindStringSubmatch(r.raw); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.socketErrors += n
		}
	}
	if m := reLatency.FindStringSubmatch(r.raw); m != nil {
		r.max = wrkDuration(m[1])
	}
	for _, m := range rePct.FindAllStringSubmatch(r.raw, -1) {
		switch m[1] {
		case "50":
			r.p50 = wrkDuration(m[2])
		case "99":
			r.p99 = wrkDuration(m[2])
		}
	}
	return r, nil
}

// wrkDuration reads wrk's "812.00us", "4.21ms", "1.02s", "2.00m".
func wrkDuration(s string) time.Duration {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return time.Duration(f * float64(u.unit))
			}
		}
	}
	return 0
}

type incrResult struct {
	rps     float64
	p50     string
	elapsed time.Duration
}

var reIncr = regexp.MustCompile(`INCR: ([\d.]+) requests per second(?:, p50=([\d.]+ \w+))?`)

func runRedisBenchmark(ctx context.Context, addr string, o options) (incrResult, error) {
	host, port, _ := strings.Cut(addr, ":")
	start := time.Now()
	out, err := exec.CommandContext(ctx, "redis-benchmark", "-h", host, "-p", port, "-t", "incr",
		"-c", strconv.Itoa(o.connections), "-n", strconv.Itoa(o.incr), "-P", "1", "-q").CombinedOutput()
	if err != nil {
		return incrResult{}, fmt.Errorf("redis-benchmark: %w\n%s", err, out)
	}
	all := reIncr.FindAllStringSubmatch(string(out), -1)
	if all == nil {
		return incrResult{}, fmt.Errorf("redis-benchmark printed no INCR rate:\n%s", out)
	}
	last := all[len(all)-1]
	rps, _ := strconv.ParseFloat(last[1], 64)
	return incrResult{rps: rps, p50: last[2], elapsed: time.Since(start)}, nil
}

// waitFolded waits until the aggregator has folded every view, and says how
// long that took.
func (s *stack) waitFolded(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	cons, err := s.bus.JetStream().Consumer(ctx, bus.StreamViews, bus.ConsumerViewCounter)
	if err != nil {
		return 0, err
	}
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return 0, err
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			return time.Since(start), nil
		}
		if time.Since(start) > 5*time.Minute {
			return 0, fmt.Errorf("the views were not folded within 5 minutes: %d pending, %d unacknowledged", info.NumPending, info.NumAckPending)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// fetchProfile saves view-counter's /debug/pprof/<what> into path.
func (s *stack) fetchProfile(ctx context.Context, what, path string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.pprof+"/debug/pprof/"+what, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profiling: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profiling %s: status %d", what, resp.StatusCode)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profiling %s: %w", what, err)
	}
	return f.Close()
}

// streamBytes is the size of the VIEWS stream.
func (s *stack) streamBytes(ctx context.Context) (uint64, error) {
	st, err := s.bus.JetStream().Stream(ctx, bus.StreamViews)
	if err != nil {
		return 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Bytes, nil
}

// cpuSeconds are the CPU seconds used so far by each part.
type cpuSeconds struct {
	viewCounter, redis, self, children float64
}

func (s *stack) cpu(ctx context.Context) (cpuSeconds, error) {
	var c cpuSeconds
	m, err := s.metrics(ctx)
	if err != nil {
		return c, err
	}
	c.viewCounter = m["process_cpu_seconds_total"]
	info, err := s.rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return c, err
	}
	for _, line := range strings.Split(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "used_cpu_user" || k == "used_cpu_sys" {
			f, _ := strconv.ParseFloat(v, 64)
			c.redis += f
		}
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	c.self = tv(ru.Utime) + tv(ru.Stime)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) // finished children: wrk
	c.children = tv(ru.Utime) + tv(ru.Stime)
	return c, nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// metrics scrapes view-counter's /metrics into name{labels} → value.
func (s *stack) metrics(ctx context.Context) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if f, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = f
		}
	}
	return out, sc.Err()
}

// probeLag posts a beacon for a new article every `every` and polls its
// count until it shows, until ctx ends; it returns each beacon's lag.
func probeLag(ctx context.Context, base string, every time.Duration) ([]time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	var mu sync.Mutex
	var lags []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return lags, firstErr
		case <-tick.C:
		}
		wg.Go(func() {
			lag, err := probeOnce(client, base, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if err == nil {
				lags = append(lags, lag)
			}
		})
	}
}

func probeOnce(client *http.Client, base string, i int) (time.Duration, error) {
	article := fmt.Sprintf("probe%d", i)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/tenants/"+tenantID+"/views/"+article, strings.NewReader(`{}`))
	req.Header.Set("User-Agent", fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.%d.0 Safari/537.36", i))
	req.Header.Set("Origin", "http://"+tenantID+".localhost:8080")
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("192.168.%d.%d", i/250%250, i%250+1))
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return 0, fmt.Errorf("probe beacon: status %d", resp.StatusCode)
	}
	want := fmt.Sprintf(`"%s":1`, article)
	for time.Since(start) < 30*time.Second {
		resp, err := client.Get(base + "/v1/tenants/" + tenantID + "/views?ids=" + article)
		if err != nil {
			return 0, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), want) {
			return time.Since(start), nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("probe %s not counted within 30 s", article)
}
