package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

// Limits of the smaller fields, which do not need tuning per deployment.
const (
	maxAuthor         = 200
	maxCaption        = 1000
	maxCredit         = 200
	maxSourceName     = 200
	maxSourceURL      = 2000
	maxIdempotencyKey = 200
)

// articleIDPattern is what newArticleID makes.
var articleIDPattern = regexp.MustCompile(`^[a-z0-9]{16}$`)

// articleIDEncoding is base32hex in lower case: its alphabet [0-9a-v] sorts
// like the bytes it encodes, so ids sort by creation time.
var articleIDEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// newArticleID is 6 bytes of unix milliseconds and 4 random bytes: 16
// characters, unique without coordination between replicas.
func newArticleID(now time.Time) string {
	var b [10]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(b[:6], ms[2:])
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	return articleIDEncoding.EncodeToString(b[:])
}

// articleRequest is what an editor sends. Body blocks share one struct; which
// fields a block may carry depends on its type and is checked in validate.
type articleRequest struct {
	// Status is "draft" to store without submitting, or "submitted"/"" to submit.
	Status       string `json:"status"`
	BaseRevision *int64 `json:"base_revision"`
	// Revision is accepted and ignored: GET answers the content with it, and
	// a client may send that content back as it is.
	Revision     int64          `json:"revision"`
	Category     string         `json:"category"`
	Title        string         `json:"title"`
	Lead         string         `json:"lead"`
	Body         []blockRequest `json:"body"`
	Author       string         `json:"author"`
	Source       *sourceRequest `json:"source"`
	Tags         []string       `json:"tags"`
	ScheduledAt  string         `json:"scheduled_at"`
	TimeZone     string         `json:"time_zone"`
	PublishedAt  *string        `json:"published_at"`
	InitialViews *int64         `json:"initial_views"`
}

type blockRequest struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Media   string `json:"media"`
	Caption string `json:"caption"`
	Credit  string `json:"credit"`
}

type sourceRequest struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// importFields names what the request sets that only a legacy import may.
func (a *articleRequest) importFields() []string {
	var f []string
	if a.PublishedAt != nil {
		f = append(f, "published_at")
	}
	if a.InitialViews != nil {
		f = append(f, "initial_views")
	}
	return f
}

// normalize puts every text into NFC and trims it.
func (a *articleRequest) normalize() {
	a.Category = strings.TrimSpace(a.Category)
	a.Title = clean(a.Title)
	a.Lead = clean(a.Lead)
	a.Author = clean(a.Author)
	for i := range a.Body {
		b := &a.Body[i]
		b.Type = strings.TrimSpace(b.Type)
		b.Text = clean(b.Text)
		b.Media = strings.TrimSpace(b.Media)
		b.Caption = clean(b.Caption)
		b.Credit = clean(b.Credit)
	}
	if a.Source != nil {
		a.Source.Name = clean(a.Source.Name)
		a.Source.URL = strings.TrimSpace(a.Source.URL)
	}
	a.Status = strings.TrimSpace(a.Status)
	a.ScheduledAt = strings.TrimSpace(a.ScheduledAt)
	a.TimeZone = strings.TrimSpace(a.TimeZone)
	a.Tags = normalizeTags(a.Tags)
	// Zero values mean "not set", so clients that always serialise every
	// field (published_at "", initial_views 0) are not taken for imports.
	if a.PublishedAt != nil {
		if *a.PublishedAt = strings.TrimSpace(*a.PublishedAt); *a.PublishedAt == "" {
			a.PublishedAt = nil
		}
	}
	if a.InitialViews != nil && *a.InitialViews == 0 {
		a.InitialViews = nil
	}
}

// limits are the configured bounds validate checks.
type limits struct {
	title, lead, paragraph, blocks, images int
	tags, tagChars                         int
}

func (c Config) limits() limits {
	return limits{title: c.MaxTitle, lead: c.MaxLead, paragraph: c.MaxParagraph, blocks: c.MaxBlocks, images: c.MaxImages,
		tags: c.MaxTags, tagChars: c.MaxTagChars}
}

