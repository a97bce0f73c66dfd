package bus

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

// permanentError marks a failure that no retry can fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as one that retrying will not fix (bad input): the
// message goes straight to the dead-letter stream. Any other error is
// transient and retried with a growing delay.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Message is one delivered event.
type Message struct {
	Subject      string
	Envelope     *eventsv1.Envelope
	NumDelivered uint64
	StreamSeq    uint64
}

// Handler handles one event. Returning nil acknowledges it; Permanent(err)
// dead-letters it; any other error redelivers it later.
type Handler func(ctx context.Context, m *Message) error

// Subscription is a running consumer.
type Subscription struct {
	cc       jetstream.ConsumeContext
	inflight sync.WaitGroup
	cancel   context.CancelFunc
}

// Consume runs h for every message of the named durable consumer (declared in
// topology.go), spec.Concurrency at a time. A panic in h is contained and
// treated as a permanent failure of that message.
func (b *Bus) Consume(ctx context.Context, name string, h Handler) (*Subscription, error) {
	spec, ok := Consumers[name]
	if !ok {
		return nil, fmt.Errorf("consumer %q is not declared in bus/topology.go", name)
	}
	cons, err := b.js.Consumer(ctx, spec.Stream, name)
	if err != nil {
		return nil, fmt.Errorf("binding consumer %s: %w", name, err)
	}
	conc := max(spec.Concurrency, 1)
	sem := make(chan struct{}, conc)
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Subscription{cancel: cancel}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		sem <- struct{}{}
		s.inflight.Add(1)
		go func() {
			defer func() { <-sem; s.inflight.Done() }()
			b.handle(hctx, name, spec, m, h)
		}()
	}, jetstream.PullMaxMessages(conc*2), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if !errors.Is(err, jetstream.ErrNoHeartbeat) {
			b.log.Debug("consume", "consumer", name, "err", err)
		}
	}))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("consuming %s: %w", name, err)
	}
	s.cc = cc
	return s, nil
}

// Stop drains the consumer: no new messages are pulled, the ones in hand are
// finished, bounded by ctx; handlers still running after that see their
// context cancelled and their messages are redelivered to another instance.
func (s *Subscription) Stop(ctx context.Context) error {
	s.cc.Drain()
	done := make(chan struct{})
	go func() {
		<-s.cc.Closed()
		s.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		return fmt.Errorf("draining consumer: %w", ctx.Err())
	}
}

func (b *Bus) handle(ctx context.Context, name string, spec ConsumerSpec, m jetstream.Msg, h Handler) {
	meta, err := m.Metadata()
	if err != nil {
		b.log.Error("message without metadata", "consumer", name, "err", err)
		_ = m.Term()
		return
	}
	msg := &Message{Subject: m.Subject(), NumDelivered: meta.NumDelivered, StreamSeq: meta.Sequence.Stream}
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(m.Data(), env); err != nil {
		b.deadLetter(ctx, name, m, msg, fmt.Sprintf("undecodable envelope: %v", err))
		return
	}
	msg.Envelope = env
	stopProgress := keepInProgress(m, spec.AckWait/3)
	err = callSafely(ctx, h, msg)
	stopProgress()
	switch {
	case err == nil:
		if err := m.DoubleAck(ctx); err != nil {
			b.log.Warn("ack failed; the message will be redelivered", "consumer", name, "subject", msg.Subject, "err", err)
		}
	case IsPermanent(err):
		b.deadLetter(ctx, name, m, msg, err.Error())
	case spec.MaxDeliver > 0 && int(meta.NumDelivered) >= spec.MaxDeliver:
		b.deadLetter(ctx, name, m, msg, fmt.Sprintf("gave up after %d deliveries: %v", meta.NumDelivered, err))
	default:
		delay := retryDelay(meta.NumDelivered)
		b.log.Info("retrying later", "consumer", name, "subject", msg.Subject, "delivery", meta.NumDelivered, "in", delay, "err", err)
		_ = m.NakWithDelay(delay)
	}
}

// keepInProgress tells the server every interval that the message is still
// being worked on, until the returned func is called.
func keepInProgress(m jetstream.Msg, interval time.Duration) func() {
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	return func() { close(done) }
}

func callSafely(ctx context.Context, h Handler, m *Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("handler panicked: %v\n%s", r, debug.Stack()))
		}
	}()
	return h(ctx, m)
}

// retryDelay grows from 1s to 30s.
func retryDelay(delivered uint64) time.Duration {
	d := time.Second << min(delivered, 5)
	return min(d, 30*time.Second)
}

// Dead-letter message headers.
const (
	HeaderReason    = "Blocpress-Reason"
	HeaderSubject   = "Blocpress-Subject"
	HeaderConsumer  = "Blocpress-Consumer"
	HeaderStreamSeq = "Blocpress-Stream-Seq"
)

// deadLetter copies the message to "deadletter.<consumer>.<original subject>"
// with the reason, then terminates it. If the copy cannot be stored the
// message is redelivered instead, so nothing is lost.
func (b *Bus) deadLetter(ctx context.Context, name string, m jetstream.Msg, msg *Message, reason string) {
	b.log.Error("dead-lettering message", "consumer", name, "subject", msg.Subject, "reason", reason)
	if len(reason) > 2000 {
		reason = reason[:2000]
	}
	out := nats.NewMsg("deadletter." + name + "." + msg.Subject)
	out.Data = m.Data()
	out.Header.Set(HeaderReason, reason)
	out.Header.Set(HeaderSubject, msg.Subject)
	out.Header.Set(HeaderConsumer, name)
	out.Header.Set(HeaderStreamSeq, strconv.FormatUint(msg.StreamSeq, 10))
	out.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s-%d", name, msg.StreamSeq))
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := b.js.PublishMsg(pctx, out); err != nil {
		b.log.Error("dead-letter publish failed; redelivering", "err", err)
		_ = m.NakWithDelay(5 * time.Second)
		return
	}
	_ = m.Term()
}

// DeadLetter is one dead-lettered message.
type DeadLetter struct {
	Seq      uint64
	Consumer string
	Subject  string
	Reason   string
	Data     []byte
}

// DeadLetters lists the dead-letter stream.
func (b *Bus) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	stream, err := b.js.Stream(ctx, StreamDeadLetter)
	if err != nil {
		return nil, fmt.Errorf("opening dead-letter stream: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream info: %w", err)
	}
	var out []DeadLetter
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		raw, err := stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading dead letter %d: %w", seq, err)
		}
		out = append(out, DeadLetter{
			Seq: seq, Consumer: raw.Header.Get(HeaderConsumer), Subject: raw.Header.Get(HeaderSubject),
			Reason: raw.Header.Get(HeaderReason), Data: raw.Data,
		})
	}
	return out, nil
}

// Replay republishes a dead letter on its original subject (without a message
// id, so the dedupe window does not drop it) and removes it from the
// dead-letter stream.
func (b *Bus) Replay(ctx context.Context, d DeadLetter) error {
	if _, err := b.js.Publish(ctx, d.Subject, d.Data); err != nil {
		return fmt.Errorf("replaying dead letter %d: %w", d.Seq, err)
	}
	stream, err := b.js.Stream(ctx, StreamDeadLetter)
	if err != nil {
		return fmt.Errorf("opening dead-letter stream: %w", err)
	}
	if err := stream.DeleteMsg(ctx, d.Seq); err != nil {
		return fmt.Errorf("removing replayed dead letter %d: %w", d.Seq, err)
	}
	return nil
}
