package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/httpx"
)

// Takedown modes; render reads them from the reason's first word (see
// services/render/takedown.go).
const (
	modeGone     = "gone"
	modeNotice   = "notice"
	modeRedirect = "redirect"
)

const maxTakedownReason = 1000

type unpublishRequest struct {
	Mode       string `json:"mode"`
	Reason     string `json:"reason"`
	RedirectTo string `json:"redirect_to"`
}

type unpublishResponse struct {
	ID       string `json:"id"`
	Revision int64  `json:"revision"`
	Status   string `json:"status"`
	Mode     string `json:"mode"`
	Reason   string `json:"reason"`
	Event    string `json:"event"`
}

// takedownReason is the reason in render's form: "gone: text",
// "notice: text" or "redirect <target>: text".
func takedownReason(mode, target, text string) string {
	if mode == modeRedirect {
		return "redirect " + target + ": " + text
	}
	return mode + ": " + text
}

// takedownMode reads the mode back from a reason, as render does: "gone:"
// or "410:", "redirect <target>:", anything else a notice.
func takedownMode(reason string) string {
	r := strings.ToLower(strings.TrimSpace(reason))
	switch {
	case strings.HasPrefix(r, "gone:"), strings.HasPrefix(r, "410:"):
		return modeGone
	case strings.HasPrefix(r, "redirect "):
		return modeRedirect
	}
	return modeNotice
}

