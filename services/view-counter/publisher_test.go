package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/testkit"
)

// Concurrent publishers each get their own answers: every batch is stored
// once, none is reported stored that is not.
func TestJetStreamPublisherConcurrentAcks(t *testing.T) {
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
	publish := jetstreamPublisher(b.Conn())
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := publish(ctx, "views.hungyen", fmt.Sprintf("batch-%d-%d", w, i), []byte("x")); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, _ := b.JetStream().Stream(ctx, bus.StreamViews)
	if info, _ := s.Info(ctx); info.State.Msgs != workers*each {
		t.Errorf("VIEWS holds %d messages, want %d", info.State.Msgs, workers*each)
	}
}

// An answer to an attempt given up on, arriving during the next attempt, is
// not taken for the next attempt's answer.
func TestAckInboxIgnoresLateAnswers(t *testing.T) {
	n := testkit.NATS(t)
	nc, err := nats.Connect(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	var first *nats.Msg
	// The responder holds the first request's answer back until the second
	// request arrives, then answers the first one, then the second.
	sub, err := nc.Subscribe("test.acks", func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = m
			return
		}
		_ = first.Respond([]byte("answer to " + string(first.Data)))
		_ = m.Respond([]byte("answer to " + string(m.Data)))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe() //nolint:errcheck
	in, err := newAckInbox(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx1, cancel1 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel1()
	if _, err := in.request(ctx1, nc, &nats.Msg{Subject: "test.acks", Data: []byte("one")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first attempt: %v, want its deadline", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	got, err := in.request(ctx2, nc, &nats.Msg{Subject: "test.acks", Data: []byte("two")})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "answer to two" {
		t.Errorf("second attempt got %q, want %q", got, "answer to two")
	}
	if _, err := in.request(ctx2, nc, &nats.Msg{Subject: "nobody.listens", Data: []byte("three")}); !errors.Is(err, nats.ErrNoResponders) && !strings.Contains(fmt.Sprint(err), "no responders") {
		t.Errorf("a subject nobody answers: %v, want no responders", err)
	}
}
