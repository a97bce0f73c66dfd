package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Ho_Chi_Minh even on hosts without a zoneinfo database

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/httpx"
)

// Revisions. Each revision is an immutable S3 document; the status entry in
// the articles bucket says which one is current. A new revision is saved in
// three steps, so that two editors saving the same base at once get exactly
// one new revision and a crash never leaves the status pointing to a
// missing document:
//
//  1. claim: compare-and-set the status entry (on its KV revision) with a
//     Pending claim of revision n+1. Of two concurrent saves of base n,
//     exactly one claim succeeds; the other sees the claim or revision
//     n+1 when it reads again, and answers 409.
//  2. write content/<t>/<id>/<n+1>.json. Only the claimant writes it, so
//     the document is never overwritten by a losing request.
//  3. compare-and-set the status to revision n+1, dropping the claim (in a
//     loop, since the status consumer may update the entry meanwhile).
//
// A crash after 1 leaves a claim that expires after claimTTL; a crash after
// 2 leaves an unreferenced document that the next save of n+1 overwrites.
// The claimant's write is bounded by a deadline well before the claim
// expires, so it cannot land after another request has taken the claim over.

// claimTTL is how long a claim blocks other saves of the same article.
const claimTTL = 60 * time.Second

// pendingRevision is a claim on the next revision number.
type pendingRevision struct {
	Revision int64     `json:"revision"`
	Token    string    `json:"token"`
	At       time.Time `json:"at"`
}

// staleError is a save whose base is not the current revision, or that
// met another save in progress.
type staleError struct {
	current *statusDoc
	busy    bool
}

func (e *staleError) Error() string {
	if e.busy {
		return "another revision of the article is being saved"
	}
	return fmt.Sprintf("the current revision is %d", e.current.Revision)
}

// maxRevisionDoc bounds a revision document read back from S3: the request
// limit plus room for the encoding's field names.
func (s *service) maxRevisionDoc() int64 { return 4 * s.cfg.MaxBodyBytes }

// readRevision reads one stored revision.
func (s *service) readRevision(ctx context.Context, tenantID, articleID string, rev int64) (*eventsv1.Article, error) {
	b, err := s.blob.GetBytes(ctx, revisionKey(tenantID, articleID, rev), s.maxRevisionDoc())
	if err != nil {
		return nil, fmt.Errorf("reading revision %d of %s: %w", rev, articleID, err)
	}
	art := &eventsv1.Article{}
	if err := protojson.Unmarshal(b, art); err != nil {
		return nil, fmt.Errorf("decoding revision %d of %s: %w", rev, articleID, err)
	}
	return art, nil
}

// articleContent is a revision in the form create and PUT take, so a client
// can edit what GET returned and send it back.
type articleContent struct {
	Revision     int64          `json:"revision"`
	Category     string         `json:"category"`
	Title        string         `json:"title"`
	Lead         string         `json:"lead"`
	Body         []blockContent `json:"body"`
	Author       string         `json:"author,omitempty"`
	Source       *sourceRequest `json:"source,omitempty"`
	Tags         []string       `json:"tags,omitempty"`
	ScheduledAt  string         `json:"scheduled_at,omitempty"`
	TimeZone     string         `json:"time_zone,omitempty"`
	PublishedAt  string         `json:"published_at,omitempty"`
	InitialViews int64          `json:"initial_views,omitempty"`
}

type blockContent struct {
	Type    string `json:"type"`
	Text    string `json:"text,omitempty"`
	Media   string `json:"media,omitempty"`
	Caption string `json:"caption,omitempty"`
	Credit  string `json:"credit,omitempty"`
}

