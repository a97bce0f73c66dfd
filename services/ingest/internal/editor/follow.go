package editor

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// step is one stage of the follow page's timeline.
type step struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	// State is "done", "current" (waiting on it), "todo", "failed" or "skipped".
	State  string `json:"state"`
	At     string `json:"at,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// timeline is the follow page's content and its JSON for the live update.
type timeline struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Revision    int64    `json:"revision"`
	Status      string   `json:"status"`
	StatusLabel string   `json:"status_label"`
	Steps       []step   `json:"steps"`
	Reasons     []string `json:"reasons,omitempty"`
	PublicURL   string   `json:"public_url,omitempty"`
	// Final: nothing more will happen without an editor or a reviewer.
	Final bool `json:"final"`
	// Takedown is what the takedown form had, shown again after a refusal.
	Takedown unpublishRequest `json:"-"`
}

// timelineOf reads the article's status into Đã nhận → Ảnh đã xử lý →
// Đã duyệt / Chờ duyệt → (Hẹn giờ) → Đã đăng. Only the history of the
// current revision counts: an edited article starts its way again.
func (a *App) timelineOf(st articleStatus) timeline {
	tl := timeline{ID: st.ID, Title: st.Title, Revision: st.Revision, Status: st.Status,
		StatusLabel: statusLabel(st.Status), Reasons: st.Reasons, PublicURL: st.PublicURL}
	at := map[string]time.Time{}
	for _, h := range st.History {
		if h.Revision != 0 && h.Revision != st.Revision {
			continue
		}
		at[h.Status] = h.At // later entries of a status replace earlier ones
	}
	stamp := func(s string) string { return a.when(at[s]) }

	received := step{Key: "received", Label: "Đã nhận", State: "todo"}
	switch {
	case st.Status == "draft":
		received.Label, received.State, received.Detail = "Bản nháp", "current", "Bài chưa được gửi; hãy gửi bài khi đã viết xong."
	case !at["submitted"].IsZero() || st.Status != "":
		received.State, received.At = "done", stamp("submitted")
	}

	photos := step{Key: "photos", Label: "Ảnh đã xử lý", State: "todo"}
	done, failed := 0, 0
	for _, m := range st.Media {
		switch m.Status {
		case "resized":
			done++
		case "failed":
			failed++
		}
	}
	switch {
	case len(st.Media) == 0:
		photos.State, photos.Detail = "skipped", "Bài không có ảnh."
	case failed > 0:
		photos.State, photos.Detail = "failed", strconv.Itoa(failed)+" ảnh không xử lý được; hãy tải lại ảnh khác."
	case done == len(st.Media):
		photos.State, photos.Detail = "done", strconv.Itoa(done)+"/"+strconv.Itoa(len(st.Media))+" ảnh"
	case st.Status != "draft":
		photos.State, photos.Detail = "current", strconv.Itoa(done)+"/"+strconv.Itoa(len(st.Media))+" ảnh"
	}

	verdict := step{Key: "verdict", Label: "Đã duyệt", State: "todo"}
	switch {
	case st.Status == "rejected":
		verdict.Label, verdict.State, verdict.At = "Bị từ chối", "failed", stamp("rejected")
	case !at["approved"].IsZero():
		verdict.State, verdict.At = "done", stamp("approved")
		if !at["held"].IsZero() {
			verdict.Detail = "Chờ duyệt từ " + stamp("held")
		}
	case st.Status == "held":
		verdict.Label, verdict.State, verdict.At = "Chờ duyệt", "current", stamp("held")
		verdict.Detail = "Bài đang chờ người duyệt xem xét."
	case st.Status == "submitted":
		verdict.State = "current"
	}

	steps := []step{received, photos, verdict}
	if st.Status == "scheduled" || !at["scheduled"].IsZero() || st.ScheduledAt != "" {
		sched := step{Key: "scheduled", Label: "Hẹn giờ", State: "todo", At: stamp("scheduled")}
		if st.Status == "scheduled" {
			sched.State = "current"
		} else if !at["scheduled"].IsZero() {
			sched.State = "done"
		}
		if t, err := time.Parse(time.RFC3339, st.ScheduledAt); err == nil {
			sched.Detail = "Đăng lúc " + a.when(t)
		}
		steps = append(steps, sched)
	}
	published := step{Key: "published", Label: "Đã đăng", State: "todo"}
	switch st.Status {
	case "published":
		published.State, published.At = "done", stamp("published")
	case "unpublished":
		published.Label, published.State, published.At = "Đã gỡ", "failed", stamp("unpublished")
	case "approved":
		published.State = "current"
	}
	tl.Steps = append(steps, published)
	switch st.Status {
	case "published", "unpublished", "rejected", "draft", "held":
		// held waits for a person: the page still refreshes, but slowly.
		tl.Final = st.Status != "held"
	}
	return tl
}

func (a *App) handleFollow(w http.ResponseWriter, r *http.Request, u *user) {
	_, st, ok := a.readArticle(w, r, u, "đọc trạng thái bài viết")
	if !ok {
		return
	}
	tl := a.timelineOf(st)
	d := pageData{Title: "Theo dõi: " + tl.Title, User: u, Body: tl, Script: true}
	if !tl.Final {
		d.Refresh = 5
	}
	switch {
	case r.URL.Query().Get("submitted") == "1":
		d.Flash = "Đã gửi bài. Trang này tự cập nhật khi bài đi qua từng bước."
	case r.URL.Query().Get("unpublished") == "1":
		d.Flash = "Đã yêu cầu gỡ bài. Bài sẽ rời khỏi trang, các danh sách, RSS và sitemap trong giây lát."
	}
	a.render(w, http.StatusOK, "follow", d)
}

// handleFollowJSON is what the follow page's script polls every 2 s.
func (a *App) handleFollowJSON(w http.ResponseWriter, r *http.Request, u *user) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	id := r.PathValue("id")
	if !articleIDForm.MatchString(id) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"Mã bài viết không hợp lệ."}`))
		return
	}
	st, err := u.api.article(r.Context(), id)
	if err != nil {
		code := statusOf(err)
		if code == 0 {
			code = http.StatusBadGateway
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"error":"Không đọc được trạng thái bài viết."}`))
		return
	}
	_ = json.NewEncoder(w).Encode(a.timelineOf(st))
}

// handleUnpublish takes an article down (410, a notice, or a redirect to
// another article or address), through the API's unpublish.
func (a *App) handleUnpublish(w http.ResponseWriter, r *http.Request, u *user) {
	id := r.PathValue("id")
	if !articleIDForm.MatchString(id) {
		a.message(w, http.StatusNotFound, u, "Không tìm thấy", "Mã bài viết không hợp lệ.")
		return
	}
	req := unpublishRequest{Mode: r.PostFormValue("mode"), Reason: clean(r.PostFormValue("reason")), RedirectTo: strings.TrimSpace(r.PostFormValue("redirect_to"))}
	var problem string
	switch {
	case req.Mode != "gone" && req.Mode != "notice" && req.Mode != "redirect":
		problem = "Hãy chọn cách gỡ bài."
	case req.Reason == "":
		problem = "Hãy ghi lý do gỡ bài."
	case req.Mode == "redirect" && req.RedirectTo == "":
		problem = "Hãy nhập mã bài hoặc địa chỉ sẽ chuyển tới."
	}
	if req.Mode != "redirect" {
		req.RedirectTo = ""
	}
	if problem == "" {
		err := u.api.unpublish(r.Context(), id, req)
		if err == nil {
			a.opts.Logger.Info("editor unpublished an article", "tenant", u.Tenant, "article", id, "mode", req.Mode)
			http.Redirect(w, r, Path+"articles/"+id+"?unpublished=1", http.StatusSeeOther)
			return
		}
		var ae *apiError
		if !errors.As(err, &ae) || (ae.Status != http.StatusUnprocessableEntity && ae.Status != http.StatusBadRequest && ae.Status != http.StatusConflict) {
			a.apiFailed(w, r, u, "gỡ bài", err)
			return
		}
		problem = "Chưa gỡ được bài: " + ae.Problem.Detail
		for _, fe := range ae.Problem.Errors {
			problem += " " + vietnameseMessage(fe)
		}
	}
	st, err := u.api.article(r.Context(), id)
	if err != nil {
		a.apiFailed(w, r, u, "đọc trạng thái bài viết", err)
		return
	}
	tl := a.timelineOf(st)
	tl.Takedown = req
	a.render(w, http.StatusUnprocessableEntity, "follow", pageData{Title: "Theo dõi: " + tl.Title, User: u, Body: tl, Script: true, Error: problem})
}
