package editor

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/blocpress/blocpress/libs/websession"
)

// maxFormPhotos is how many photos one form post may carry (without JS,
// the photos come with the form).
const maxFormPhotos = 30

var articleIDForm = regexp.MustCompile(`^[a-z0-9]{16}$`)

// listBody is the "Bài viết của tôi" page.
type listBody struct {
	Items      []listItem
	Filter     listFilter
	Statuses   []option
	Categories []category
	Next       template.URL // the next page, empty on the last
	First      bool
}

type listFilter struct {
	Status, Category, Author, Q string
}

type option struct{ Value, Label string }

type listItem struct {
	summary
	CategoryName string
	StatusAt     string
	Changes      []change
}

type change struct{ Label, At string }

func (a *App) handleList(w http.ResponseWriter, r *http.Request, u *user) {
	q := r.URL.Query()
	f := listFilter{Status: q.Get("status"), Category: q.Get("category"), Author: strings.TrimSpace(q.Get("author")), Q: strings.TrimSpace(q.Get("q"))}
	api := url.Values{"limit": {"20"}}
	if _, ok := statusLabels[f.Status]; ok {
		api.Set("status", f.Status)
	} else {
		f.Status = ""
	}
	for k, v := range map[string]string{"category": f.Category, "author": f.Author, "q": f.Q, "cursor": q.Get("cursor")} {
		if v != "" {
			api.Set(k, v)
		}
	}
	page, err := u.api.list(r.Context(), api)
	if err != nil {
		a.apiFailed(w, r, u, "đọc danh sách bài viết", err)
		return
	}
	cats := a.categories(r.Context(), u)
	names := map[string]string{}
	for _, c := range cats {
		names[c.Slug] = c.Name
	}
	body := listBody{Filter: f, Categories: cats, First: q.Get("cursor") == ""}
	for _, s := range statusOrder {
		body.Statuses = append(body.Statuses, option{s, statusLabels[s]})
	}
	for _, s := range page.Items {
		it := listItem{summary: s, CategoryName: names[s.Category], StatusAt: a.when(s.StatusAt)}
		if it.CategoryName == "" {
			it.CategoryName = s.Category
		}
		for _, h := range s.History {
			it.Changes = append(it.Changes, change{Label: statusLabel(h.Status), At: a.when(h.At)})
		}
		body.Items = append(body.Items, it)
	}
	if page.NextCursor != "" {
		nq := url.Values{"cursor": {page.NextCursor}}
		for k, v := range map[string]string{"status": f.Status, "category": f.Category, "author": f.Author, "q": f.Q} {
			if v != "" {
				nq.Set(k, v)
			}
		}
		// Built here from escaped parts, so the template may use it whole.
		body.Next = template.URL(Path + "articles?" + nq.Encode())
	}
	d := pageData{Title: "Bài viết của tôi", User: u, Body: body}
	switch q.Get("done") {
	case "submitted":
		d.Flash = "Đã gửi bài."
	}
	a.render(w, http.StatusOK, "list", d)
}

// formBody is the write/edit page.
type formBody struct {
	Form        articleForm
	Categories  []category
	Errors      map[string]string
	ErrorList   []fieldMessage
	Conflict    bool
	CurrentRev  int64
	PreviewHTML string
	PreviewErr  string
	Idempotency string
	Tenant      string
	Zone        string
	MaxBytes    int64
}

type fieldMessage struct{ Field, Message string }

func (a *App) showForm(w http.ResponseWriter, r *http.Request, u *user, code int, b formBody, flash, errMsg string) {
	if b.Categories == nil {
		b.Categories = a.categories(r.Context(), u)
	}
	if b.Idempotency == "" {
		b.Idempotency = websession.Token()
	}
	b.Tenant, b.Zone, b.MaxBytes = u.Tenant, Zone, a.opts.MaxMediaBytes
	title := "Viết bài"
	if b.Form.ID != "" {
		title = "Sửa bài"
	}
	a.render(w, code, "form", pageData{Title: title, User: u, Body: b, Flash: flash, Error: errMsg, Script: true})
}

func (a *App) handleNew(w http.ResponseWriter, r *http.Request, u *user) {
	a.showForm(w, r, u, http.StatusOK, formBody{Form: articleForm{Draft: true}}, "", "")
}

func (a *App) handleEdit(w http.ResponseWriter, r *http.Request, u *user) {
	id, st, ok := a.readArticle(w, r, u, "đọc bài viết")
	if !ok {
		return
	}
	f := a.savedForm(id, st)
	flash := ""
	if r.URL.Query().Get("saved") == "1" {
		flash = "Đã lưu bản nháp (phiên bản " + strconv.FormatInt(st.Revision, 10) + ")."
	}
	errMsg := ""
	if st.Article == nil {
		errMsg = "Không đọc được nội dung của phiên bản hiện tại; các ô trống bên dưới sẽ thay thế nội dung cũ khi lưu."
		f.Title, f.Category = st.Title, st.Category
	}
	a.showForm(w, r, u, http.StatusOK, formBody{Form: f}, flash, errMsg)
}

