package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
)

func published(tenantID, article string, revision, initialViews int64, category string) *eventsv1.Envelope {
	return &eventsv1.Envelope{
		Id: fmt.Sprintf("%s.%s.%d.published", tenantID, article, revision), Type: bus.TypeArticlePublished, Tenant: tenantID, CorrelationId: article,
		Payload: &eventsv1.Envelope_ArticlePublished{ArticlePublished: &eventsv1.ArticlePublished{
			ArticleId: article, Revision: revision, Path: "/bai-viet/x-" + article + ".html", InitialViews: initialViews, Category: category,
		}},
	}
}

func unpublished(tenantID, article string, revision int64) *eventsv1.Envelope {
	return &eventsv1.Envelope{
		Id: fmt.Sprintf("%s.%s.%d.unpublished", tenantID, article, revision), Type: bus.TypeArticleUnpublished, Tenant: tenantID, CorrelationId: article,
		Payload: &eventsv1.Envelope_ArticleUnpublished{ArticleUnpublished: &eventsv1.ArticleUnpublished{ArticleId: article, Revision: revision}},
	}
}

func (h *harness) publish(envs ...*eventsv1.Envelope) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, env := range envs {
		if err := h.svc.bus.Publish(ctx, env); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) categories(tenantID string) map[string]int64 {
	h.t.Helper()
	var body struct {
		Categories map[string]int64 `json:"categories"`
	}
	if resp := h.getJSON("/v1/tenants/"+tenantID+"/views/categories", &body); resp.StatusCode != 200 {
		h.t.Fatalf("categories: status %d", resp.StatusCode)
	}
	return body.Categories
}

func TestLegacyCountsAndCategoriesComeFromArticlePublished(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	env := published("namdinh", "legacy696", 1, 696, "tin-tuc")
	h.publish(env, published("namdinh", "fresh", 1, 0, "tin-tuc"))
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
	// Views of an article whose article.published has not been seen yet
	// join its category once it is.
	h.beacons("namdinh", "early", 2)
	h.waitDrained(bus.ConsumerViewCounter)
	h.publish(published("namdinh", "early", 1, 0, "su-kien"))
	h.waitDrained(bus.ConsumerViewBaseCounts)
	if c, _ := h.counts("namdinh", "legacy696"); c["legacy696"] != 697 {
		t.Errorf("after one beacon: %d, want 697", c["legacy696"])
	}
	if got := h.categories("namdinh"); len(got) != 2 || got["tin-tuc"] != 697 || got["su-kien"] != 2 {
		t.Errorf("categories = %v, want tin-tuc:697 su-kien:2", got)
	}

	// A new revision moves the article to another category, with its views.
	h.publish(published("namdinh", "legacy696", 2, 696, "su-kien"))
	h.waitDrained(bus.ConsumerViewBaseCounts)
	if got := h.categories("namdinh"); len(got) != 1 || got["su-kien"] != 699 {
		t.Errorf("categories after the move = %v, want su-kien:699", got)
	}
	if c, _ := h.counts("namdinh", "legacy696"); c["legacy696"] != 697 {
		t.Errorf("a revision added the legacy count again: %d", c["legacy696"])
	}
}