// contentOf turns a stored revision into its editable form; times are
// given in the newsroom's zone, as the editor typed them.
func contentOf(art *eventsv1.Article) *articleContent {
	loc, _ := loadZone("") // embedded by time/tzdata: never fails
	c := &articleContent{
		Revision: art.GetRevision(), Category: art.GetCategory(), Title: art.GetTitle(), Lead: art.GetLead(),
		Author: art.GetAuthor(), Tags: art.GetTags(), Body: []blockContent{},
		InitialViews: art.GetInitialViews(),
	}
	for _, b := range art.GetBody() {
		if p := b.GetParagraph(); p != nil {
			c.Body = append(c.Body, blockContent{Type: "paragraph", Text: p.GetText()})
		} else if im := b.GetImage(); im != nil {
			c.Body = append(c.Body, blockContent{Type: "image", Media: im.GetMediaId(), Caption: im.GetCaption(), Credit: im.GetCredit()})
		}
	}
	if src := art.GetSource(); src != nil {
		c.Source = &sourceRequest{Name: src.GetName(), URL: src.GetUrl()}
	}
	if art.GetScheduledAt() != nil {
		c.ScheduledAt = art.GetScheduledAt().AsTime().In(loc).Format(time.RFC3339)
		c.TimeZone = defaultTimeZone
	}
	if art.GetPublishedAt() != nil {
		c.PublishedAt = art.GetPublishedAt().AsTime().In(loc).Format(time.RFC3339)
	}
	return c
}

func etag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

// ifMatch reads a revision from If-Match ("3", 3 or W/"3").
func ifMatch(r *http.Request) (int64, bool, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" {
		return 0, false, nil
	}
	v = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, true, fmt.Errorf("If-Match %q is not a revision number", r.Header.Get("If-Match"))
	}
	return n, true, nil
}

// baseRevision is the revision a write was made against: base_revision in
// the body, or If-Match. Answers 422 when neither (or a bad one) is given.
func baseRevision(w http.ResponseWriter, r *http.Request, body *int64) (int64, bool) {
	h, hasHeader, err := ifMatch(r)
	switch {
	case err != nil:
		httpx.Error(w, http.StatusUnprocessableEntity, err.Error(), httpx.FieldError{Field: "If-Match", Message: `must be a revision number such as "3"`})
		return 0, false
	case body != nil && *body >= 1:
		if hasHeader && h != *body {
			httpx.Error(w, http.StatusUnprocessableEntity, "base_revision and If-Match disagree",
				httpx.FieldError{Field: "base_revision", Message: fmt.Sprintf("is %d but If-Match says %d", *body, h)})
			return 0, false
		}
		return *body, true
	case hasHeader:
		return h, true
	}
	httpx.Error(w, http.StatusUnprocessableEntity, "say which revision you edited: base_revision in the body or If-Match",
		httpx.FieldError{Field: "base_revision", Message: "is required (the revision you edited, at least 1)", Limit: 1})
	return 0, false
}

// answerStatus reads an article's status for a handler. When there is no
// such article (404) or the store fails (503) it has answered the request
// itself and ok is false.
func (s *service) answerStatus(w http.ResponseWriter, r *http.Request, tenantID, articleID string) (doc *statusDoc, kvRev uint64, ok bool) {
	doc, kvRev, err := s.readStatus(r.Context(), tenantID, articleID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		httpx.Error(w, http.StatusNotFound, "no article "+articleID+" in tenant "+tenantID)
		return nil, 0, false
	}
	if err != nil {
		s.unavailable(w, r, "reading the article status", err)
		return nil, 0, false
	}
	return doc, kvRev, true
}

// articleID reads and checks the {id} path value, answering 400 if bad.
func articleID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !articleIDPattern.MatchString(id) {
		httpx.Error(w, http.StatusBadRequest, "an article id is 16 lower-case letters and digits",
			httpx.FieldError{Field: "id", Message: "must match [a-z0-9]{16}"})
		return "", false
	}
	return id, true
}