// readArticle reads the article the path names, for a page about it. When
// the id is malformed or the API refuses (doing says what for, in the
// message), it has answered the request itself and ok is false.
func (a *App) readArticle(w http.ResponseWriter, r *http.Request, u *user, doing string) (id string, st articleStatus, ok bool) {
	id = r.PathValue("id")
	if !articleIDForm.MatchString(id) {
		a.message(w, http.StatusNotFound, u, "Không tìm thấy", "Mã bài viết không hợp lệ.")
		return "", st, false
	}
	st, err := u.api.article(r.Context(), id)
	if err != nil {
		a.apiFailed(w, r, u, doing, err)
		return "", st, false
	}
	return id, st, true
}

// savedForm is the form of an article's current revision, its schedule
// shown in the newsroom's zone.
func (a *App) savedForm(id string, st articleStatus) articleForm {
	f := formFromDocument(id, st.Revision, st.Article, st.Status == "draft")
	f.ScheduledAt = a.scheduleInput(f.ScheduledAt)
	return f
}

// scheduleInput turns a stored schedule (RFC 3339 or local) into the value
// of a datetime-local input in the newsroom's zone.
func (a *App) scheduleInput(s string) string {
	if s == "" {
		return ""
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return a.localInput(t)
	}
	if len(s) >= 16 {
		return s[:16]
	}
	return s
}

