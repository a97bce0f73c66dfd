package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Beacon outcomes, the label of view_counter_beacons_total.
const (
	outcomeAccepted      = iota // stored on JetStream
	outcomeInvalid              // bad tenant, article or body
	outcomeForeignOrigin        // from a page outside the tenant's sites
	outcomePrefetch             // Sec-Purpose/Purpose: prefetch
	outcomeBot                  // user agent on the bot list
	outcomeNoUserAgent          // empty user agent
	outcomeRateLimited          // over the per-IP limit
	outcomeUnavailable          // JetStream did not store it in time
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"accepted", "invalid", "foreign_origin", "prefetch", "bot", "no_user_agent", "rate_limited", "unavailable"}

// metrics are what ops watch: beacons by outcome, views counted or waiting
// on Redis, how far behind the counts are.
type metrics struct {
	beacons         [numOutcomes]prometheus.Counter
	viewsCounted    prometheus.Counter
	viewsRepeated   prometheus.Counter
	viewsDuplicate  prometheus.Counter
	viewsRetried    prometheus.Counter
	viewsDropped    prometheus.Counter
	baseCountsAdded prometheus.Counter
	batchViews      prometheus.Histogram
	publishSeconds  prometheus.Histogram
	foldLag         prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	beacons := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "view_counter_beacons_total",
		Help: "Beacons by outcome: accepted (stored), invalid, foreign_origin, prefetch, bot, no_user_agent, rate_limited, unavailable (not stored).",
	}, []string{"outcome"})
	m := &metrics{
		viewsCounted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_views_counted_total", Help: "Views added to Redis counters.",
		}),
		viewsRepeated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_views_repeated_total", Help: "Views not counted: the same reader viewed the article less than 30 minutes before.",
		}),
		viewsDuplicate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_views_duplicate_total", Help: "Redelivered views skipped because their message was already folded.",
		}),
		viewsRetried: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_views_retried_total", Help: "Views handed back for redelivery because Redis failed.",
		}),
		viewsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_views_dropped_total", Help: "Malformed views acknowledged without counting.",
		}),
		baseCountsAdded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_base_counts_added_total", Help: "Articles whose initial views were added.",
		}),
		batchViews: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "view_counter_published_batch_views", Help: "Views per JetStream message published by the beacon endpoint.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 6),
		}),
		publishSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "view_counter_publish_seconds", Help: "JetStream round trip of a published batch of views, retries included.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1, 5},
		}),
		foldLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "view_counter_fold_lag_seconds", Help: "Time from a batch of views being accepted to being folded into Redis.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
	}
	for i, name := range outcomeNames {
		m.beacons[i] = beacons.WithLabelValues(name)
	}
	for _, c := range []prometheus.Collector{beacons, m.viewsCounted, m.viewsRepeated, m.viewsDuplicate, m.viewsRetried,
		m.viewsDropped, m.baseCountsAdded, m.batchViews, m.publishSeconds, m.foldLag} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) outcome(o int) { m.beacons[o].Inc() }