// saveRevision stores the revision build makes from the current status
// (see the steps above) and, unless build says it is a draft, announces it.
// build is given the status read before the claim's compare-and-set and
// returns the content; saveRevision numbers it.
func (s *service) saveRevision(ctx context.Context, c *caller, id string, base int64,
	build func(cur *statusDoc) (art *eventsv1.Article, draft bool, err error)) (*statusDoc, *eventsv1.Article, error) {
	t := c.tenant.ID
	key := t + "." + id
	tok := make([]byte, 8)
	_, _ = rand.Read(tok) // crypto/rand.Read never fails
	claim := &pendingRevision{Revision: base + 1, Token: hex.EncodeToString(tok)}

	var (
		art   *eventsv1.Article
		draft bool
	)
	for attempt := 0; ; attempt++ {
		if attempt == maxStatusUpdates {
			return nil, nil, fmt.Errorf("status of %s kept changing during %d claims", key, maxStatusUpdates)
		}
		doc, kvRev, err := s.readStatus(ctx, t, id)
		if err != nil {
			return nil, nil, err
		}
		now := time.Now().UTC()
		if doc.Revision != base {
			return nil, nil, &staleError{current: doc}
		}
		if doc.Pending != nil && now.Sub(doc.Pending.At) < claimTTL {
			return nil, nil, &staleError{current: doc, busy: true}
		}
		if art == nil {
			if art, draft, err = build(doc); err != nil {
				return nil, nil, err
			}
		}
		claim.At = now
		doc.Pending = claim
		if _, err = s.articles.Update(ctx, key, doc.encode(), kvRev); errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		} else if err != nil {
			return nil, nil, fmt.Errorf("claiming revision %d of %s: %w", base+1, key, err)
		}
		break
	}

	art.Id, art.Revision = id, base+1
	art.SubmittedAt = timestamppb.New(claim.At)
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(art)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding revision %d of %s: %w", art.Revision, key, err)
	}
	wctx, cancel := context.WithDeadline(ctx, claim.At.Add(claimTTL/2))
	err = s.blob.PutBytes(wctx, revisionKey(t, id, art.Revision), b, "application/json")
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("storing revision %d of %s: %w", art.Revision, key, err)
	}

	status := statusSubmitted
	if draft {
		status = statusDraft
	}
	by := c.who()
	for range maxStatusUpdates {
		doc, kvRev, err := s.readStatus(ctx, t, id)
		if err != nil {
			return nil, nil, err
		}
		if doc.Pending == nil || doc.Pending.Token != claim.Token {
			return nil, nil, fmt.Errorf("the claim on revision %d of %s expired before it was saved", art.Revision, key)
		}
		now := time.Now().UTC()
		doc.Pending = nil
		doc.Revision, doc.Title, doc.Category = art.Revision, art.GetTitle(), art.GetCategory()
		doc.Author, doc.Tags, doc.MediaIDs = art.GetAuthor(), art.GetTags(), mediaIDs(art)
		doc.Status, doc.StatusAt, doc.UpdatedAt = status, now, now
		doc.Reasons, doc.Notes, doc.ScheduledAt = nil, nil, nil
		doc.History = append(doc.History, historyEntry{Status: status, At: now, By: by, Revision: art.Revision})
		doc.Revisions = append(doc.Revisions, revisionEntry{Revision: art.Revision, At: now, By: by, Title: art.GetTitle()})
		if _, err := s.articles.Update(ctx, key, doc.encode(), kvRev); errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		} else if err != nil {
			return nil, nil, fmt.Errorf("saving revision %d of %s: %w", art.Revision, key, err)
		}
		if !draft {
			pctx, cancel := publishCtx(ctx)
			defer cancel()
			if err := s.announce(pctx, t, art); err != nil {
				return doc, art, fmt.Errorf("%w: %w", errNotAnnounced, err)
			}
		}
		return doc, art, nil
	}
	return nil, nil, fmt.Errorf("status of %s kept changing during %d updates", key, maxStatusUpdates)
}

