package main

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
)

func TestInitialViewsAreAddedOnce(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	published := func(article string, initialViews int64) *eventsv1.Envelope {
		return &eventsv1.Envelope{
			Id: "namdinh." + article + ".1.published", Type: bus.TypeArticlePublished, Tenant: "namdinh", CorrelationId: article,
			Payload: &eventsv1.Envelope_ArticlePublished{ArticlePublished: &eventsv1.ArticlePublished{
				ArticleId: article, Revision: 1, Path: "/bai-viet/x-" + article + ".html", InitialViews: initialViews,
			}},
		}
	}
	env := published("legacy696", 696)
	if err := h.svc.bus.Publish(ctx, env); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.bus.Publish(ctx, published("fresh", 0)); err != nil {
		t.Fatal(err)
	}
	h.waitCount("namdinh", "legacy696", 696)

	// Delivered a second time: the same bytes, without a message id so that
	// JetStream's dedupe window does not drop it.
	data, err := proto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.js().Publish(ctx, bus.Subject(bus.TypeArticlePublished, "namdinh"), data); err != nil {
		t.Fatal(err)
	}
	h.waitDrained(bus.ConsumerViewBaseCounts)
	if c, _ := h.counts("namdinh", "legacy696", "fresh"); c["legacy696"] != 696 || c["fresh"] != 0 {
		t.Errorf("after a second delivery: %v, want legacy696:696 fresh:0", c)
	}

	h.beacons("namdinh", "legacy696", 1)
	h.waitCount("namdinh", "legacy696", 697)
	h.waitDrained(bus.ConsumerViewCounter)
	if c, _ := h.counts("namdinh", "legacy696"); c["legacy696"] != 697 {
		t.Errorf("after one beacon: %d, want 697", c["legacy696"])
	}
}
