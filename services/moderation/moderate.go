package main

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

// articleIDPattern is the article id ingest makes (docs/conventions.md).
var articleIDPattern = regexp.MustCompile(`^[a-z0-9]{16}$`)

// maxReasons bounds a rejection: past it the editor has enough to fix.
const maxReasons = 20

// moderator handles article.submitted.
type moderator struct {
	tenants *tenant.Store
	bus     *bus.Bus
	// timeout bounds the work on one message, below the consumer's AckWait.
	timeout  time.Duration
	log      *slog.Logger
	verdicts *prometheus.CounterVec
}

func newVerdictCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "moderation_verdicts_total",
		Help: "Article revisions moderated, by verdict (approved, rejected).",
	}, []string{"verdict"})
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	return c, nil
}

// handle is the bus.Handler for bus.ConsumerModeration.
func (m *moderator) handle(ctx context.Context, msg *bus.Message) error {
	env := msg.Envelope
	a := env.GetArticleSubmitted().GetArticle()
	if a == nil {
		return bus.Permanent(fmt.Errorf("event %q carries no submitted article", env.GetId()))
	}
	tenantID := env.GetTenant()
	if err := tenant.ValidateID(tenantID); err != nil {
		return bus.Permanent(err)
	}
	if !articleIDPattern.MatchString(a.GetId()) {
		return bus.Permanent(fmt.Errorf("article id %.40q is not [a-z0-9]{16}", a.GetId()))
	}
	if a.GetRevision() < 1 {
		return bus.Permanent(fmt.Errorf("article %s: revision %d is not positive", a.GetId(), a.GetRevision()))
	}

	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	// An unknown tenant is retried: its configuration may not have reached
	// this replica's watched copy yet.
	t, err := m.tenants.Get(ctx, tenantID)
	if err != nil {
		return err
	}

	id := tenantID + "." + a.GetId() + "." + strconv.FormatInt(a.GetRevision(), 10)
	out := &eventsv1.Envelope{Tenant: tenantID, CorrelationId: a.GetId()}
	reasons := review(t, a)
	verdict := "approved"
	if len(reasons) == 0 {
		out.Id, out.Type = id+".approved", bus.TypeArticleApproved
		out.Payload = &eventsv1.Envelope_ArticleApproved{ArticleApproved: &eventsv1.ArticleApproved{Article: a}}
	} else {
		verdict = "rejected"
		out.Id, out.Type = id+".rejected", bus.TypeArticleRejected
		out.Payload = &eventsv1.Envelope_ArticleRejected{ArticleRejected: &eventsv1.ArticleRejected{
			ArticleId: a.GetId(), Revision: a.GetRevision(), Reasons: reasons,
		}}
	}
	if err := m.bus.Publish(ctx, out); err != nil {
		return err
	}
	m.verdicts.WithLabelValues(verdict).Inc()
	log := m.log.With("tenant", tenantID, "article", a.GetId(), "revision", a.GetRevision())
	if len(reasons) == 0 {
		log.Info("article approved")
	} else {
		log.Info("article rejected", "reasons", strings.Join(reasons, "; "))
	}
	return nil
}

// review returns why the article may not be published, one short reason per
// finding naming its field, or nothing.
func review(t *tenant.Tenant, a *eventsv1.Article) []string {
	var reasons []string
	add := func(format string, args ...any) {
		reasons = append(reasons, fmt.Sprintf(format, args...))
	}

	if strings.TrimSpace(a.GetTitle()) == "" {
		add("title is empty")
	}
	if a.GetCategory() == "" {
		add("category is empty")
	} else if _, ok := t.Category(a.GetCategory()); !ok {
		add("category %.64q is not one of the site's categories", a.GetCategory())
	}
	if len(a.GetBody()) == 0 {
		add("body has no blocks")
	}

	blocked := newBlocklist(t.Blocklist)
	check := func(field, text string) {
		for _, term := range blocked.find(text) {
			add("blocked term %q in %s", term, field)
		}
	}
	check("title", a.GetTitle())
	check("lead", a.GetLead())
	for i, b := range a.GetBody() {
		switch k := b.GetKind().(type) {
		case *eventsv1.Block_Paragraph:
			check(fmt.Sprintf("body[%d] (paragraph)", i), k.Paragraph.GetText())
		case *eventsv1.Block_Image:
			if k.Image.GetMediaId() == "" {
				add("body[%d] (image) has no media id", i)
			}
			check(fmt.Sprintf("body[%d] (caption)", i), k.Image.GetCaption())
			check(fmt.Sprintf("body[%d] (credit)", i), k.Image.GetCredit())
		default:
			add("body[%d] is neither a paragraph nor an image", i)
		}
	}
	check("author", a.GetAuthor())
	check("source", a.GetSource().GetName())

	if len(reasons) > maxReasons {
		more := len(reasons) - maxReasons
		reasons = append(reasons[:maxReasons], fmt.Sprintf("and %d more", more))
	}
	return reasons
}