// errNotAnnounced is a revision stored but not sent to moderation; POST
// …/submit with its number sends it.
var errNotAnnounced = errors.New("revision stored but not announced")

// answerSave answers a saveRevision: 202 (submitted) or 200 (draft) with
// the revision, 409 with the current article when stale.
func (s *service) answerSave(w http.ResponseWriter, r *http.Request, c *caller, id string, draft bool, art *eventsv1.Article, err error) {
	var stale *staleError
	switch {
	case errors.As(err, &stale):
		s.conflict(w, r, c, stale)
		return
	case errors.Is(err, jetstream.ErrKeyNotFound):
		httpx.Error(w, http.StatusNotFound, "no article "+id+" in tenant "+c.tenant.ID)
		return
	case errors.Is(err, errNotAnnounced):
		s.log.Error("revision stored but not announced", "tenant", c.tenant.ID, "article", id, "err", err)
		w.Header().Set("Retry-After", "5")
		httpx.Error(w, http.StatusServiceUnavailable, fmt.Sprintf(
			"revision %d of %s was stored but could not be queued for review; POST …/submit with base_revision %d",
			art.GetRevision(), id, art.GetRevision()))
		return
	case err != nil:
		s.unavailable(w, r, "saving the revision", err)
		return
	}
	w.Header().Set("ETag", etag(art.GetRevision()))
	code := http.StatusAccepted
	if draft {
		code = http.StatusOK
	}
	s.log.Info("revision saved", "tenant", c.tenant.ID, "article", id, "revision", art.GetRevision(), "draft", draft, "key_id", c.keyID)
	httpx.JSON(w, code, submitResponse{ID: id, Revision: art.GetRevision(), StatusURL: s.articleStatusURL(c.tenant.ID, id)})
}

// conflictProblem is a 409: the problem plus what the client needs to
// merge its edit into the current revision.
type conflictProblem struct {
	httpx.Problem
	CurrentRevision int64           `json:"current_revision"`
	Status          string          `json:"article_status"`
	Article         *articleContent `json:"article,omitempty"`
}

func (s *service) conflict(w http.ResponseWriter, r *http.Request, c *caller, e *staleError) {
	cur, err := s.readRevision(r.Context(), c.tenant.ID, e.current.ID, e.current.Revision)
	if err != nil {
		s.unavailable(w, r, "reading the current revision", err)
		return
	}
	detail := fmt.Sprintf("the article is at revision %d; merge your edit into it and send base_revision %d", e.current.Revision, e.current.Revision)
	fe := httpx.FieldError{Field: "base_revision", Message: fmt.Sprintf("must be the current revision, %d", e.current.Revision), Limit: e.current.Revision}
	if e.busy {
		detail = "another revision of the article is being saved right now; reload it and retry"
	}
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.Header().Set("ETag", etag(e.current.Revision))
	w.WriteHeader(http.StatusConflict)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(conflictProblem{
		Problem: httpx.Problem{Type: "about:blank", Title: http.StatusText(http.StatusConflict), Status: http.StatusConflict,
			Detail: detail, Errors: []httpx.FieldError{fe}},
		CurrentRevision: e.current.Revision, Status: e.current.Status, Article: contentOf(cur),
	})
}

// handlePutArticle saves a new revision of the whole article.
func (s *service) handlePutArticle(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := articleID(w, r)
	if !ok {
		return
	}
	var req articleRequest
	if !s.decodeArticle(w, r, &req) {
		return
	}
	base, ok := baseRevision(w, r, req.BaseRevision)
	if !ok {
		return
	}
	if c.role != apikey.RoleAdmin && len(req.importFields()) > 0 && !s.dropUnchangedImportFields(w, r, c, id, base, &req) {
		return
	}
	if !s.checkArticle(w, r, c, &req, time.Now()) {
		return
	}
	draft := req.Status == statusDraft
	_, art, err := s.saveRevision(r.Context(), c, id, base, func(cur *statusDoc) (*eventsv1.Article, bool, error) {
		art := req.article(id, time.Now())
		// An imported article keeps its original date and count when edited.
		if req.PublishedAt == nil || req.InitialViews == nil {
			prev, err := s.readRevision(r.Context(), c.tenant.ID, id, cur.Revision)
			if err != nil {
				return nil, false, err
			}
			if req.PublishedAt == nil {
				art.PublishedAt = prev.GetPublishedAt()
			}
			if req.InitialViews == nil {
				art.InitialViews = prev.GetInitialViews()
			}
		}
		return art, draft, nil
	})
	s.answerSave(w, r, c, id, draft, art, err)
}