// validate checks a normalised request against the tenant and the limits,
// returning every problem at once. mediaExists is asked about each distinct,
// well-formed media id, only when the image count is within its limit.
func (a *articleRequest) validate(ctx context.Context, t *tenant.Tenant, lim limits, mediaExists func(context.Context, string) (bool, error)) ([]httpx.FieldError, error) {
	var errs []httpx.FieldError
	add := func(field, msg string, limit any) {
		errs = append(errs, httpx.FieldError{Field: field, Message: msg, Limit: limit})
	}
	maxRunes := func(field, s string, n int) {
		if c := utf8.RuneCountInString(s); c > n {
			add(field, fmt.Sprintf("must be at most %d characters, got %d", n, c), n)
		}
	}

	if a.Title == "" {
		add("title", "is required", nil)
	}
	maxRunes("title", a.Title, lim.title)
	maxRunes("lead", a.Lead, lim.lead)
	maxRunes("author", a.Author, maxAuthor)

	if a.Category == "" {
		add("category", "is required; one of: "+categoryList(t), nil)
	} else if _, ok := t.Category(a.Category); !ok {
		add("category", fmt.Sprintf("unknown category %q; one of: %s", a.Category, categoryList(t)), nil)
	}

	if a.Source != nil {
		maxRunes("source.name", a.Source.Name, maxSourceName)
		if a.Source.URL != "" {
			if len(a.Source.URL) > maxSourceURL {
				add("source.url", fmt.Sprintf("must be at most %d bytes", maxSourceURL), maxSourceURL)
			} else if u, err := url.Parse(a.Source.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add("source.url", "must be an absolute http:// or https:// URL", nil)
			}
		}
	}

	if a.PublishedAt != nil {
		if _, err := time.Parse(time.RFC3339, *a.PublishedAt); err != nil {
			add("published_at", "must be an RFC 3339 time, e.g. 2019-04-24T15:55:40+07:00", nil)
		}
	}
	if a.InitialViews != nil && *a.InitialViews < 0 {
		add("initial_views", "must not be negative", 0)
	}

	switch {
	case len(a.Body) == 0:
		add("body", "must have at least one block", nil)
	case len(a.Body) > lim.blocks:
		add("body", fmt.Sprintf("must have at most %d blocks, got %d", lim.blocks, len(a.Body)), lim.blocks)
	}
	images := 0
	var media []int // indexes of image blocks with a well-formed id
	for i, b := range a.Body {
		field := "body[" + strconv.Itoa(i) + "]"
		switch b.Type {
		case "paragraph":
			if b.Text == "" {
				add(field+".text", "is required", nil)
			}
			maxRunes(field+".text", b.Text, lim.paragraph)
			if b.Media != "" || b.Caption != "" || b.Credit != "" {
				add(field, "a paragraph has only text; media, caption and credit belong to an image block", nil)
			}
		case "image":
			images++
			if b.Text != "" {
				add(field+".text", "an image block has a caption, not text", nil)
			}
			switch {
			case b.Media == "":
				add(field+".media", "is required: the id returned by POST /v1/tenants/"+t.ID+"/media", nil)
			case !mediaIDPattern.MatchString(b.Media):
				add(field+".media", "must be a media id (64 lower-case hex digits)", nil)
			default:
				media = append(media, i)
			}
			maxRunes(field+".caption", b.Caption, maxCaption)
			maxRunes(field+".credit", b.Credit, maxCredit)
		case "":
			add(field+".type", `is required: "paragraph" or "image"`, nil)
		default:
			add(field+".type", fmt.Sprintf(`unknown block type %q: "paragraph" or "image"`, b.Type), nil)
		}
	}
	if images > lim.images {
		add("body", fmt.Sprintf("must have at most %d images, got %d", lim.images, images), lim.images)
		return errs, nil
	}
	known := map[string]bool{}
	for _, i := range media {
		id := a.Body[i].Media
		ok, seen := known[id]
		if !seen {
			var err error
			if ok, err = mediaExists(ctx, id); err != nil {
				return nil, err
			}
			known[id] = ok
		}
		if !ok {
			add("body["+strconv.Itoa(i)+"].media", "unknown media id, upload it first", nil)
		}
	}
	return errs, nil
}

