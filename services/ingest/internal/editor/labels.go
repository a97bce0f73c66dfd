package editor

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// statusLabels are the article states as editors name them.
var statusLabels = map[string]string{
	"draft":       "Bản nháp",
	"submitted":   "Đã gửi",
	"held":        "Chờ duyệt",
	"approved":    "Đã duyệt",
	"scheduled":   "Hẹn giờ",
	"published":   "Đã đăng",
	"unpublished": "Đã gỡ",
	"rejected":    "Bị từ chối",
}

// statusOrder is the order of the status filter's options.
var statusOrder = []string{"draft", "submitted", "held", "approved", "scheduled", "published", "unpublished", "rejected"}

func statusLabel(s string) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return s
}

var weekdays = [...]string{"Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"}

// when writes a time as Vietnamese readers do, in the newsroom's zone:
// "Thứ Hai, 23/11/2026, 14:05".
func (a *App) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(a.zone)
	return fmt.Sprintf("%s, %s", weekdays[t.Weekday()], t.Format("02/01/2006, 15:04"))
}

// localInput is a time as a datetime-local input's value, in the zone.
func (a *App) localInput(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(a.zone).Format("2006-01-02T15:04")
}

// fieldMessages turn the API's English field messages into Vietnamese; the
// API names the field and the limit, so the sentence is rebuilt from them.
var fieldMessages = []struct {
	re  *regexp.Regexp
	say func(m []string) string
}{
	{regexp.MustCompile(`^is required`), func([]string) string { return "Không được để trống." }},
	{regexp.MustCompile(`at most (\d+) characters(?:, (?:got|has) (\d+))?`), func(m []string) string {
		if m[2] != "" {
			return fmt.Sprintf("Tối đa %s ký tự (hiện có %s).", m[1], m[2])
		}
		return fmt.Sprintf("Tối đa %s ký tự.", m[1])
	}},
	{regexp.MustCompile(`at most (\d+) bytes`), func(m []string) string {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return "Tối đa " + byteSize(n) + "."
	}},
	{regexp.MustCompile(`at most (\d+) (blocks|images|tags)`), func(m []string) string {
		what := map[string]string{"blocks": "đoạn và ảnh", "images": "ảnh", "tags": "thẻ"}[m[2]]
		return fmt.Sprintf("Tối đa %s %s.", m[1], what)
	}},
	{regexp.MustCompile(`at least one block`), func([]string) string { return "Bài viết cần ít nhất một đoạn nội dung." }},
	{regexp.MustCompile(`unknown category`), func([]string) string { return "Chuyên mục không có trong danh sách của đơn vị." }},
	{regexp.MustCompile(`http:// or https://`), func([]string) string {
		return "Phải là địa chỉ đầy đủ, bắt đầu bằng http:// hoặc https://."
	}},
	{regexp.MustCompile(`future`), func([]string) string { return "Thời điểm hẹn giờ phải ở tương lai." }},
	{regexp.MustCompile(`(?i)time zone|time_zone`), func([]string) string { return "Múi giờ không hợp lệ." }},
	{regexp.MustCompile(`(?i)RFC 3339|YYYY-MM-DD`), func([]string) string { return "Ngày giờ không hợp lệ." }},
	{regexp.MustCompile(`(?i)unknown media|no photo|not found|does not exist`), func([]string) string {
		return "Không tìm thấy ảnh này; hãy tải ảnh lên lại."
	}},
}

// vietnameseMessage is the Vietnamese form of one field error of the API.
func vietnameseMessage(e fieldError) string {
	for _, m := range fieldMessages {
		if g := m.re.FindStringSubmatch(e.Message); g != nil {
			return m.say(g)
		}
	}
	if e.Limit != nil {
		return fmt.Sprintf("Không hợp lệ (giới hạn: %v).", e.Limit)
	}
	return "Không hợp lệ: " + e.Message
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " byte"
}

// fieldLabel names a form field in a summary of errors.
func fieldLabel(f string) string {
	switch {
	case f == "category":
		return "Chuyên mục"
	case f == "title":
		return "Tiêu đề"
	case f == "lead":
		return "Sapo"
	case f == "body":
		return "Nội dung"
	case f == "author":
		return "Tác giả"
	case f == "source_name":
		return "Nguồn"
	case f == "source_url":
		return "Địa chỉ nguồn"
	case f == "tags":
		return "Thẻ"
	case f == "scheduled_at":
		return "Hẹn giờ đăng"
	case strings.HasPrefix(f, "photo"):
		n, _ := strconv.Atoi(strings.TrimPrefix(f, "photo"))
		return fmt.Sprintf("Ảnh %d", n+1)
	}
	return f
}
