// Package bus connects to NATS JetStream, declares the platform's streams,
// consumers and KV buckets (see topology.go), publishes events with message
// ids for dedupe, and runs consumers that sort failures into retries and a
// dead-letter stream.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/tenant"
)

// Config is how to reach NATS.
type Config struct {
	URL string
	// Name identifies the connection in NATS monitoring, e.g. "render".
	Name string
	// Replicas for streams and buckets: 1 on one machine, 3 in a cluster.
	Replicas int
	Logger   *slog.Logger
}

// Bus is a JetStream connection.
type Bus struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	replicas int
	log      *slog.Logger
	closed   chan struct{}
}

// Connect opens a connection that reconnects forever, so a NATS restart is
// survived. It returns before NATS is reachable if it is not yet; Declare
// waits for it.
func Connect(cfg Config) (*Bus, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	closed := make(chan struct{})
	nc, err := nats.Connect(cfg.URL,
		nats.Name(cfg.Name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrl()) }),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
	)
	if err != nil {
		return nil, fmt.Errorf("connecting to nats %s: %w", cfg.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("opening jetstream: %w", err)
	}
	r := cfg.Replicas
	if r < 1 {
		r = 1
	}
	return &Bus{nc: nc, js: js, replicas: r, log: log, closed: closed}, nil
}

// JetStream exposes the underlying API for what this package does not wrap.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Conn exposes the NATS connection (for readiness checks).
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Ready reports whether NATS is connected.
func (b *Bus) Ready(context.Context) error {
	if !b.nc.IsConnected() {
		return errors.New("nats not connected")
	}
	return nil
}

// Declare creates or updates every stream, consumer and bucket of topology.go.
// It retries until ctx ends, so services may start before NATS.
func (b *Bus) Declare(ctx context.Context) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = b.declareOnce(ctx); err == nil {
			return nil
		}
		b.log.Warn("declaring jetstream topology, will retry", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("declaring jetstream topology: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(backoff(attempt)):
		}
	}
}

func (b *Bus) declareOnce(ctx context.Context) error {
	for _, sc := range streams {
		sc.Replicas = b.replicas
		sc.Duplicates = dedupeWindow
		sc.Storage = jetstream.FileStorage
		if _, err := b.js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("stream %s: %w", sc.Name, err)
		}
	}
	for name, spec := range Consumers {
		cc := jetstream.ConsumerConfig{
			Durable:        name,
			FilterSubjects: spec.Filters,
			AckPolicy:      jetstream.AckExplicitPolicy,
			AckWait:        spec.AckWait,
			MaxDeliver:     -1, // the bus decides when to give up, see handle
			MaxAckPending:  1000,
			DeliverPolicy:  jetstream.DeliverAllPolicy,
		}
		if _, err := b.js.CreateOrUpdateConsumer(ctx, spec.Stream, cc); err != nil {
			return fmt.Errorf("consumer %s: %w", name, err)
		}
	}
	for _, kc := range buckets {
		kc.Replicas = b.replicas
		if _, err := b.js.CreateOrUpdateKeyValue(ctx, kc); err != nil {
			return fmt.Errorf("bucket %s: %w", kc.Bucket, err)
		}
	}
	return nil
}

// KV returns a declared bucket.
func (b *Bus) KV(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	kv, err := b.js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("opening bucket %s: %w", bucket, err)
	}
	return kv, nil
}

// Subject is where an event of this type for this tenant is published.
func Subject(eventType, tenantID string) string { return eventType + "." + tenantID }

// Publish sends an event on "<type>.<tenant>" with env.Id as the JetStream
// message id, so a repeat within the dedupe window is dropped. It retries
// transient failures (NATS restarting) until ctx ends; the caller bounds it.
func (b *Bus) Publish(ctx context.Context, env *eventsv1.Envelope) error {
	if err := tenant.ValidateID(env.GetTenant()); err != nil {
		return err
	}
	if env.GetId() == "" || env.GetType() == "" {
		return errors.New("publishing: envelope id and type are required")
	}
	if env.OccurredAt == nil {
		env.OccurredAt = timestamppb.Now()
	}
	data, err := proto.Marshal(env)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", env.GetType(), err)
	}
	subject := Subject(env.GetType(), env.GetTenant())
	for attempt := 0; ; attempt++ {
		_, err = b.js.Publish(ctx, subject, data, jetstream.WithMsgID(env.GetId()))
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("publishing %s: %w", subject, err)
		}
		b.log.Warn("publish failed, retrying", "subject", subject, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("publishing %s: %w", subject, err)
		case <-time.After(backoff(attempt)):
		}
	}
}

// Close drains the connection: pending publishes are flushed and
// subscriptions finish, then it waits for the close, bounded by ctx.
func (b *Bus) Close(ctx context.Context) error {
	if b.nc.IsClosed() {
		return nil
	}
	if err := b.nc.Drain(); err != nil {
		b.nc.Close()
		return fmt.Errorf("draining nats: %w", err)
	}
	select {
	case <-b.closed:
		return nil
	case <-ctx.Done():
		b.nc.Close()
		return fmt.Errorf("draining nats: %w", ctx.Err())
	}
}

// backoff grows from 250ms to 5s.
func backoff(attempt int) time.Duration {
	d := 250 * time.Millisecond << min(attempt, 5)
	return min(d, 5*time.Second)
}
