package legacy

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Ho_Chi_Minh on machines without a zone database
)

// Vietnam is where the legacy sites' dates were written.
const Vietnam = "Asia/Ho_Chi_Minh"

var (
	isoDate = regexp.MustCompile(`(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?)?`)
	// "Ngày 24 Tháng 04 Năm 2019", "ngày 5 tháng 3 năm 2023".
	wordDate = regexp.MustCompile(`(?i)ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*(?:năm|,)\s*(\d{4})`)
	// "24/04/2019", "25 / 10 / 2021", "24-8-2018", "19.11.2021".
	numDate = regexp.MustCompile(`(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*([/.\-])\s*(\d{4})`)
	// "3:55:40 PM", "16:30", "10h20", "8 giờ 15".
	clock = regexp.MustCompile(`(?i)(\d{1,2})\s*(?::|h|giờ)\s*(\d{2})(?:\s*:\s*(\d{2}))?(?:\s*(AM|PM|SA|CH)\b)?`)

	weekday   = regexp.MustCompile(`(?i)(thứ\s*(?:hai|ba|tư|năm|sáu|bảy|bẩy|[2-7])|chủ\s*nhật|\bCN\b)`)
	dateLabel = regexp.MustCompile(`(?i)(đăng\s*ngày|ngày\s*đăng|ngày\s*xuất\s*bản|xuất\s*bản|ngày\s*cập\s*nhật|cập\s*nhật(?:\s*lúc)?|đăng\s*lúc|đăng\s*tải|thời\s*gian|ngày|lúc|\(?\s*GMT\s*[+\-]?\s*\d*\s*\)?|\bICT\b)`)
)

// dateMatch is a date found in a line.
type dateMatch struct {
	at      time.Time
	hasTime bool
	// rest is the line with the date, the time, weekday names and date labels
	// blanked out: what else the line says.
	rest string
	// published and updated tell what the line's label says the date is.
	published, updated bool
}

// findDate looks for a date in line, read in loc unless the line gives a
// zone.
func findDate(line string, loc *time.Location) (dateMatch, bool) {
	var (
		y, mo, d   int
		span       []int
		hh, mm, ss int
		hasTime    bool
		zone       *time.Location
	)
	if m := isoDate.FindStringSubmatchIndex(line); m != nil {
		span = m[:2]
		y, mo, d = atoi(line, m, 1), atoi(line, m, 2), atoi(line, m, 3)
		if m[8] >= 0 {
			hh, mm, hasTime = atoi(line, m, 4), atoi(line, m, 5), true
			if m[12] >= 0 {
				ss = atoi(line, m, 6)
			}
			if m[14] >= 0 {
				zone = parseZone(line[m[14]:m[15]])
			}
		}
	} else if m := wordDate.FindStringSubmatchIndex(line); m != nil {
		span = m[:2]
		d, mo, y = atoi(line, m, 1), atoi(line, m, 2), atoi(line, m, 3)
	} else if m := numDate.FindStringSubmatchIndex(line); m != nil && line[m[4]:m[5]] == line[m[8]:m[9]] {
		span = m[:2]
		d, mo, y = atoi(line, m, 1), atoi(line, m, 3), atoi(line, m, 5)
	} else {
		return dateMatch{}, false
	}
	rest := line[:span[0]] + " " + line[span[1]:]
	if !hasTime {
		if m := clock.FindStringSubmatchIndex(rest); m != nil {
			hh, mm = atoi(rest, m, 1), atoi(rest, m, 2)
			if m[6] >= 0 {
				ss = atoi(rest, m, 3)
			}
			if m[8] >= 0 {
				switch strings.ToUpper(rest[m[8]:m[9]]) {
				case "PM", "CH":
					if hh < 12 {
						hh += 12
					}
				case "AM", "SA":
					if hh == 12 {
						hh = 0
					}
				}
			}
			hasTime = hh <= 23 && mm <= 59 && ss <= 59
			if !hasTime {
				hh, mm, ss = 0, 0, 0
			}
			rest = rest[:m[0]] + " " + rest[m[1]:]
		}
	}
	if y < 1990 || y > 2100 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return dateMatch{}, false
	}
	if zone == nil {
		zone = loc
	}
	at := time.Date(y, time.Month(mo), d, hh, mm, ss, 0, zone)
	if at.Day() != d || at.Month() != time.Month(mo) { // 31/02 rolls over
		return dateMatch{}, false
	}
	folded := Fold(rest)
	dm := dateMatch{at: at, hasTime: hasTime,
		published: strings.Contains(folded, "dang ngay") || strings.Contains(folded, "ngay dang") || strings.Contains(folded, "xuat ban") || strings.Contains(folded, "dang luc"),
		updated:   strings.Contains(folded, "cap nhat"),
	}
	rest = weekday.ReplaceAllString(rest, " ")
	dm.rest = dateLabel.ReplaceAllString(rest, " ")
	return dm, true
}

func atoi(s string, m []int, group int) int {
	n, _ := strconv.Atoi(s[m[2*group]:m[2*group+1]])
	return n
}

func parseZone(z string) *time.Location {
	if z == "Z" {
		return time.UTC
	}
	z = strings.ReplaceAll(z, ":", "")
	h, _ := strconv.Atoi(z[1:3])
	m, _ := strconv.Atoi(z[3:5])
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off)
}

var (
	viewsLabel  = regexp.MustCompile(`(?i)(?:số\s*)?(?:lượt\s*(?:xem|đọc)(?:\s*bài(?:\s*viết)?)?|đã\s*xem|lần\s*xem|\bviews?\b)\s*:?\s*(\d[\d.,]*)`)
	viewsSuffix = regexp.MustCompile(`(?i)\(?\s*(\d[\d.,]*)\s*lượt\s*(?:xem|đọc)\s*\)?`)
	viewsPipe   = regexp.MustCompile(`\|\s*(\d[\d.,]*)\s*$`)
	thousands   = regexp.MustCompile(`^\d{1,3}(?:[.,]\d{3})+$`)
)

// findViews reads a view counter in s: "Lượt xem: 1566", "Lượt xem: 2.345"
// (a dot or comma between thousands), "(812 lượt xem)"; with pipe also a bare
// "| 696" at the end, which some sites print after the date. It returns s
// without the counter.
func findViews(s string, pipe bool) (int64, string, bool) {
	for _, re := range []*regexp.Regexp{viewsLabel, viewsSuffix} {
		if m := re.FindStringSubmatchIndex(s); m != nil {
			if n, ok := parseCount(s[m[2]:m[3]]); ok {
				return n, s[:m[0]] + " " + s[m[1]:], true
			}
		}
	}
	if pipe {
		if m := viewsPipe.FindStringSubmatchIndex(s); m != nil {
			if n, ok := parseCount(s[m[2]:m[3]]); ok {
				return n, s[:m[0]], true
			}
		}
	}
	return 0, s, false
}

func parseCount(s string) (int64, bool) {
	s = strings.TrimRight(s, ".,")
	if thousands.MatchString(s) {
		s = strings.NewReplacer(".", "", ",", "").Replace(s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}