func categoryList(t *tenant.Tenant) string {
	slugs := make([]string, len(t.Categories))
	for i, c := range t.Categories {
		slugs[i] = c.Slug
	}
	return strings.Join(slugs, ", ")
}

// article builds revision 1 of a validated request.
func (a *articleRequest) article(id string, submitted time.Time) *eventsv1.Article {
	art := &eventsv1.Article{
		Id:          id,
		Revision:    1,
		Category:    a.Category,
		Title:       a.Title,
		Lead:        a.Lead,
		Author:      a.Author,
		SubmittedAt: timestamppb.New(submitted),
	}
	for _, b := range a.Body {
		switch b.Type {
		case "paragraph":
			art.Body = append(art.Body, &eventsv1.Block{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: b.Text}}})
		case "image":
			art.Body = append(art.Body, &eventsv1.Block{Kind: &eventsv1.Block_Image{Image: &eventsv1.Image{
				MediaId: b.Media, Caption: b.Caption, Credit: b.Credit}}})
		}
	}
	if a.Source != nil && (a.Source.Name != "" || a.Source.URL != "") {
		art.Source = &eventsv1.Source{Name: a.Source.Name, Url: a.Source.URL}
	}
	art.Tags = a.Tags
	if at, err := parseSchedule(a.ScheduledAt, a.TimeZone); err == nil && !at.IsZero() {
		art.ScheduledAt = timestamppb.New(at)
	}
	if a.PublishedAt != nil {
		if t, err := time.Parse(time.RFC3339, *a.PublishedAt); err == nil {
			art.PublishedAt = timestamppb.New(t)
		}
	}
	if a.InitialViews != nil {
		art.InitialViews = *a.InitialViews
	}
	return art
}

