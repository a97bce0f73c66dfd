package main

import (
	"strings"
	"time"
	_ "time/tzdata" // containers often lack /usr/share/zoneinfo; the date line must still be in Vietnam's time
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// maxSlugLen bounds the readable part of an article's file name.
const maxSlugLen = 80

// slugify transliterates a Vietnamese title into the readable part of a page
// name, the way Vietnamese news sites do: tone and vowel marks dropped
// (NFD, then combining marks removed), đ→d, lower case, every run of other
// characters turned into one "-". The result is cut at a word boundary so it
// stays under maxSlugLen.
func slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(title) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		default:
			r = unicode.ToLower(r)
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	s := b.String()
	if len(s) > maxSlugLen {
		s = s[:maxSlugLen]
		if i := strings.LastIndexByte(s, '-'); i > maxSlugLen/2 {
			s = s[:i]
		}
		s = strings.Trim(s, "-")
	}
	if s == "" {
		s = "bai-viet"
	}
	return s
}

// vietnam is the time zone every date on the sites is shown in.
var vietnam = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil { // cannot happen with time/tzdata linked in; Vietnam has no DST
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}()

var weekdays = [...]string{"Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"}

// dateLine formats t as Vietnamese news sites head an article:
// "Thứ Tư, 24/04/2019, 15:55", in Vietnam's time.
func dateLine(t time.Time) string {
	t = t.In(vietnam)
	return weekdays[t.Weekday()] + ", " + t.Format("02/01/2006, 15:04")
}

// shortDate is the date in lists: "24/04/2019".
func shortDate(t time.Time) string {
	return t.In(vietnam).Format("02/01/2006")
}