// dropUnchangedImportFields lets an editor send back an imported article
// as GET gave it: published_at and initial_views equal to the base
// revision's are not a change, so they are not refused as admin-only (the
// PUT keeps them anyway). Answers and returns false on a storage error.
func (s *service) dropUnchangedImportFields(w http.ResponseWriter, r *http.Request, c *caller, id string, base int64, req *articleRequest) bool {
	prev, err := s.readRevision(r.Context(), c.tenant.ID, id, base)
	if errors.Is(err, blob.ErrNotFound) {
		return true // a stale or unknown base: saveRevision answers 409 or 404
	}
	if err != nil {
		s.unavailable(w, r, "reading the base revision", err)
		return false
	}
	if req.PublishedAt != nil && prev.GetPublishedAt() != nil {
		if t, err := time.Parse(time.RFC3339, strings.TrimSpace(*req.PublishedAt)); err == nil && t.Equal(prev.GetPublishedAt().AsTime()) {
			req.PublishedAt = nil
		}
	}
	if req.InitialViews != nil && *req.InitialViews == prev.GetInitialViews() {
		req.InitialViews = nil
	}
	return true
}

type revertRequest struct {
	Revision     int64  `json:"revision"`
	BaseRevision *int64 `json:"base_revision"`
}

// handleRevert saves a new revision with an earlier one's content. A draft
// stays a draft; anything else is submitted again.
func (s *service) handleRevert(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := articleID(w, r)
	if !ok {
		return
	}
	var req revertRequest
	if code, err := httpx.DecodeJSON(w, r, 4096, &req); err != nil {
		httpx.Error(w, code, err.Error())
		return
	}
	base, ok := baseRevision(w, r, req.BaseRevision)
	if !ok {
		return
	}
	if req.Revision < 1 || req.Revision >= base {
		httpx.Error(w, http.StatusUnprocessableEntity, "revert to an earlier revision",
			httpx.FieldError{Field: "revision", Message: fmt.Sprintf("must be between 1 and %d", base-1), Limit: base - 1})
		return
	}
	draft := false
	_, art, err := s.saveRevision(r.Context(), c, id, base, func(cur *statusDoc) (*eventsv1.Article, bool, error) {
		old, err := s.readRevision(r.Context(), c.tenant.ID, id, req.Revision)
		if err != nil {
			return nil, false, err
		}
		art := proto.Clone(old).(*eventsv1.Article)
		// A schedule that has passed would publish at once: drop it.
		if sa := art.GetScheduledAt(); sa != nil && !sa.AsTime().After(time.Now()) {
			art.ScheduledAt = nil
		}
		draft = cur.Status == statusDraft
		return art, draft, nil
	})
	s.answerSave(w, r, c, id, draft, art, err)
}

type submitRequest struct {
	BaseRevision *int64 `json:"base_revision"`
}