// mediaIDs are the distinct photos an article shows, in order.
func mediaIDs(art *eventsv1.Article) []string {
	var ids []string
	seen := map[string]bool{}
	for _, b := range art.GetBody() {
		if id := b.GetImage().GetMediaId(); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// revisionKey is where a revision document is stored.
func revisionKey(tenantID, articleID string, revision int64) string {
	return "content/" + tenantID + "/" + articleID + "/" + strconv.FormatInt(revision, 10) + ".json"
}

func (s *service) articleStatusURL(tenantID, articleID string) string {
	return s.cfg.PublicURL + "/v1/tenants/" + tenantID + "/articles/" + articleID
}

type submitResponse struct {
	ID        string `json:"id"`
	Revision  int64  `json:"revision"`
	StatusURL string `json:"status_url"`
}

// handleCreateArticle validates an article and submits its first revision:
// revision document in S3, then the status document, then article.submitted.
// With an Idempotency-Key, a retry returns the first attempt's article and
// finishes whatever steps that attempt did not.
func (s *service) handleCreateArticle(w http.ResponseWriter, r *http.Request, c *caller) {
	idemKey := r.Header.Get("Idempotency-Key")
	if len(idemKey) > maxIdempotencyKey {
		httpx.Error(w, http.StatusBadRequest, "the Idempotency-Key header is too long",
			httpx.FieldError{Field: "Idempotency-Key", Message: fmt.Sprintf("must be at most %d characters", maxIdempotencyKey), Limit: maxIdempotencyKey})
		return
	}
	var req articleRequest
	if isMultipart(r) {
		if !s.decodeMultipartArticle(w, r, c, &req) {
			return
		}
	} else if !s.decodeArticle(w, r, &req) {
		return
	}
	if req.BaseRevision != nil && *req.BaseRevision != 0 {
		httpx.Error(w, http.StatusUnprocessableEntity, "base_revision belongs to an update (PUT) of an existing article",
			httpx.FieldError{Field: "base_revision", Message: "must not be set on create"})
		return
	}
	if !s.checkArticle(w, r, c, &req, time.Now()) {
		return
	}
	draft := req.Status == statusDraft

	now := time.Now().UTC()
	id := newArticleID(now)
	if idemKey != "" {
		ikey := c.tenant.ID + "." + apikey.Hash(idemKey) // a hex SHA-256, like an API key's bucket key
		if _, err := s.idempotency.Create(r.Context(), ikey, []byte(id)); errors.Is(err, jetstream.ErrKeyExists) {
			e, err := s.idempotency.Get(r.Context(), ikey)
			if err != nil {
				s.unavailable(w, r, "reading the Idempotency-Key", err)
				return
			}
			s.resubmit(w, r, c, string(e.Value()), &req, now, draft)
			return
		} else if err != nil {
			s.unavailable(w, r, "storing the Idempotency-Key", err)
			return
		}
	}
	s.submit(w, r, c, req.article(id, now), false, draft)
}

// decodeArticle reads a JSON article body, answering 400 or 413 (naming the
// limit) when it cannot.
func (s *service) decodeArticle(w http.ResponseWriter, r *http.Request, req *articleRequest) bool {
	code, err := httpx.DecodeJSON(w, r, s.cfg.MaxBodyBytes, req)
	if err == nil {
		return true
	}
	var fields []httpx.FieldError
	if code == http.StatusRequestEntityTooLarge {
		fields = append(fields, httpx.FieldError{Field: "body", Message: err.Error(), Limit: s.cfg.MaxBodyBytes})
	}
	httpx.Error(w, code, err.Error(), fields...)
	return false
}

// checkArticle normalises and validates a decoded article for create or
// update, answering 403 or 422 with every problem when it is not acceptable.
func (s *service) checkArticle(w http.ResponseWriter, r *http.Request, c *caller, req *articleRequest, now time.Time) bool {
	req.normalize()
	if f := req.importFields(); len(f) > 0 && c.role != apikey.RoleAdmin {
		httpx.Error(w, http.StatusForbidden,
			strings.Join(f, " and ")+" may only be set by an admin key, for importing published articles; an editor key must leave them out")
		return false
	}
	fieldErrs, err := req.validate(r.Context(), c.tenant, s.cfg.limits(), func(ctx context.Context, id string) (bool, error) {
		_, err := s.blob.Stat(ctx, originalKey(c.tenant.ID, id))
		if errors.Is(err, blob.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		s.unavailable(w, r, "checking the article's photos", err)
		return false
	}
	fieldErrs = append(fieldErrs, req.validateRevisionFields(s.cfg.limits(), now)...)
	if len(fieldErrs) > 0 {
		httpx.Error(w, http.StatusUnprocessableEntity, fmt.Sprintf("the article has %d problem(s); nothing was stored", len(fieldErrs)), fieldErrs...)
		return false
	}
	return true
}

// defaultTimeZone is where the bloc's newsrooms are; a local scheduled_at
// without time_zone is read there.
const defaultTimeZone = "Asia/Ho_Chi_Minh"

// localLayouts are the forms of a scheduled_at without an offset, as an
// <input type="datetime-local"> sends it.
var localLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04"}

var errBadSchedule = errors.New(`must be an RFC 3339 time or a local "YYYY-MM-DDTHH:MM"`)

// parseSchedule reads scheduled_at in zone (default Asia/Ho_Chi_Minh); the
// zero time when it is empty.
func parseSchedule(value, zone string) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, value); err == nil {
		return t.UTC(), nil
	}
	loc, err := loadZone(zone)
	if err != nil {
		return time.Time{}, err
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, value, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errBadSchedule
}

func loadZone(zone string) (*time.Location, error) {
	if zone == "" {
		zone = defaultTimeZone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: %w", zone, err)
	}
	return loc, nil
}

// normalizeTags puts tags into NFC, drops empty ones and repeats (the same
// tag in another case counts as a repeat), keeping the first spelling.
func normalizeTags(tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.Join(strings.Fields(clean(t)), " ")
		k := strings.ToLower(t)
		if t == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}

// validateRevisionFields checks what validate does not: status, tags and
// the schedule, which must be after now.
func (a *articleRequest) validateRevisionFields(lim limits, now time.Time) []httpx.FieldError {
	var errs []httpx.FieldError
	add := func(field, msg string, limit any) {
		errs = append(errs, httpx.FieldError{Field: field, Message: msg, Limit: limit})
	}
	switch a.Status {
	case "", statusDraft, statusSubmitted:
	default:
		add("status", fmt.Sprintf(`unknown status %q: "draft" or "submitted"`, a.Status), nil)
	}
	if len(a.Tags) > lim.tags {
		add("tags", fmt.Sprintf("must have at most %d tags, got %d", lim.tags, len(a.Tags)), lim.tags)
	}
	for i, t := range a.Tags {
		if n := utf8.RuneCountInString(t); n > lim.tagChars {
			add("tags["+strconv.Itoa(i)+"]", fmt.Sprintf("must be at most %d characters, got %d", lim.tagChars, n), lim.tagChars)
		}
	}
	if _, err := loadZone(a.TimeZone); err != nil {
		add("time_zone", "must be an IANA time zone such as "+defaultTimeZone, nil)
	} else if at, err := parseSchedule(a.ScheduledAt, a.TimeZone); err != nil {
		add("scheduled_at", err.Error(), nil)
	} else if !at.IsZero() && !at.After(now) {
		add("scheduled_at", "must be in the future, after "+now.UTC().Format(time.RFC3339), nil)
	}
	return errs
}

// resubmit answers a repeated Idempotency-Key with the article the first
// request created. If that request stopped part-way (crash, NATS down), the
// missing steps are done now: the revision document from this request's
// identical content if it was never written, the status document if
// missing, and the event again (JetStream's dedupe drops it if it had gone).
func (s *service) resubmit(w http.ResponseWriter, r *http.Request, c *caller, id string, req *articleRequest, now time.Time, draft bool) {
	if !articleIDPattern.MatchString(id) {
		s.unavailable(w, r, "reading the Idempotency-Key", fmt.Errorf("idempotency entry holds %q, not an article id", id))
		return
	}
	b, err := s.blob.GetBytes(r.Context(), revisionKey(c.tenant.ID, id, 1), 4*s.cfg.MaxBodyBytes)
	var art *eventsv1.Article
	switch {
	case errors.Is(err, blob.ErrNotFound):
		art = req.article(id, now)
	case err != nil:
		s.unavailable(w, r, "reading the revision document", err)
		return
	default:
		art = &eventsv1.Article{}
		if err := protojson.Unmarshal(b, art); err != nil {
			s.unavailable(w, r, "decoding the revision document", err)
			return
		}
	}
	s.submit(w, r, c, art, true, draft)
}

// submit stores and announces revision 1 (a draft is stored only). Each
// step is idempotent, so a retry may run it again over a partial first
// attempt.
func (s *service) submit(w http.ResponseWriter, r *http.Request, c *caller, art *eventsv1.Article, retry, draft bool) {
	t := c.tenant.ID
	doc, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(art)
	if err != nil {
		s.unavailable(w, r, "encoding the revision document", err)
		return
	}
	if !retry || !s.exists(r.Context(), revisionKey(t, art.GetId(), art.GetRevision())) {
		if err := s.blob.PutBytes(r.Context(), revisionKey(t, art.GetId(), art.GetRevision()), doc, "application/json"); err != nil {
			s.unavailable(w, r, "storing the revision document", err)
			return
		}
	}
	st := newStatusDoc(t, art, c.who())
	if draft {
		st.Status, st.History[0].Status = statusDraft, statusDraft
	}
	// The key exists only if a concurrent or earlier attempt with the same
	// Idempotency-Key wrote it, and then it may be further along: keep it.
	if _, err := s.articles.Create(r.Context(), t+"."+art.GetId(), st.encode()); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		s.unavailable(w, r, "storing the article status", err)
		return
	}

	if draft {
		s.log.Info("draft saved", "tenant", t, "article", art.GetId(), "revision", art.GetRevision(), "key_id", c.keyID)
		httpx.JSON(w, http.StatusCreated, submitResponse{ID: art.GetId(), Revision: art.GetRevision(), StatusURL: s.articleStatusURL(t, art.GetId())})
		return
	}
	// A retry after the article moved on (moderated, published) answers
	// without announcing it again: past JetStream's dedupe window a second
	// article.submitted would send it through moderation twice.
	if retry {
		if cur, _, err := s.readStatus(r.Context(), t, art.GetId()); err == nil && cur.Status != statusSubmitted {
			httpx.JSON(w, http.StatusAccepted, submitResponse{ID: art.GetId(), Revision: art.GetRevision(), StatusURL: s.articleStatusURL(t, art.GetId())})
			return
		}
	}

	pctx, cancel := publishCtx(r.Context())
	defer cancel()
	if err := s.announce(pctx, t, art); err != nil {
		s.log.Error("article stored but not announced", "tenant", t, "article", art.GetId(), "err", err)
		w.Header().Set("Retry-After", "5")
		httpx.Error(w, http.StatusServiceUnavailable,
			"the article "+art.GetId()+" was stored but could not be queued for review; retry with the same Idempotency-Key")
		return
	}
	s.log.Info("article submitted", "tenant", t, "article", art.GetId(), "revision", art.GetRevision(), "retry", retry, "key_id", c.keyID)
	httpx.JSON(w, http.StatusAccepted, submitResponse{ID: art.GetId(), Revision: art.GetRevision(), StatusURL: s.articleStatusURL(t, art.GetId())})
}

// announce publishes article.submitted for a stored revision; its id makes
// a repeat within the dedupe window harmless.
func (s *service) announce(ctx context.Context, tenantID string, art *eventsv1.Article) error {
	return s.bus.Publish(ctx, &eventsv1.Envelope{
		Id:            fmt.Sprintf("%s.%s.%d.submitted", tenantID, art.GetId(), art.GetRevision()),
		Type:          bus.TypeArticleSubmitted,
		Tenant:        tenantID,
		OccurredAt:    art.GetSubmittedAt(),
		CorrelationId: art.GetId(),
		Payload:       &eventsv1.Envelope_ArticleSubmitted{ArticleSubmitted: &eventsv1.ArticleSubmitted{Article: art}},
	})
}

// who names the caller in history entries.
func (c *caller) who() string { return "key " + c.keyID + " (" + c.role + ")" }

// exists reports whether an object is stored; an error counts as absent, so
// the caller writes it (writes of deterministic keys are safe to repeat).
func (s *service) exists(ctx context.Context, key string) bool {
	_, err := s.blob.Stat(ctx, key)
	return err == nil
}

// handleGetArticle reports an article's status, with its photos' status read
// from their manifests now.
func (s *service) handleGetArticle(w http.ResponseWriter, r *http.Request, c *caller) {
	id := r.PathValue("id")
	if !articleIDPattern.MatchString(id) {
		httpx.Error(w, http.StatusBadRequest, "an article id is 16 lower-case letters and digits",
			httpx.FieldError{Field: "id", Message: "must match [a-z0-9]{16}"})
		return
	}
	doc, _, ok := s.answerStatus(w, r, c.tenant.ID, id)
	if !ok {
		return
	}
	view := viewOf(doc)
	// A missing document (never the case for revisions saved by this code,
	// which writes it before the status) leaves out the content rather
	// than hiding the status.
	switch art, err := s.readRevision(r.Context(), c.tenant.ID, id, doc.Revision); {
	case errors.Is(err, blob.ErrNotFound):
		s.log.Warn("the current revision's document is missing", "tenant", c.tenant.ID, "article", id, "revision", doc.Revision)
	case err != nil:
		s.unavailable(w, r, "reading the current revision", err)
		return
	default:
		view.Article = contentOf(art)
	}
	w.Header().Set("ETag", etag(doc.Revision))
	for _, m := range doc.MediaIDs {
		ms, err := s.mediaStatus(r.Context(), c.tenant.ID, m)
		if err != nil {
			s.unavailable(w, r, "reading a photo's manifest", err)
			return
		}
		view.Media = append(view.Media, mediaStatusView{ID: m, Status: ms.Status, Reason: ms.Reason})
	}
	httpx.JSON(w, http.StatusOK, view)
}
