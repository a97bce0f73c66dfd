package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are what ops watch: beacons refused, views waiting on Redis.
type metrics struct {
	beacons         *prometheus.CounterVec
	viewsCounted    prometheus.Counter
	viewsDuplicate  prometheus.Counter
	viewsRetried    prometheus.Counter
	viewsDropped    prometheus.Counter
	baseCountsAdded prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		beacons: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "view_counter_beacons_total", Help: "Beacons by outcome: accepted, invalid, unavailable (not stored).",
		}, []string{"outcome"}),
		viewsCounted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_views_counted_total", Help: "Views added to Redis counters.",
		}),
		viewsDuplicate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_views_duplicate_total", Help: "Redelivered views skipped because they were already counted.",
		}),
		viewsRetried: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_views_retried_total", Help: "Views handed back for redelivery because Redis failed.",
		}),
		viewsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_views_dropped_total", Help: "Malformed views messages acknowledged without counting.",
		}),
		baseCountsAdded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "view_counter_base_counts_added_total", Help: "Articles whose initial views were added.",
		}),
	}
	for _, c := range []prometheus.Collector{m.beacons, m.viewsCounted, m.viewsDuplicate, m.viewsRetried, m.viewsDropped, m.baseCountsAdded} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	return m, nil
}
