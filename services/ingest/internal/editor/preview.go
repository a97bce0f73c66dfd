package editor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

// maxPreviewBytes bounds a preview page read from render.
const maxPreviewBytes = 8 << 20

// errRenderDown is render not answering, as opposed to refusing the article.
var errRenderDown = errors.New("render is unreachable")

// protoArticle builds the event's article from the form's document, as
// ingest would put it in article.submitted, so render draws it the same.
func (a *App) protoArticle(id string, rev int64, doc articleDocument) *eventsv1.Article {
	art := &eventsv1.Article{
		Id: id, Revision: max(rev, 1), Category: doc.Category, Title: doc.Title, Lead: doc.Lead,
		Author: doc.Author, Tags: doc.Tags, SubmittedAt: timestamppb.New(a.now()),
	}
	if doc.Source != nil {
		art.Source = &eventsv1.Source{Name: doc.Source.Name, Url: doc.Source.URL}
	}
	if doc.ScheduledAt != "" {
		if t, err := time.ParseInLocation("2006-01-02T15:04", doc.ScheduledAt, a.zone); err == nil {
			art.ScheduledAt = timestamppb.New(t)
		}
	}
	for _, b := range doc.Body {
		switch b.Type {
		case "paragraph":
			art.Body = append(art.Body, &eventsv1.Block{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: b.Text}}})
		case "image":
			art.Body = append(art.Body, &eventsv1.Block{Kind: &eventsv1.Block_Image{Image: &eventsv1.Image{MediaId: b.Media, Caption: b.Caption, Credit: b.Credit}}})
		}
	}
	return art
}

// preview asks render for the public page of the article and returns it
// with a <base> pointing at the site, so that its stylesheets and photos
// (linked from the site's root) load inside the preview frame.
func (a *App) preview(ctx context.Context, tenant, id string, rev int64, doc articleDocument) (string, error) {
	body, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(a.protoArticle(id, rev, doc))
	if err != nil {
		return "", fmt.Errorf("encoding the preview article: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.opts.RenderURL+"/v1/tenants/"+tenant+"/preview", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("building the preview request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/html")
	res, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errRenderDown, err)
	}
	defer res.Body.Close()
	page, err := io.ReadAll(io.LimitReader(res.Body, maxPreviewBytes))
	if err != nil {
		return "", fmt.Errorf("%w: reading the preview: %w", errRenderDown, err)
	}
	if res.StatusCode != http.StatusOK {
		if res.StatusCode == http.StatusNotFound || res.StatusCode >= 500 {
			return "", fmt.Errorf("%w: render answered %d", errRenderDown, res.StatusCode)
		}
		refused := &previewRefused{status: res.StatusCode}
		var p problem
		if json.Unmarshal(page, &p) == nil {
			for _, fe := range p.Errors {
				refused.reasons = append(refused.reasons, fe.Message)
			}
			if len(refused.reasons) == 0 && p.Detail != "" {
				refused.reasons = append(refused.reasons, p.Detail)
			}
		}
		return "", refused
	}
	return withBase(string(page), a.opts.SiteURL+"/"), nil
}

// previewRefused is render refusing the article (its reasons are
// render's own Vietnamese messages).
type previewRefused struct {
	status  int
	reasons []string
}

func (e *previewRefused) Error() string {
	return fmt.Sprintf("render refused the preview (%d): %s", e.status, strings.Join(e.reasons, "; "))
}

// withBase puts <base href> first in the page's head, unless render
// already gave the page one.
func withBase(page, href string) string {
	if strings.Contains(strings.ToLower(page), "<base ") {
		return page
	}
	tag := `<base href="` + html.EscapeString(href) + `">`
	lower := strings.ToLower(page)
	if i := strings.Index(lower, "<head"); i >= 0 {
		if j := strings.IndexByte(page[i:], '>'); j >= 0 {
			return page[:i+j+1] + tag + page[i+j+1:]
		}
	}
	return tag + page
}

func previewMessage(err error) string {
	if errors.Is(err, errRenderDown) {
		return "Không tạo được bản xem trước: dịch vụ dựng trang (render) đang không trả lời. Bài viết của bạn không bị ảnh hưởng; bạn vẫn có thể lưu nháp hoặc gửi bài."
	}
	var refused *previewRefused
	if errors.As(err, &refused) && len(refused.reasons) > 0 {
		return "Chưa xem trước được: " + strings.Join(refused.reasons, "; ") + "."
	}
	return "Không tạo được bản xem trước cho nội dung này. Hãy kiểm tra chuyên mục, tiêu đề và các ảnh rồi thử lại."
}

// handlePreviewSaved previews the current revision of a saved article.
func (a *App) handlePreviewSaved(w http.ResponseWriter, r *http.Request, u *user) {
	id, st, ok := a.readArticle(w, r, u, "đọc bài viết")
	if !ok {
		return
	}
	f := a.savedForm(id, st)
	b := formBody{Form: f}
	doc, _ := f.document(Zone)
	html, err := a.preview(r.Context(), u.Tenant, id, st.Revision, doc)
	if err != nil {
		a.opts.Logger.Warn("editor: preview", "tenant", u.Tenant, "err", err)
		b.PreviewErr = previewMessage(err)
	}
	b.PreviewHTML = html
	if u.ReadOnly() {
		a.render(w, http.StatusOK, "form", pageData{Title: "Xem trước", User: u, Body: b})
		return
	}
	a.showForm(w, r, u, http.StatusOK, b, "", "")
}
