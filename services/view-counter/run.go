package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/config"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

// run starts the service and blocks until ctx ends or the HTTP server fails,
// then shuts down within the configured timeout.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("loading configuration: %w", err)
	}
	log := config.NewLogger(stdout, serviceName, cfg.LogLevel)
	log.Info("effective configuration", config.LogAttrs(envPrefix, &cfg)...)
	// go-redis logs every failed dial to stderr on its own; while Redis is
	// down that is a line per request. Our own warnings say it once per
	// batch, so its lines go to debug.
	redis.SetLogger(redisLogger{log})

	svc, err := start(ctx, cfg, log)
	if err != nil {
		return err
	}
	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case serveErr = <-svc.http.Err():
		log.Error("http server failed", "err", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, svc.shutdown(sctx))
}

// service is the running parts, kept together so that they stop in reverse
// order of start.
type service struct {
	bus     *bus.Bus
	rdb     redis.UniversalClient
	tenants *tenant.Store
	batcher *batcher
	http    *server
	agg     *aggregator
	base    *bus.Subscription
	pprof   *http.Server
	cancel  context.CancelFunc // background chores
	log     *slog.Logger
}

// start wires config → clients → logic → servers. On error, whatever was
// started is stopped again.
func start(ctx context.Context, cfg Config, log *slog.Logger) (_ *service, err error) {
	s := &service{log: log}
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			_ = s.shutdown(sctx)
		}
	}()

	busCfg := cfg.NATS.Bus(serviceName)
	busCfg.Logger = log
	if s.bus, err = bus.Connect(busCfg); err != nil {
		return nil, err
	}
	if err = s.bus.Declare(ctx); err != nil {
		return nil, err
	}
	s.rdb = newRedis(cfg)
	// Redis being down is not fatal: beacons only need JetStream, views wait
	// in the stream, and /readyz says what is missing.
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	if perr := s.rdb.Ping(pctx).Err(); perr != nil {
		log.Warn("redis not reachable yet; beacons are accepted and counted once it is", "addr", strings.Join(cfg.RedisAddrs, ","), "err", perr)
	}
	cancel()
	kv, err := s.bus.KV(ctx, bus.BucketTenants)
	if err != nil {
		return nil, err
	}
	s.tenants = tenant.NewStore(kv)
	if err = s.tenants.Watch(ctx); err != nil {
		return nil, fmt.Errorf("loading tenants: %w", err)
	}

	secret := cfg.ReaderSalt
	if secret == "" {
		secret = randomSecret()
		log.Warn(envPrefix + "READER_SALT is not set: using a random secret, so a reader seen by two replicas, or before and after a restart, is two readers")
	}
	loc, _ := time.LoadLocation(cfg.TimeZone) // checked by loadConfig
	cal := calendar{loc: loc}
	bots, err := loadBots(cfg.BotsFile)
	if err != nil {
		return nil, err
	}
	origins, _ := parseOrigins(cfg.SiteOrigins)
	trusted, _ := parsePrefixes(cfg.TrustedProxies)

	reg := httpx.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.batcher = newBatcher(jetstreamPublisher(s.bus.Conn()), func(tenantID string, n int, took time.Duration, err error) {
		m.batchViews.Observe(float64(n))
		m.publishSeconds.Observe(took.Seconds())
		if err != nil {
			log.Warn("views not stored; their beacons are answered 503", "tenant", tenantID, "views", n, "err", err)
		}
	}, cfg.PublishTimeout, cfg.MaxBatchViews, cfg.Publishers)
	limiter := newIPLimiter(cfg.IPRate, cfg.IPBurst)
	chores, cancelChores := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancelChores
	go limiter.sweepEvery(chores, time.Minute)

	a := &api{
		tenants: s.tenants,
		origins: &originPolicy{site: origins},
		clients: &clientIPs{trusted: trusted},
		bots:    bots,
		limiter: limiter,
		readers: newReaderHasher(secret, cal),
		batcher: s.batcher,
		rdb:     s.rdb,
		cal:     cal,
		log:     log,
		m:       m,
		now:     time.Now,
	}
	s.http, err = startServer(a, serverOptions{
		Addr:     cfg.HTTPAddr,
		Registry: reg,
		Logger:   log,
		Ready:    map[string]func(context.Context) error{"nats": s.bus.Ready},
		Info:     map[string]func(context.Context) error{"redis": func(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }},
	})
	if err != nil {
		return nil, err
	}
	if cfg.PprofAddr != "" {
		if s.pprof, err = startPprof(cfg.PprofAddr, log); err != nil {
			return nil, err
		}
	}
	if cfg.Aggregators > 0 {
		if s.agg, err = startAggregator(ctx, s.bus, s.rdb, aggregatorOptions{
			Cal: cal, BatchSize: cfg.BatchSize, Loops: cfg.Aggregators, Log: log, Metrics: m,
		}); err != nil {
			return nil, err
		}
		if s.base, err = s.bus.Consume(ctx, bus.ConsumerViewBaseCounts, handleArticles(s.rdb, m, foldLive)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// startPprof serves the runtime profiles on addr.
func startPprof(addr string, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s for pprof: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof listener stopped", "err", err)
		}
	}()
	log.Info("pprof listening", "addr", ln.Addr().String())
	return srv, nil
}