// handleSave takes the write/edit form: photos attached without JS are
// uploaded first and the form shown again for their captions; then the
// article is previewed, saved as a draft or submitted.
func (a *App) handleSave(w http.ResponseWriter, r *http.Request, u *user) {
	f := formFromRequest(r)
	if f.ID != "" && !articleIDForm.MatchString(f.ID) {
		a.message(w, http.StatusBadRequest, u, "Yêu cầu không hợp lệ", "Mã bài viết không hợp lệ.")
		return
	}
	body := formBody{Form: f, Idempotency: r.PostFormValue("idem")}
	if len(body.Idempotency) > 100 {
		body.Idempotency = ""
	}
	if r.MultipartForm != nil {
		files := r.MultipartForm.File["photos"]
		var names []string
		for _, fh := range files {
			if fh.Size == 0 && fh.Filename == "" {
				continue // an empty file input
			}
			if len(f.Photos) >= maxFormPhotos {
				a.showForm(w, r, u, http.StatusUnprocessableEntity, withError(body, "photos", fmt.Sprintf("Tối đa %d ảnh.", maxFormPhotos)), "", "")
				return
			}
			id, err := a.forwardFile(r, u, fh)
			if err != nil {
				msg := uploadMessage(err, fh.Filename, a.opts.MaxMediaBytes)
				if msg == "" {
					a.apiFailed(w, r, u, "tải ảnh lên", err)
					return
				}
				a.showForm(w, r, u, http.StatusUnprocessableEntity, withError(body, "photos", msg), "", "")
				return
			}
			body.Form.Photos = append(body.Form.Photos, photoField{Media: id, After: min(1, len(f.paragraphs()))})
			names = append(names, fh.Filename)
		}
		if len(names) > 0 {
			a.showForm(w, r, u, http.StatusOK, body, fmt.Sprintf("Đã tải lên %d ảnh. Hãy nhập chú thích và tác giả ảnh, rồi lưu hoặc gửi bài.", len(names)), "")
			return
		}
	}

	action := r.PostFormValue("action")
	doc, origins := f.document(Zone)
	if action == "preview" {
		html, err := a.preview(r.Context(), u.Tenant, f.ID, f.BaseRevision+1, doc)
		if err != nil {
			a.opts.Logger.Warn("editor: preview", "tenant", u.Tenant, "err", err)
			body.PreviewErr = previewMessage(err)
		}
		body.PreviewHTML = html
		a.showForm(w, r, u, http.StatusOK, body, "", "")
		return
	}
	draft := action == "draft"
	if draft {
		doc.Status = "draft"
	}
	ctx := r.Context()
	var res written
	var err error
	if f.ID == "" {
		res, err = u.api.create(ctx, doc, body.Idempotency)
	} else {
		res, err = u.api.update(ctx, f.ID, doc)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			a.apiFailed(w, r, u, "lưu bài viết", err)
			return
		}
		switch {
		case ae.Status == http.StatusConflict:
			body.Conflict, body.CurrentRev = true, ae.Problem.CurrentRevision
			a.showForm(w, r, u, http.StatusConflict, body, "",
				"Bài viết đã được người khác sửa trong lúc bạn soạn (phiên bản hiện tại: "+strconv.FormatInt(ae.Problem.CurrentRevision, 10)+
					"). Nội dung bạn nhập vẫn còn bên dưới; hãy sao chép phần cần giữ rồi tải lại bài.")
			return
		case len(ae.Problem.Errors) > 0 || ae.Status == http.StatusUnprocessableEntity || ae.Status == http.StatusBadRequest || ae.Status == http.StatusRequestEntityTooLarge:
			body.Errors = map[string]string{}
			for _, fe := range ae.Problem.Errors {
				field := fieldOf(fe.Field, origins)
				msg := vietnameseMessage(fe)
				if _, seen := body.Errors[field]; !seen {
					body.Errors[field] = msg
				} else {
					body.Errors[field] += " " + msg
				}
				body.ErrorList = append(body.ErrorList, fieldMessage{Field: field, Message: msg})
			}
			code := ae.Status
			if code == http.StatusBadRequest {
				code = http.StatusUnprocessableEntity
			}
			msg := "Bài viết chưa được lưu: hãy sửa các ô được đánh dấu bên dưới."
			if len(body.ErrorList) == 0 {
				// A refusal that names no field (a malformed request) is
				// shown as the API said it, for whoever reports it.
				msg = "Bài viết chưa được lưu: máy chủ từ chối yêu cầu (" + ae.Problem.Detail + ")."
			}
			a.showForm(w, r, u, code, body, "", msg)
			return
		}
		a.apiFailed(w, r, u, "lưu bài viết", err)
		return
	}
	id := res.ID
	if id == "" {
		id = f.ID
	}
	a.opts.Logger.Info("editor saved an article", "tenant", u.Tenant, "article", id, "revision", res.Revision, "draft", draft)
	if draft {
		http.Redirect(w, r, Path+"articles/"+id+"/edit?saved=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Path+"articles/"+id+"?submitted=1", http.StatusSeeOther)
}

func withError(b formBody, field, msg string) formBody {
	if b.Errors == nil {
		b.Errors = map[string]string{}
	}
	b.Errors[field] = msg
	b.ErrorList = append(b.ErrorList, fieldMessage{Field: field, Message: msg})
	return b
}

// forwardFile uploads one photo of a form post to the API.
func (a *App) forwardFile(r *http.Request, u *user, fh *multipart.FileHeader) (string, error) {
	if fh.Size > a.opts.MaxMediaBytes {
		return "", &apiError{Status: http.StatusRequestEntityTooLarge}
	}
	file, err := fh.Open()
	if err != nil {
		return "", fmt.Errorf("opening the uploaded photo: %w", err)
	}
	defer file.Close()
	return u.api.uploadMedia(r.Context(), fh.Header.Get("Content-Type"), file)
}

// uploadMessage explains a refused photo; empty for failures that are not
// the photo's fault.
func uploadMessage(err error, name string, limit int64) string {
	switch statusOf(err) {
	case http.StatusRequestEntityTooLarge:
		return fmt.Sprintf("Ảnh «%s» quá lớn: tối đa %s.", name, byteSize(limit))
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType:
		return fmt.Sprintf("Tệp «%s» không phải ảnh JPEG, PNG hoặc WebP đọc được.", name)
	}
	return ""
}

// handleUpload is the script's upload of one photo (XMLHttpRequest, with
// progress): multipart "file", CSRF token in X-CSRF-Token. It answers JSON.
func (a *App) handleUpload(w http.ResponseWriter, r *http.Request, u *user) {
	w.Header().Set("Cache-Control", "no-store")
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(code int, msg string) { reply(code, map[string]string{"error": msg}) }
	var (
		src         io.Reader
		contentType string
		name        string
	)
	if r.MultipartForm != nil { // parsed by the CSRF check (form field token)
		fhs := r.MultipartForm.File["file"]
		if len(fhs) == 0 {
			fail(http.StatusBadRequest, "Không có tệp ảnh trong yêu cầu.")
			return
		}
		f, err := fhs[0].Open()
		if err != nil {
			fail(http.StatusBadRequest, "Không đọc được tệp ảnh.")
			return
		}
		defer f.Close()
		src, contentType, name = f, fhs[0].Header.Get("Content-Type"), fhs[0].Filename
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, a.opts.MaxMediaBytes+64<<10)
		mr, err := r.MultipartReader()
		if err != nil {
			fail(http.StatusBadRequest, "Yêu cầu tải ảnh phải là multipart/form-data với phần «file».")
			return
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				fail(http.StatusBadRequest, "Không có tệp ảnh trong yêu cầu.")
				return
			}
			if p.FormName() == "file" {
				src, contentType, name = p, p.Header.Get("Content-Type"), p.FileName()
				break
			}
		}
	}
	id, err := u.api.uploadMedia(r.Context(), contentType, src)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(http.StatusRequestEntityTooLarge, uploadMessage(&apiError{Status: http.StatusRequestEntityTooLarge}, name, a.opts.MaxMediaBytes))
			return
		}
		if msg := uploadMessage(err, name, a.opts.MaxMediaBytes); msg != "" {
			fail(statusOf(err), msg)
			return
		}
		a.opts.Logger.Error("editor: forwarding a photo", "tenant", u.Tenant, "err", err)
		code := statusOf(err)
		if code == 0 {
			code = http.StatusBadGateway
		}
		fail(code, "Không tải được ảnh lúc này. Vui lòng thử lại.")
		return
	}
	reply(http.StatusCreated, map[string]string{"id": id, "thumb": a.thumb(u.Tenant, id), "name": name})
}