// handleUnpublish takes an article off the site (or cancels its schedule):
// it publishes article.unpublished, which render turns into a 410, a notice
// or a redirect and removes from every list, and records who did it.
//
// The event goes out before the status changes: if the status update then
// fails, the status consumer still records the takedown from the event,
// whereas the other order could say "unpublished" of a page still online.
// The envelope id carries the time, so a second takedown after the article
// was published again is not dropped as a duplicate of the first.
func (s *service) handleUnpublish(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := articleID(w, r)
	if !ok {
		return
	}
	var req unpublishRequest
	if code, err := httpx.DecodeJSON(w, r, 16<<10, &req); err != nil {
		var fields []httpx.FieldError
		if code == http.StatusRequestEntityTooLarge {
			fields = append(fields, httpx.FieldError{Field: "body", Message: err.Error(), Limit: 16 << 10})
		}
		httpx.Error(w, code, err.Error(), fields...)
		return
	}
	req.Mode = strings.ToLower(strings.TrimSpace(req.Mode))
	req.Reason = strings.Join(strings.Fields(clean(req.Reason)), " ")
	req.RedirectTo = strings.TrimSpace(req.RedirectTo)

	t := c.tenant.ID
	var errs []httpx.FieldError
	switch req.Mode {
	case modeGone, modeNotice, modeRedirect:
	default:
		errs = append(errs, httpx.FieldError{Field: "mode", Message: `must be "gone" (410), "notice" (the page says it was removed) or "redirect"`})
	}
	if req.Reason == "" {
		errs = append(errs, httpx.FieldError{Field: "reason", Message: "is required: why the article is taken down"})
	} else if n := utf8.RuneCountInString(req.Reason); n > maxTakedownReason {
		errs = append(errs, httpx.FieldError{Field: "reason", Message: fmt.Sprintf("must be at most %d characters, got %d", maxTakedownReason, n), Limit: maxTakedownReason})
	}
	var target string
	switch {
	case req.Mode != modeRedirect:
		if req.RedirectTo != "" {
			errs = append(errs, httpx.FieldError{Field: "redirect_to", Message: `only with mode "redirect"`})
		}
	case req.RedirectTo == "":
		errs = append(errs, httpx.FieldError{Field: "redirect_to", Message: "is required: an article id or an absolute http(s) URL"})
	case articleIDPattern.MatchString(req.RedirectTo):
		if req.RedirectTo == id {
			errs = append(errs, httpx.FieldError{Field: "redirect_to", Message: "must be another article"})
			break
		}
		other, _, err := s.readStatus(r.Context(), t, req.RedirectTo)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			errs = append(errs, httpx.FieldError{Field: "redirect_to", Message: "no article " + req.RedirectTo + " in tenant " + t})
		case err != nil:
			s.unavailable(w, r, "reading the redirect target", err)
			return
		case other.PublicURL == "":
			errs = append(errs, httpx.FieldError{Field: "redirect_to", Message: "article " + req.RedirectTo + " is not online"})
		default:
			target = other.PublicURL
		}
	default:
		u, err := url.Parse(req.RedirectTo)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			strings.ContainsAny(req.RedirectTo, " \t\r\n\"<>\\") || len(req.RedirectTo) > maxSourceURL {
			errs = append(errs, httpx.FieldError{Field: "redirect_to", Message: "must be an article id or an absolute http(s) URL", Limit: maxSourceURL})
		} else {
			target = u.String()
		}
	}
	if len(errs) > 0 {
		httpx.Error(w, http.StatusUnprocessableEntity, fmt.Sprintf("the takedown has %d problem(s); nothing was changed", len(errs)), errs...)
		return
	}

	doc, _, ok := s.answerStatus(w, r, t, id)
	if !ok {
		return
	}
	// The takedown carries the article's latest revision, not only the one
	// online: a newer revision still in moderation was submitted before the
	// takedown, and render refuses every approval up to this revision (its
	// render-schedule tombstone), so a late approval cannot bring the
	// article back. Only a revision submitted after the takedown can.
	switch {
	case doc.Status == statusPublished || doc.Status == statusScheduled:
	case doc.PublicURL != "" && doc.OnlineRevision > 0:
	default:
		httpx.Error(w, http.StatusConflict, fmt.Sprintf("article %s is %s: only a published or scheduled article can be taken down", id, doc.Status),
			httpx.FieldError{Field: "status", Message: "must be published or scheduled, is " + doc.Status})
		return
	}
	rev := max(doc.Revision, doc.OnlineRevision)

	now := time.Now().UTC()
	reason := takedownReason(req.Mode, target, req.Reason)
	env := &eventsv1.Envelope{
		Id:            fmt.Sprintf("%s.%s.%d.unpublished.%d", t, id, rev, now.UnixMilli()),
		Type:          bus.TypeArticleUnpublished,
		Tenant:        t,
		OccurredAt:    timestamppb.New(now),
		CorrelationId: id,
		Payload: &eventsv1.Envelope_ArticleUnpublished{ArticleUnpublished: &eventsv1.ArticleUnpublished{
			ArticleId: id, Revision: rev, Reason: reason}},
	}
	pctx, cancel := publishCtx(r.Context())
	defer cancel()
	if err := s.bus.Publish(pctx, env); err != nil {
		s.unavailable(w, r, "announcing the takedown", err)
		return
	}

	entry := historyEntry{Status: statusUnpublished, At: now, By: c.who(), Event: env.Id, Revision: rev, Mode: req.Mode, Reason: reason}
	key := t + "." + id
	for range maxStatusUpdates {
		doc, kvRev, err := s.readStatus(r.Context(), t, id)
		if err != nil {
			s.unavailable(w, r, "recording the takedown (the takedown itself was sent)", err)
			return
		}
		doc.recordTakedown(entry)
		if _, err := s.articles.Update(r.Context(), key, doc.encode(), kvRev); errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		} else if err != nil {
			s.unavailable(w, r, "recording the takedown (the takedown itself was sent)", err)
			return
		}
		s.log.Info("article taken down", "tenant", t, "article", id, "revision", rev, "mode", req.Mode, "key_id", c.keyID)
		httpx.JSON(w, http.StatusAccepted, unpublishResponse{ID: id, Revision: rev, Status: doc.Status, Mode: req.Mode, Reason: reason, Event: env.Id})
		return
	}
	s.unavailable(w, r, "recording the takedown (the takedown itself was sent)", fmt.Errorf("status of %s kept changing", key))
}

// recordTakedown puts a takedown into the status. The status consumer may
// have recorded the same event first (as render's); then the entry gains
// who did it and the mode.
func (d *statusDoc) recordTakedown(e historyEntry) {
	for i, h := range d.History {
		if h.Event == e.Event {
			d.History[i] = e
			return
		}
	}
	d.History = append(d.History, e)
	if e.Revision == d.Revision || d.Status == statusPublished || d.Status == statusScheduled {
		d.Status, d.StatusAt = statusUnpublished, e.At
		d.Reasons = []string{e.Reason}
		d.ScheduledAt = nil
	}
	d.PublicURL, d.OnlineRevision = "", 0
	d.UpdatedAt = later(d.UpdatedAt, e.At)
}
