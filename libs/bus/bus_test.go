package bus_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/testkit"
)

func connect(t *testing.T) (*bus.Bus, string) {
	t.Helper()
	n := testkit.NATS(t)
	b, err := bus.Connect(bus.Config{URL: n.URL(), Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b, n.URL()
}

func uploaded(tenant, media string) *eventsv1.Envelope {
	return &eventsv1.Envelope{
		Id: tenant + "." + media + ".uploaded", Type: bus.TypeMediaUploaded, Tenant: tenant,
		Payload: &eventsv1.Envelope_MediaUploaded{MediaUploaded: &eventsv1.MediaUploaded{MediaId: media}},
	}
}

func streamMsgs(t *testing.T, b *bus.Bus, stream string) uint64 {
	t.Helper()
	s, err := b.JetStream().Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPublishDedupesByMessageID(t *testing.T) {
	b, _ := connect(t)
	ctx := context.Background()
	for range 3 {
		if err := b.Publish(ctx, uploaded("hungyen", "abc")); err != nil {
			t.Fatal(err)
		}
	}
	if got := streamMsgs(t, b, bus.StreamMedia); got != 1 {
		t.Fatalf("stream holds %d messages after 3 publishes with one id, want 1", got)
	}
}

func TestPublishRefusesInvalidTenant(t *testing.T) {
	b, _ := connect(t)
	for _, bad := range []string{"a.b", "a*", "a>", "A", "a/b", "x", "abcdefghijklmnopqrstuvwxyz0123456789"} {
		if err := b.Publish(context.Background(), uploaded(bad, "m")); err == nil {
			t.Errorf("tenant %q: publish succeeded, want refusal", bad)
		}
	}
	if got := streamMsgs(t, b, bus.StreamMedia); got != 0 {
		t.Fatalf("stream holds %d messages, want 0", got)
	}
}

func TestConsumeSortsFailures(t *testing.T) {
	b, _ := connect(t)
	ctx := context.Background()
	var transientCalls, okCalls atomic.Int32
	sub, err := b.Consume(ctx, bus.ConsumerImageResize, func(_ context.Context, m *bus.Message) error {
		switch m.Envelope.GetMediaUploaded().GetMediaId() {
		case "permanent":
			return bus.Permanent(errors.New("not an image"))
		case "panics":
			panic("decoder exploded")
		case "transient-once":
			if transientCalls.Add(1) == 1 {
				return errors.New("s3 unavailable")
			}
		}
		okCalls.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ok", "permanent", "panics", "transient-once"} {
		if err := b.Publish(ctx, uploaded("hungyen", id)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two dead letters and two successes", func() bool {
		return streamMsgs(t, b, bus.StreamDeadLetter) == 2 && okCalls.Load() == 2
	})
	if got := transientCalls.Load(); got != 2 {
		t.Errorf("transient failure handled %d times, want 2 (one retry)", got)
	}
	dls, err := b.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, d := range dls {
		if d.Consumer != bus.ConsumerImageResize || d.Subject != "media.uploaded.hungyen" {
			t.Errorf("dead letter %+v: wrong consumer or subject", d)
		}
		reasons[d.Reason[:min(len(d.Reason), 20)]] = d.Subject
	}
	if _, ok := reasons["not an image"]; !ok {
		t.Errorf("no dead letter with the handler's reason; got %v", reasons)
	}
	if err := sub.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// Nothing left pending: every message was acked or terminated exactly once.
	c, err := b.JetStream().Consumer(ctx, bus.StreamMedia, bus.ConsumerImageResize)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 {
		t.Errorf("consumer has %d pending, %d awaiting ack; want 0, 0", info.NumPending, info.NumAckPending)
	}
}

func TestReplayDeadLetter(t *testing.T) {
	b, _ := connect(t)
	ctx := context.Background()
	var fail atomic.Bool
	fail.Store(true)
	var handled atomic.Int32
	sub, err := b.Consume(ctx, bus.ConsumerImageResize, func(context.Context, *bus.Message) error {
		if fail.Load() {
			return bus.Permanent(errors.New("bug"))
		}
		handled.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Stop(ctx) //nolint:errcheck
	if err := b.Publish(ctx, uploaded("namdinh", "m1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a dead letter", func() bool { return streamMsgs(t, b, bus.StreamDeadLetter) == 1 })
	fail.Store(false) // the bug is fixed
	dls, err := b.DeadLetters(ctx)
	if err != nil || len(dls) != 1 {
		t.Fatalf("dead letters %v, %v", dls, err)
	}
	if err := b.Replay(ctx, dls[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replayed message handled", func() bool { return handled.Load() == 1 })
	if got := streamMsgs(t, b, bus.StreamDeadLetter); got != 0 {
		t.Errorf("dead-letter stream holds %d after replay, want 0", got)
	}
}

func TestStopDrainsInFlightMessage(t *testing.T) {
	b, _ := connect(t)
	ctx := context.Background()
	started := make(chan struct{})
	var finished atomic.Bool
	sub, err := b.Consume(ctx, bus.ConsumerModeration, func(context.Context, *bus.Message) error {
		close(started)
		time.Sleep(300 * time.Millisecond)
		finished.Store(true)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	env := &eventsv1.Envelope{Id: "x.1.submitted", Type: bus.TypeArticleSubmitted, Tenant: "hungyen",
		Payload: &eventsv1.Envelope_ArticleSubmitted{ArticleSubmitted: &eventsv1.ArticleSubmitted{}}}
	if err := b.Publish(ctx, env); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := sub.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Fatal("Stop returned before the in-flight handler finished")
	}
	c, _ := b.JetStream().Consumer(ctx, bus.StreamArticles, bus.ConsumerModeration)
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 {
		t.Errorf("%d messages awaiting ack after drain, want 0", info.NumAckPending)
	}
}

func TestPublishSurvivesNATSRestart(t *testing.T) {
	n := testkit.NATS(t)
	b, err := bus.Connect(bus.Config{URL: n.URL(), Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background()) //nolint:errcheck
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, uploaded("trunguong", "after-restart")); err != nil {
		t.Fatalf("publish after restart: %v", err)
	}
	s, _ := b.JetStream().Stream(ctx, bus.StreamMedia)
	msg, err := s.GetLastMsgForSubject(ctx, "media.uploaded.trunguong")
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get(jetstream.MsgIDHeader) != "trunguong.after-restart.uploaded" {
		t.Errorf("stored message id %q", msg.Header.Get(jetstream.MsgIDHeader))
	}
}
