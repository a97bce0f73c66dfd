package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/tenant"
)

// The preview answers POST /v1/tenants/{tenant}/preview on render's internal
// port for the editor app (ingest) and the review desk: the body is an
// eventsv1.Article in protojson, the answer the article page exactly as it
// would be published now — same templates, lists as they would be with the
// article in its category — except that it is marked noindex, carries no
// view beacon, and a photo not resized yet still shows its caption and
// credit. A <base> pointing at the public site makes its links and photos
// (the site's rendition URLs) work wherever the preview is shown. Nothing is
// written: no page, no index entry, no event.

// Preview limits: the body is bounded before it is parsed; the text limits
// are ingest's defaults (ingest refuses longer articles anyway).
const (
	previewMaxBytes  = 2 << 20
	previewMaxTitle  = 300
	previewMaxBlocks = 500
	previewTimeout   = 10 * time.Second
	// previewID stands for the id of an article not saved yet.
	previewID = "xemtruoc"
)

func (r *Renderer) handlePreview(w http.ResponseWriter, req *http.Request) {
	tid := req.PathValue("tenant")
	if err := tenant.ValidateID(tid); err != nil {
		httpx.Error(w, http.StatusBadRequest, "mã đơn vị không hợp lệ",
			httpx.FieldError{Field: "tenant", Message: err.Error(), Limit: "[a-z0-9-]{2,32}"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, previewMaxBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		httpx.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("nội dung yêu cầu vượt quá %d byte", previewMaxBytes),
			httpx.FieldError{Field: "body", Message: "quá lớn", Limit: previewMaxBytes})
		return
	}
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, "không đọc được nội dung yêu cầu", httpx.FieldError{Field: "body", Message: err.Error()})
		return
	}
	a := &eventsv1.Article{}
	if err := protojson.Unmarshal(body, a); err != nil {
		httpx.Error(w, http.StatusBadRequest, "nội dung không phải một bài viết JSON hợp lệ",
			httpx.FieldError{Field: "body", Message: err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), previewTimeout)
	defer cancel()
	t, err := r.tenants.Get(ctx, tid)
	if errors.Is(err, tenant.ErrNotFound) {
		httpx.Error(w, http.StatusNotFound, "không có đơn vị "+tid, httpx.FieldError{Field: "tenant", Message: "không tồn tại"})
		return
	}
	if err != nil {
		httpx.Error(w, http.StatusServiceUnavailable, "không đọc được cấu hình đơn vị: "+err.Error())
		return
	}
	if fields := previewProblems(t, a); len(fields) > 0 {
		httpx.Error(w, http.StatusUnprocessableEntity, "bài viết chưa xem trước được", fields...)
		return
	}
	page, err := r.preview(ctx, t, a)
	if err != nil {
		httpx.Error(w, http.StatusServiceUnavailable, "không dựng được trang xem trước: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", htmlType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Robots-Tag", "noindex")
	_, _ = w.Write(page)
}

// previewProblems are what keeps an article from being previewed, each
// naming its field (protojson's names) and the limit.
func previewProblems(t *tenant.Tenant, a *eventsv1.Article) []httpx.FieldError {
	var out []httpx.FieldError
	if a.GetId() != "" && !articleIDPattern.MatchString(a.GetId()) {
		out = append(out, httpx.FieldError{Field: "id", Message: "mã bài chỉ gồm chữ thường và số", Limit: "[a-z0-9]{1,64}"})
	}
	if a.GetRevision() < 0 {
		out = append(out, httpx.FieldError{Field: "revision", Message: "phiên bản phải là số dương", Limit: 1})
	}
	if _, ok := t.Category(a.GetCategory()); !ok {
		out = append(out, httpx.FieldError{Field: "category", Message: "chuyên mục không có trong cấu hình của đơn vị"})
	}
	switch title := strings.TrimSpace(a.GetTitle()); {
	case title == "":
		out = append(out, httpx.FieldError{Field: "title", Message: "cần có tiêu đề"})
	case utf8.RuneCountInString(title) > previewMaxTitle:
		out = append(out, httpx.FieldError{Field: "title", Message: "tiêu đề quá dài", Limit: previewMaxTitle})
	}
	if len(a.GetBody()) > previewMaxBlocks {
		out = append(out, httpx.FieldError{Field: "body", Message: "quá nhiều đoạn và ảnh", Limit: previewMaxBlocks})
	}
	for i, b := range a.GetBody() {
		if img := b.GetImage(); img != nil && !mediaIDPattern.MatchString(img.GetMediaId()) {
			out = append(out, httpx.FieldError{Field: fmt.Sprintf("body[%d].image.media_id", i),
				Message: "mã ảnh phải là SHA-256 dạng hex", Limit: "[0-9a-f]{64}"})
		}
	}
	return out
}

// preview renders a's page as publishing it now would.
func (r *Renderer) preview(ctx context.Context, t *tenant.Tenant, a *eventsv1.Article) ([]byte, error) {
	a = proto.Clone(a).(*eventsv1.Article)
	if a.GetId() == "" {
		a.Id = previewID
	}
	if a.GetRevision() == 0 {
		a.Revision = 1
	}
	tid := t.ID
	figures, og, thumb, err := r.previewFigures(ctx, tid, a)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	idx, err := r.cache.get(ctx, tid)
	if err == nil {
		idx = idx.clone() // the cache's map is shared; this copy is ours
	}
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	published := r.now()
	updated := published
	switch prev, had := idx[a.GetId()]; {
	case a.GetPublishedAt() != nil:
		published = a.GetPublishedAt().AsTime()
	case had:
		published = prev.PublishedAt
	case a.GetScheduledAt() != nil:
		published = a.GetScheduledAt().AsTime()
	}
	if updated.Before(published) {
		updated = published
	}
	s := site{t: t, siteURL: r.siteURL, viewsURL: r.viewsURL}
	b := build(s, r.viewsURL, a, published, updated, figures, og, thumb)
	b.view.Preview = true
	idx[a.GetId()] = indexEntry{Summary: b.sum}
	m := newModel(s, idx, r.now())
	p := m.articlePage(b.view, b.sum, &b.og)
	p.NoIndex = true
	// Nothing is asked of view-counter: the boxes keep their fallback.
	p.Aside.MostReadURL, p.Aside.TitlesURL = "", ""
	p.Base = r.siteURL + "/"
	p.Title = "Xem trước: " + p.Title
	return execute(r.pages.article, p)
}

// previewFigures are the article's photos as its page would show them; a
// photo without usable renditions yet keeps its caption and credit.
func (r *Renderer) previewFigures(ctx context.Context, tid string, a *eventsv1.Article) ([]*figureView, openGraph, string, error) {
	manifests, err := r.manifests(ctx, tid, a, false, r.log)
	if err != nil {
		return nil, openGraph{}, "", err
	}
	figs, og, thumb := figuresOf(tid, a, manifests, r.log)
	i := 0
	for _, b := range a.GetBody() {
		img := b.GetImage()
		if img == nil {
			continue
		}
		if figs[i] == nil {
			figs[i] = &figureView{Caption: strings.TrimSpace(img.GetCaption()), Credit: strings.TrimSpace(img.GetCredit())}
		}
		i++
	}
	return figs, og, thumb, nil
}