// handleSubmitDraft sends the current revision of a draft down the
// pipeline. Sent again for a submitted revision, it re-announces it (the
// way to finish a save whose announcement failed); deduplication by event
// id keeps moderation from seeing it twice.
func (s *service) handleSubmitDraft(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := articleID(w, r)
	if !ok {
		return
	}
	var req submitRequest
	if r.ContentLength != 0 {
		if code, err := httpx.DecodeJSON(w, r, 4096, &req); err != nil {
			httpx.Error(w, code, err.Error())
			return
		}
	}
	base, ok := baseRevision(w, r, req.BaseRevision)
	if !ok {
		return
	}
	t := c.tenant.ID
	key := t + "." + id
	for range maxStatusUpdates {
		doc, kvRev, ok := s.answerStatus(w, r, t, id)
		if !ok {
			return
		}
		if doc.Revision != base {
			s.conflict(w, r, c, &staleError{current: doc})
			return
		}
		if doc.Status != statusDraft && doc.Status != statusSubmitted {
			httpx.Error(w, http.StatusConflict, fmt.Sprintf("revision %d is %s, not a draft", doc.Revision, doc.Status),
				httpx.FieldError{Field: "status", Message: "must be draft to submit"})
			return
		}
		art, err := s.readRevision(r.Context(), t, id, doc.Revision)
		if err != nil {
			s.unavailable(w, r, "reading the revision", err)
			return
		}
		if doc.Status == statusDraft {
			now := time.Now().UTC()
			if sa := art.GetScheduledAt(); sa != nil && !sa.AsTime().After(now) {
				httpx.Error(w, http.StatusUnprocessableEntity, "the draft's scheduled time has passed; save it with a new one",
					httpx.FieldError{Field: "scheduled_at", Message: "must be in the future, after " + now.Format(time.RFC3339)})
				return
			}
			doc.Status, doc.StatusAt, doc.UpdatedAt = statusSubmitted, now, now
			doc.History = append(doc.History, historyEntry{Status: statusSubmitted, At: now, By: c.who(), Revision: doc.Revision})
			if _, err := s.articles.Update(r.Context(), key, doc.encode(), kvRev); errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
				continue
			} else if err != nil {
				s.unavailable(w, r, "updating the article status", err)
				return
			}
		}
		pctx, cancel := publishCtx(r.Context())
		defer cancel()
		if err := s.announce(pctx, t, art); err != nil {
			s.answerSave(w, r, c, id, false, art, fmt.Errorf("%w: %w", errNotAnnounced, err))
			return
		}
		s.answerSave(w, r, c, id, false, art, nil)
		return
	}
	s.unavailable(w, r, "updating the article status", fmt.Errorf("status of %s kept changing", key))
}

// handleListRevisions answers the revision history, oldest first.
func (s *service) handleListRevisions(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := articleID(w, r)
	if !ok {
		return
	}
	doc, _, ok := s.answerStatus(w, r, c.tenant.ID, id)
	if !ok {
		return
	}
	revs := doc.Revisions
	if len(revs) == 0 { // written before revisions were recorded
		revs = []revisionEntry{{Revision: doc.Revision, At: doc.StatusAt, Title: doc.Title}}
	}
	httpx.JSON(w, http.StatusOK, revs)
}

// handleGetRevision answers one revision's content.
func (s *service) handleGetRevision(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := articleID(w, r)
	if !ok {
		return
	}
	rev, err := strconv.ParseInt(r.PathValue("rev"), 10, 64)
	if err != nil || rev < 1 {
		httpx.Error(w, http.StatusBadRequest, "a revision is a number from 1", httpx.FieldError{Field: "rev", Message: "must be a positive integer"})
		return
	}
	doc, _, ok := s.answerStatus(w, r, c.tenant.ID, id)
	if !ok {
		return
	}
	if rev > doc.Revision {
		httpx.Error(w, http.StatusNotFound, fmt.Sprintf("article %s has revisions 1 to %d", id, doc.Revision))
		return
	}
	art, err := s.readRevision(r.Context(), c.tenant.ID, id, rev)
	if err != nil {
		s.unavailable(w, r, "reading the revision", err)
		return
	}
	w.Header().Set("ETag", etag(rev))
	httpx.JSON(w, http.StatusOK, contentOf(art))
}
