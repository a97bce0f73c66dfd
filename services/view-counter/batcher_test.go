package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/testkit"
)

func TestHandEncodedBatchMatchesTheGeneratedCode(t *testing.T) {
	at := time.Date(2026, 11, 23, 8, 30, 15, 123456789, time.UTC)
	var entries []byte
	want := &eventsv1.ViewBatch{}
	for i, article := range []string{"a1b2c3d4e5f6g7h8", "x", "legacy12345678901234567890123456789012"} {
		reader := fmt.Sprintf("%032x", i+1)
		entries = appendViewEntry(entries, []byte(article), []byte(reader))
		want.Views = append(want.Views, &eventsv1.View{ArticleId: article, Reader: reader})
	}
	for _, ts := range []time.Time{at, at.Truncate(time.Second), time.Unix(0, 0)} {
		data := encodeBatchEnvelope(nil, "id-1", "hungyen", ts, entries)
		got := &eventsv1.Envelope{}
		if err := proto.Unmarshal(data, got); err != nil {
			t.Fatal(err)
		}
		wantEnv := &eventsv1.Envelope{Id: "id-1", Type: "views", Tenant: "hungyen", OccurredAt: timestamppb.New(ts),
			Payload: &eventsv1.Envelope_ViewBatch{ViewBatch: want}}
		if !proto.Equal(got, wantEnv) {
			t.Errorf("decoded %v\nwant    %v", got, wantEnv)
		}
		// And the generated code encodes the same bytes, field for field.
		ref, err := proto.MarshalOptions{Deterministic: true}.Marshal(wantEnv)
		if err != nil {
			t.Fatal(err)
		}
		if string(ref) != string(data) {
			t.Errorf("hand encoding differs from proto.Marshal at %s", ts)
		}
	}
}

// A slow JetStream makes views pile up in few messages, and every beacon is
// released by its own message's ack.
func TestBatcherCoalescesWhilePublishesAreInFlight(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	release := make(chan struct{})
	var calls atomic.Int32
	publish := func(ctx context.Context, subject, id string, data []byte) error {
		if calls.Add(1) == 1 {
			<-release // the first publish is slow
		}
		env := &eventsv1.Envelope{}
		if err := proto.Unmarshal(data, env); err != nil {
			return err
		}
		mu.Lock()
		sizes = append(sizes, len(env.GetViewBatch().GetViews()))
		mu.Unlock()
		return nil
	}
	b := newBatcher(publish, nil, 5*time.Second, 100, 1)
	defer b.Stop(context.Background()) //nolint:errcheck
	var reader [readerHexLen]byte
	first, err := b.add([]byte("hungyen"), []byte("a"), &reader, "20261123")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() (bool, string) { return calls.Load() == 1, "first publish not started" })
	var waiters []*pendingBatch
	for range 250 {
		pb, err := b.add([]byte("hungyen"), []byte("a"), &reader, "20261123")
		if err != nil {
			t.Fatal(err)
		}
		waiters = append(waiters, pb)
	}
	select {
	case <-waiters[0].done:
		t.Fatal("a view was released before its message was published")
	default:
	}
	close(release)
	<-first.done
	for _, w := range waiters {
		<-w.done
		if w.err != nil {
			t.Fatal(w.err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(sizes) != "[1 100 100 50]" {
		t.Errorf("published batches of %v views, want [1 100 100 50]", sizes)
	}
}

func TestBatcherFailsBeaconsItCouldNotStore(t *testing.T) {
	publish := func(ctx context.Context, _, _ string, _ []byte) error {
		<-ctx.Done()
		return errors.New("nats: no responders")
	}
	b := newBatcher(publish, nil, 200*time.Millisecond, 10, 1)
	defer b.Stop(context.Background()) //nolint:errcheck
	var reader [readerHexLen]byte
	start := time.Now()
	pb, err := b.add([]byte("hungyen"), []byte("a"), &reader, "20261123")
	if err != nil {
		t.Fatal(err)
	}
	<-pb.done
	if pb.err == nil {
		t.Fatal("a view JetStream never stored was reported stored")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the failure took %s; the publish timeout is 200ms", d)
	}
	// With the only publisher stuck, full batches pile up to a bound, then
	// beacons are refused at once instead of queueing without limit.
	var refused error
	for range 1000 {
		if _, err := b.add([]byte("hungyen"), []byte("a"), &reader, "20261123"); err != nil {
			refused = err
			break
		}
	}
	if !errors.Is(refused, errBacklog) {
		t.Errorf("a stuck JetStream did not bound the backlog: %v", refused)
	}
}

func TestBatchesNeverSpanTwoDays(t *testing.T) {
	var mu sync.Mutex
	days := map[int64]int{}
	block := make(chan struct{})
	var calls atomic.Int32
	publish := func(_ context.Context, _, _ string, data []byte) error {
		if calls.Add(1) == 1 {
			<-block
		}
		env := &eventsv1.Envelope{}
		_ = proto.Unmarshal(data, env)
		mu.Lock()
		days[env.GetOccurredAt().GetSeconds()] += len(env.GetViewBatch().GetViews())
		mu.Unlock()
		return nil
	}
	b := newBatcher(publish, nil, 5*time.Second, 100, 1)
	defer b.Stop(context.Background()) //nolint:errcheck
	var reader [readerHexLen]byte
	clock := time.Unix(1000, 0)
	b.now = func() time.Time { return clock }
	first, _ := b.add([]byte("t1"), []byte("a"), &reader, "20261123")
	waitFor(t, 5*time.Second, func() (bool, string) { return calls.Load() == 1, "" })
	p1, _ := b.add([]byte("t1"), []byte("a"), &reader, "20261123")
	clock = time.Unix(1001, 0) // midnight passed
	p2, _ := b.add([]byte("t1"), []byte("a"), &reader, "20261124")
	close(block)
	for _, p := range []*pendingBatch{first, p1, p2} {
		<-p.done
		if p.err != nil {
			t.Fatal(p.err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if days[1000] != 2 || days[1001] != 1 {
		t.Errorf("views per batch time: %v; want the day's change to start a new batch", days)
	}
}

func TestJetStreamPublisherReadsPubAcks(t *testing.T) {
	n := testkit.NATS(t)
	b, err := bus.Connect(bus.Config{URL: n.URL(), Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background()) //nolint:errcheck
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Declare(ctx); err != nil {
		t.Fatal(err)
	}
	publish := jetstreamPublisher(b.Conn())
	for range 2 { // the second is a duplicate, acknowledged as stored
		if err := publish(ctx, "views.hungyen", "batch-1", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := b.JetStream().Stream(ctx, bus.StreamViews)
	if info, _ := s.Info(ctx); info.State.Msgs != 1 {
		t.Errorf("VIEWS holds %d messages, want 1", info.State.Msgs)
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if err := publish(short, "nostream.hungyen", "m-1", []byte("x")); err == nil {
		t.Error("a subject no stream stores was reported stored")
	}
	for _, bad := range []string{`{"error":{"code":503,"description":"jetstream not ready"}}`, `+OK`, ``} {
		if checkPubAck([]byte(bad)) == nil {
			t.Errorf("checkPubAck(%q) = nil", bad)
		}
	}
	if err := checkPubAck([]byte(`{"stream":"VIEWS","seq":7,"duplicate":true}`)); err != nil {
		t.Error(err)
	}
}