func newRedis(cfg Config) redis.UniversalClient {
	// One address: a plain client; several: a Redis Cluster client.
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 cfg.RedisAddrs,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
		ContextTimeoutEnabled: true,
		// Fail fast while Redis is down (views wait in JetStream anyway);
		// MaxRetries still covers stale connections after a Redis restart.
		DialerRetries: 2,
	})
}

// shutdown stops in reverse: HTTP (no new beacons; those in flight get their
// answer once their views are stored), the publisher, the consumers (the
// messages in hand are folded and acked), tenants, NATS (drained), Redis —
// all within ctx.
func (s *service) shutdown(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		errs = append(errs, s.http.Shutdown(ctx))
	}
	if s.pprof != nil {
		errs = append(errs, s.pprof.Shutdown(ctx))
	}
	if s.batcher != nil {
		errs = append(errs, s.batcher.Stop(ctx))
	}
	if s.agg != nil {
		errs = append(errs, s.agg.Stop(ctx))
	}
	if s.base != nil {
		errs = append(errs, s.base.Stop(ctx))
	}
	if s.tenants != nil {
		s.tenants.Stop()
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.bus != nil {
		errs = append(errs, s.bus.Close(ctx))
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	err := errors.Join(errs...)
	if err != nil {
		s.log.Error("shutdown incomplete", "err", err)
	} else {
		s.log.Info("stopped")
	}
	return err
}

// jetstreamPublisher stores a batch with its message id, retrying — with the
// same id, so that a publish whose ack was lost is not stored twice — until
// ctx ends. It is JetStream's publish (a message with a Nats-Msg-Id header
// and a reply subject, answered by a PubAck) done by hand: each publisher
// has its own reply subject, delivered by the connection's reader straight
// into a channel. nats.go's Request hands the answer through a second
// goroutine first, one more wake-up per message that every waiting beacon
// would wait for too.
func jetstreamPublisher(nc *nats.Conn) publishFunc {
	const attemptTimeout = time.Second
	idle := make(chan *ackInbox, 64)
	return func(ctx context.Context, subject, msgID string, data []byte) error {
		var in *ackInbox
		select {
		case in = <-idle:
		default:
			var err error
			if in, err = newAckInbox(nc); err != nil {
				return fmt.Errorf("publishing %s: %w", subject, err)
			}
		}
		defer func() {
			select {
			case idle <- in:
			default:
				_ = in.sub.Unsubscribe()
			}
		}()
		msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{jetstream.MsgIDHeader: []string{msgID}}}
		for attempt := 0; ; attempt++ {
			actx, cancel := context.WithTimeout(ctx, attemptTimeout)
			resp, err := in.request(actx, nc, msg)
			cancel()
			if err == nil {
				err = checkPubAck(resp)
			}
			if err == nil {
				return nil
			}
			if ctx.Err() != nil {
				return fmt.Errorf("publishing %s: %w", subject, err)
			}
			t := time.NewTimer(min(50*time.Millisecond<<min(attempt, 4), 500*time.Millisecond))
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("publishing %s: %w", subject, err)
			case <-t.C:
			}
		}
	}
}

// ackInbox is one publisher's reply subject. Every attempt gets its own
// subject under it, so a late answer to an attempt that timed out is told
// apart from the answer awaited.
type ackInbox struct {
	prefix string
	ch     chan *nats.Msg
	sub    *nats.Subscription
	n      uint64
}

func newAckInbox(nc *nats.Conn) (*ackInbox, error) {
	in := &ackInbox{prefix: nc.NewInbox(), ch: make(chan *nats.Msg, 16)}
	sub, err := nc.ChanSubscribe(in.prefix+".*", in.ch)
	if err != nil {
		return nil, fmt.Errorf("subscribing to publish acks: %w", err)
	}
	in.sub = sub
	return in, nil
}

// request publishes msg with a fresh reply subject and returns the answer.
func (in *ackInbox) request(ctx context.Context, nc *nats.Conn, msg *nats.Msg) ([]byte, error) {
	in.n++
	msg.Reply = in.prefix + "." + strconv.FormatUint(in.n, 36)
	if err := nc.PublishMsg(msg); err != nil {
		return nil, err
	}
	for {
		select {
		case m := <-in.ch:
			if m.Subject != msg.Reply {
				continue // the answer to an earlier attempt, given up on
			}
			if m.Header.Get("Status") == "503" {
				return nil, nats.ErrNoResponders
			}
			return m.Data, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// checkPubAck reads JetStream's answer to a publish:
// {"stream":"VIEWS","seq":12[,"duplicate":true]} or {"error":{…}}.
func checkPubAck(b []byte) error {
	if bytes.Contains(b, []byte(`"error"`)) {
		var e struct {
			Error struct {
				Code        int    `json:"code"`
				ErrCode     int    `json:"err_code"`
				Description string `json:"description"`
			} `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("jetstream refused the publish: %s (%d/%d)", e.Error.Description, e.Error.Code, e.Error.ErrCode)
	}
	if !bytes.HasPrefix(b, []byte(`{"stream":`)) || !bytes.Contains(b, []byte(`"seq":`)) {
		return fmt.Errorf("unexpected answer to a publish: %q", truncate(string(b), 100))
	}
	return nil
}

func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// redisLogger is go-redis's process-wide logger, at debug level.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
