package editor

import "testing"

// The API's own messages (services/ingest) read in Vietnamese.
func TestVietnameseMessages(t *testing.T) {
	for msg, want := range map[string]string{
		"is required": "Không được để trống.",
		"must be at most 300 characters, got 312":            "Tối đa 300 ký tự (hiện có 312).",
		"must be at most 60 characters, has 61":              "Tối đa 60 ký tự (hiện có 61).",
		"must have at most 20 tags, got 21":                  "Tối đa 20 thẻ.",
		"must have at most 30 images, got 31":                "Tối đa 30 ảnh.",
		"must be at most 26214400 bytes":                     "Tối đa 25 MB.",
		"must be in the future, after 2026-11-23T…":          "Thời điểm hẹn giờ phải ở tương lai.",
		`unknown category "x"; one of: tin-tuc`:              "Chuyên mục không có trong danh sách của đơn vị.",
		"must be an absolute http:// or https:// URL":        "Phải là địa chỉ đầy đủ, bắt đầu bằng http:// hoặc https://.",
		"must be an IANA time zone such as Asia/Ho_Chi_Minh": "Múi giờ không hợp lệ.",
	} {
		if got := vietnameseMessage(fieldError{Message: msg}); got != want {
			t.Errorf("%q → %q, want %q", msg, got, want)
		}
	}
}
