package legacy

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Article is what a dump says, in the page's own words.
type Article struct {
	// Category is the section name printed on the page ("Hoạt động Đảng bộ
	// khối"), "" when it shows none. [Categories.Resolve] maps it to a slug.
	Category string
	Title    string
	Lead     string
	// PublishedAt is zero when the page shows no date; HasTime is false when
	// it shows a date without a time of day (then PublishedAt is midnight).
	PublishedAt time.Time
	HasTime     bool
	// Views is the page's view counter; HasViews tells a shown 0 from none.
	Views    int64
	HasViews bool
	Body     []Block
	Author   string
	Source   Source
	// Tags are the page's keywords ("Từ khóa: …").
	Tags []string
	// Warnings say what was missing or guessed, for the operator.
	Warnings []string
}

// Block is a body paragraph or a photo caption.
type Block struct {
	Caption bool
	Text    string
	// Credit is the photographer of a caption ("Ảnh: Lam Hồng" → "Lam Hồng").
	Credit string
}

// CaptionText is a caption written as a paragraph, for when the photo itself
// is not imported: "Quang cảnh hội nghị (Ảnh: Lam Hồng)".
func (b Block) CaptionText() string {
	switch {
	case b.Credit == "":
		return b.Text
	case b.Text == "":
		return "Ảnh: " + b.Credit
	}
	return b.Text + " (Ảnh: " + b.Credit + ")"
}

// Source is a repost's origin ("Theo: baonamdinh.vn").
type Source struct {
	Name string
	URL  string
}

// Found lists the fields the page gave, for the importer's report.
func (a *Article) Found() []string {
	var f []string
	add := func(ok bool, name string) {
		if ok {
			f = append(f, name)
		}
	}
	add(a.Category != "", "category")
	add(a.Title != "", "title")
	add(!a.PublishedAt.IsZero(), "date")
	add(a.HasTime, "time")
	add(a.HasViews, "views")
	add(a.Lead != "", "lead")
	paras, captions := 0, 0
	for _, b := range a.Body {
		if b.Caption {
			captions++
		} else {
			paras++
		}
	}
	add(paras > 0, plural(paras, "paragraph"))
	add(captions > 0, plural(captions, "caption"))
	add(a.Author != "", "author")
	add(a.Source.Name != "" || a.Source.URL != "", "source")
	add(len(a.Tags) > 0, "tags")
	return f
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Errors of a dump that is not an article.
var (
	ErrNoTitle = errors.New("no title found")
	ErrNoBody  = errors.New("no article text found")
)

// Parse reads one dump. Dates without a zone are read in loc (nil means
// Asia/Ho_Chi_Minh). It fails only when the dump has no title or no body.
func Parse(dump string, loc *time.Location) (*Article, error) {
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation(Vietnam); err != nil {
			return nil, fmt.Errorf("loading time zone: %w", err)
		}
	}
	lines := Lines(dump)
	a := &Article{}
	p := &parser{lines: lines, loc: loc, a: a}
	if err := p.header(); err != nil {
		return nil, err
	}
	p.body()
	if a.Lead == "" && len(a.Body) == 0 {
		return nil, ErrNoBody
	}
	if a.PublishedAt.IsZero() {
		a.Warnings = append(a.Warnings, "no publication date")
	} else if !a.HasTime {
		a.Warnings = append(a.Warnings, "date without a time of day: 00:00 assumed")
	}
	if !a.HasViews {
		a.Warnings = append(a.Warnings, "no view count: 0")
	}
	if a.Author == "" {
		a.Warnings = append(a.Warnings, "no author byline")
	}
	if a.Category == "" {
		a.Warnings = append(a.Warnings, "no category on the page")
	}
	return a, nil
}

type parser struct {
	lines []string
	loc   *time.Location
	a     *Article
	// start is the first line after the header.
	start int
}

// headerWindow is how many lines from the top may hold the header (site
// chrome included) when no date line is found earlier.
const headerWindow = 25

// header finds the date line, title and category and sets p.start.
func (p *parser) header() error {
	a := p.a
	// The date line: among short date lines before the first paragraph of
	// running text, the one that most looks like a publication date.
	dateAt, best := -1, -1
	var chosen dateMatch
	for i, l := range p.lines {
		if i >= headerWindow || bodyLike(l) || runes(l) > 80 && (lastRune(l) == '.' || lastRune(l) == '…') {
			break
		}
		if runes(l) > 120 {
			continue
		}
		dm, ok := findDate(l, p.loc)
		if !ok {
			continue
		}
		_, rest, views := findViews(dm.rest, true)
		rest, _ = cutAuthor(rest)
		if runes(strings.Trim(rest, " |,-–—:()/.")) > 12 {
			continue // a sentence that mentions a date
		}
		score := 0
		if views {
			score += 2
		}
		if dm.published {
			score += 3
		}
		if dm.updated {
			score++
		}
		if dm.hasTime {
			score++
		}
		if score >= best {
			dateAt, best, chosen = i, score, dm
		}
	}
	// A bare date (no label, time or counter) with a menu between it and the
	// text is the banner's "today", not the article's date.
	if dateAt >= 0 && best == 0 && p.menuBetween(dateAt, p.firstText()) {
		dateAt = -1
	}
	if dateAt >= 0 {
		a.PublishedAt, a.HasTime = chosen.at, chosen.hasTime
		if n, _, ok := findViews(chosen.rest, true); ok {
			a.Views, a.HasViews = n, true
		}
		if _, name := cutAuthor(chosen.rest); name != "" {
			a.Author = name
		}
	}

	// Header lines before the date, and the first line after it.
	var before []int
	end := dateAt
	if end < 0 {
		end = 0
	}
	for i := 0; i < end; i++ {
		if p.headerChrome(i) {
			continue
		}
		before = append(before, i)
	}
	after := p.next(end + 1)
	if dateAt < 0 {
		after = p.next(0)
	}

	titleAt := -1
	// No date in the header: the title is the heading just above the first
	// paragraph of text, and the section name the line above it.
	if dateAt < 0 {
		if t, c := p.headingAbove(p.firstText()); t >= 0 {
			titleAt = t
			if c >= 0 {
				a.Category = p.lines[c]
			}
			before, after = nil, -1
		}
	}
	// Date first, then a short section name, then the title, then text.
	if titleAt < 0 && len(before) == 0 && after >= 0 {
		if t := p.next(after + 1); t >= 0 && runes(p.lines[after]) <= 40 && categoryLike(p.lines[after]) &&
			titleLike(p.lines[t]) && runes(p.lines[t]) > runes(p.lines[after]) {
			if b := p.next(t + 1); b >= 0 && (bodyLike(p.lines[b]) || endsSentence(p.lines[b])) {
				before, after = []int{after}, t
			}
		}
	}
	// The line after the date is the title when it reads as one and what
	// stands before the date is a section name: short or in capitals, or
	// clearly shorter than it (a long section name). Not when it repeats the
	// line before (the lead photo's alt text) or carries a photo credit.
	afterIsTitle := false
	if after >= 0 && titleLike(p.lines[after]) && !creditAtEnd.MatchString(p.lines[after]) {
		if len(before) == 0 {
			afterIsTitle = true
		} else if last := p.lines[before[len(before)-1]]; last != p.lines[after] {
			afterIsTitle = categoryLike(last) || runes(p.lines[after]) > runes(last)+20
		}
	}
	switch {
	case titleAt >= 0:
	case afterIsTitle:
		titleAt = after
		if len(before) > 0 {
			a.Category = p.lines[before[len(before)-1]]
		}
	case len(before) > 0:
		titleAt = before[len(before)-1]
		if len(before) > 1 && categoryLike(p.lines[before[len(before)-2]]) {
			a.Category = p.lines[before[len(before)-2]]
		}
	case after >= 0 && runes(p.lines[after]) <= 300:
		titleAt = after
	}
	if titleAt < 0 {
		return ErrNoTitle
	}
	a.Title = p.lines[titleAt]
	// Labels and breadcrumbs beat position.
	for i := 0; i < max(titleAt, dateAt); i++ {
		if c, ok := labelledCategory(p.lines[i]); ok {
			if c = crumbBeforeTitle(p.lines[i], c, a.Title); c != "" {
				a.Category = c
			}
		}
		if m := authorLabel.FindStringIndex(p.lines[i]); m != nil && runes(p.lines[i]) <= 80 && a.Author == "" {
			a.Author = strings.TrimSpace(p.lines[i][m[1]:])
		}
	}
	p.start = max(titleAt, dateAt) + 1
	// A view counter on a line of its own near the header.
	for i := 0; i < len(p.lines) && i < p.start+3; i++ {
		if a.HasViews {
			break
		}
		if l := p.lines[i]; runes(l) <= 40 {
			if n, rest, ok := findViews(l, false); ok && strings.Trim(rest, " |,-–—:()") == "" {
				a.Views, a.HasViews = n, true
			}
		}
	}
	return nil
}

// firstText is the index of the first line of running text near the top (a
// long line that ends a sentence), or -1.
func (p *parser) firstText() int {
	for i, l := range p.lines {
		if i >= 2*headerWindow {
			break
		}
		if bodyLike(l) || runes(l) > 120 && endsSentence(l) {
			return i
		}
	}
	return -1
}

// menuBetween: between lines i and j stand three lines or more, two of them
// short like menu items; a date and its article's title are not that far
// apart.
func (p *parser) menuBetween(i, j int) bool {
	if j < 0 {
		return false
	}
	lines, short := 0, 0
	for k := i + 1; k < j; k++ {
		if chrome(p.lines[k]) {
			continue
		}
		lines++
		if runes(p.lines[k]) <= 30 {
			short++
		}
	}
	return lines >= 3 && short >= 2
}

// headingAbove finds the title (a heading line) right above the text line b
// and the section name above it, skipping chrome; -1 when not found.
func (p *parser) headingAbove(b int) (title, category int) {
	title, category = -1, -1
	j := b - 1
	for ; j >= 0 && (p.headerChrome(j) || chrome(p.lines[j])); j-- {
	}
	if j < 0 || !titleLike(p.lines[j]) {
		return -1, -1
	}
	title = j
	for j--; j >= 0 && (p.headerChrome(j) || chrome(p.lines[j])); j-- {
	}
	if j >= 0 && categoryLike(p.lines[j]) && p.lines[j] != p.lines[title] {
		category = j
	}
	return title, category
}

// next is the index of the first line from i on that is not chrome, or -1.
func (p *parser) next(i int) int {
	for ; i < len(p.lines); i++ {
		if !p.headerChrome(i) && !chrome(p.lines[i]) {
			return i
		}
	}
	return -1
}

// headerChrome reports lines that only appear around an article's header:
// banners ("Nhiệt liệt chào mừng …!"), menus, breadcrumbs, widgets,
// lone view counters.
func (p *parser) headerChrome(i int) bool {
	l := p.lines[i]
	if runes(l) > 200 {
		return false // running text
	}
	f := Fold(l)
	switch {
	case chrome(l), stopMarker(l):
		return true
	case lastRune(l) == '!' && containsAny(f, "chao mung", "nhiet liet", "ky niem", "thi dua", "quyet tam", "doan ket", "muon nam", "quang vinh"):
		return true
	case strings.Count(l, " | ") >= 2, strings.HasPrefix(f, "trang chu"):
		return true
	case strings.HasPrefix(f, "chuyen muc:") || strings.HasPrefix(f, "danh muc:"):
		return true
	}
	if _, ok := labelledCategory(l); ok {
		return true
	}
	if authorLabel.MatchString(l) && runes(l) <= 80 {
		return true
	}
	if _, rest, ok := findViews(l, false); ok && strings.Trim(rest, " |,-–—:()") == "" {
		return true
	}
	return false
}

var crumbSep = regexp.MustCompile(`\s+(?:>|»|›|/|→)\s+`)

// labelledCategory reads "Chuyên mục: X" or a breadcrumb "Trang chủ > Tin
// tức > X".
func labelledCategory(l string) (string, bool) {
	f := Fold(l)
	for _, label := range []string{"chuyen muc:", "danh muc:"} {
		if strings.HasPrefix(f, label) {
			if _, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v), true
			}
		}
	}
	if parts := crumbSep.Split(l, -1); len(parts) > 1 && (strings.HasPrefix(f, "trang chu") || crumbs(parts)) {
		return strings.TrimSpace(parts[len(parts)-1]), true
	}
	return "", false
}

// crumbBeforeTitle: many breadcrumbs end with the article's own title
// (whole or cut short with "…"); the section is the part before it, ""
// when that is the home page.
func crumbBeforeTitle(l, c, title string) string {
	parts := crumbSep.Split(l, -1)
	short := strings.TrimRight(strings.TrimSpace(c), ".… ")
	if len(parts) < 2 || short == "" || !strings.HasPrefix(Fold(title), Fold(short)) || runes(short) < runes(title)/2 {
		return c
	}
	prev := strings.TrimSpace(parts[len(parts)-2])
	if strings.HasPrefix(Fold(prev), "trang chu") {
		return ""
	}
	return prev
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// crumbs: every part of a split line is a short name, as in a breadcrumb.
func crumbs(parts []string) bool {
	for _, p := range parts {
		if runes(p) > 40 || !categoryLike(p) || !unicode.IsUpper(firstRune(strings.TrimSpace(p))) {
			return false
		}
	}
	return true
}

// titleLike: one heading line, not running text.
func titleLike(l string) bool {
	n := runes(l)
	if n < 10 || n > 300 || sentences(l) > 1 {
		return false
	}
	switch lastRune(l) {
	case '.', ';', ':', ',', '…':
		return false
	}
	return true
}

// categoryLike: a section name, short or in capitals.
func categoryLike(l string) bool {
	n := runes(l)
	return (n <= 60 && !endsSentence(l)) || (allCaps(l) && n <= 200)
}

// bodyLike: a paragraph of running text.
func bodyLike(l string) bool {
	return runes(l) > 300 || (runes(l) > 120 && endsSentence(l) && sentences(l) > 1)
}

// stopMarker reports headings that end the article: related-article lists,
// side boxes, widgets, comments and the footer.
func stopMarker(l string) bool {
	if runes(l) > 60 || lastRune(l) == '.' {
		return false
	}
	return strings.HasPrefix(l, "©") || startsWithMarker(Fold(l))
}

// startsWithMarker: f (folded) is a marker, a marker with a count or colon
// after it ("Đang truy cập: 27"), two headings run together ("Video hoạt
// độngHình ảnh hoạt động"), a widget with its figures ("Giá vàng 9999"), or
// starts with a footer label. A sub-heading that merely begins with the
// same words ("Lãi suất cho vay giảm") is not a marker: cutting the article
// there would lose its paragraphs.
func startsWithMarker(f string) bool {
	for _, m := range footerMarkers {
		if strings.HasPrefix(f, m) {
			return true
		}
	}
	for _, m := range stopMarkers {
		if !strings.HasPrefix(f, m) {
			continue
		}
		rest := strings.TrimSpace(f[len(m):])
		if rest == "" || strings.ContainsRune(":(|-»>", rune(rest[0])) || (rest[0] >= '0' && rest[0] <= '9') || startsWithMarker(rest) {
			return true
		}
		if slices.Contains(widgetMarkers, m) && (strings.ContainsAny(rest, "0123456789") || containsAny(rest, "dvt", "mua", "usd", "sjc")) {
			return true
		}
	}
	return false
}

var stopMarkers = []string{
	"cac bai viet khac", "bai viet khac", "cac tin khac", "tin khac", "tin bai khac", "cac tin bai khac",
	"tin lien quan", "bai lien quan", "bai viet lien quan", "cac bai lien quan", "tin cung chuyen muc", "bai cung chuyen muc",
	"bai viet cung chuyen muc", "cac tin cung chuyen muc", "cac bai viet cung chuyen muc", "tin bai lien quan", "tin tuc khac",
	"tin cu hon", "tin moi hon", "cac tin cu hon", "cac tin moi hon", "tin da dang", "cac tin da dua", "bai da dang",
	"tin da dua", "xem them", "doc them", "tin moi", "tin moi nhat", "tin moi cap nhat", "tin doc nhieu", "doc nhieu nhat",
	"tin xem nhieu", "xem nhieu nhat", "tin noi bat", "tin tieu diem",
	"video hoat dong", "hinh anh hoat dong", "thu vien anh", "thu vien video", "video clip", "video",
	"website lien ket", "lien ket website", "lien ket web", "lien ket",
	"noi dung:", "gia vang", "ty gia", "ty gia ngoai te", "lai suat", "thoi tiet",
	"binh luan", "y kien ban doc", "gui y kien", "gui binh luan", "thong tin binh luan", "y kien cua ban",
	"thong ke truy cap", "luot truy cap", "dang truy cap", "tong luot truy cap", "so luot truy cap", "dang online", "truc tuyen",
}

// widgetMarkers head price boxes; with figures after them they are widgets.
var widgetMarkers = []string{"gia vang", "ty gia", "lai suat", "thoi tiet"}

// footerMarkers end the article whatever follows them on the line.
var footerMarkers = []string{
	"ban quyen", "copyright", "co quan chu quan", "chiu trach nhiem", "giay phep", "dia chi:", "dien thoai:", "tru so:",
	"ghi ro nguon", "thiet ke boi", "phat trien boi", "truong ban bien tap", "tong bien tap", "ban bien tap:",
	"chiu trach nhiem noi dung", "email:", "fax:", "duong day nong",
}

// chrome reports lines to drop wherever they are: page tools and share
// buttons.
func chrome(l string) bool {
	if runes(l) > 40 {
		return false
	}
	f := strings.Trim(Fold(l), " :|")
	for _, c := range chromeLines {
		if f == c || (strings.HasPrefix(f, c) && runes(l) <= 25) {
			return true
		}
	}
	// Only punctuation and symbols (separators, "A A A" of a font switcher
	// is caught above).
	symbols := true
	for _, r := range l {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			symbols = false
			break
		}
	}
	return symbols || toolRow(f)
}

// toolRow reports a line made only of page tools and share buttons run
// together, as scrapers print a toolbar: "In bài viết Gửi email Quay lại",
// "Chia sẻ: Facebook Twitter Zalo". Each word must belong to a tool's name,
// so a sentence that starts with one ("In bài viết này, …") is kept.
func toolRow(f string) bool {
	f = strings.TrimSpace(f)
	if f == "" {
		return false
	}
	for f != "" {
		// The longest name that ends at a word boundary: "in bai viet"
		// before "in bai".
		rest, found := "", false
		for _, names := range [][]string{chromeLines, toolNames} {
			for _, c := range names {
				r, ok := strings.CutPrefix(f, c)
				if ok && (r == "" || strings.ContainsRune(" |:-·•/,", rune(r[0]))) && (!found || len(r) < len(rest)) {
					rest, found = r, true
				}
			}
		}
		if !found {
			return false
		}
		f = strings.TrimLeft(rest, " |:-·•/,")
	}
	return true
}

// toolNames are share buttons and page tools that are chrome only as the
// words of a toolbar line (see [chrome] for the lines dropped on their own).
var toolNames = []string{
	"in bai viet", "gui bai viet", "gui email", "gui mail", "luu tin", "luu bai viet", "chia se bai viet",
	"twitter", "linkedin", "messenger", "telegram", "pinterest", "youtube", "google+", "copy link",
	"sao chep link", "sao chep lien ket", "tai ve", "phong to", "thu nho", "print", "in", "gui", "luu", "dong",
}

var chromeLines = []string{
	"xem voi co chu", "co chu", "in bai", "in trang", "ban in", "gui email", "gui bai", "gui cho ban be", "chia se",
	"tweet", "facebook", "zalo", "email", "dau trang", "ve dau trang", "tro ve", "quay lai", "tro lai",
	"a a a", "a+ a- a", "a- a a+", "nghe doc bai", "nghe bai viet", "luu bai",
	"tu khoa", "the:", "tags:", "tag:",
}

var (
	photoLabel  = regexp.MustCompile(`(?i)^ảnh\s*:\s*(.+?)\.?$`)
	creditOnly  = regexp.MustCompile(`(?i)^\(?\s*(?:ảnh|ảnh minh họa|ảnh minh hoạ|nguồn ảnh|photo)\s*:\s*([^()]{1,60}?)\s*\)?\.?$`)
	creditAtEnd = regexp.MustCompile(`(?i)^(.*\S)\s*[(\-–]?\s*(?:ảnh|nguồn ảnh)\s*:\s*([^()]{1,40}?)\s*\)?\.?$`)
	sourceLine  = regexp.MustCompile(`(?i)^\(?\s*(theo|nguồn|nguồn tin|nguồn bài)\s*(:?)\s*(.+?)\s*\)?\.?$`)
	sourceAtEnd = regexp.MustCompile(`(?i)\s*\(\s*(?:theo|nguồn)\s*:?\s*([^()]{2,60})\)\.?$`)
	urlish      = regexp.MustCompile(`(?i)^(https?://\S+|www\.\S+|[a-z0-9.-]+\.(?:vn|com|net|org|info)(?:/\S*)?)$`)
	tagsLabel   = regexp.MustCompile(`(?i)^(?:từ\s*khóa|từ\s*khoá|tags?|thẻ)\s*:\s*(.+)$`)
	authorLabel = regexp.MustCompile(`(?i)^(?:tác\s*giả|người\s*viết|người\s*đăng|bút\s*danh)\s*:\s*`)
	byline      = regexp.MustCompile(`(?i)^(?:tin\s*(?:,|và)\s*ảnh|bài\s*(?:,|và)\s*ảnh|ảnh\s*(?:,|và)\s*(?:tin|bài)|tin|bài|tác\s*giả|người\s*viết|thực\s*hiện|(?:nhóm\s*)?phóng\s*viên|nhóm\s*pv|pv)\s*:\s*`)
)

// body reads the lines after the header up to the first stop marker.
func (p *parser) body() {
	a := p.a
	var lines []string
	for i := p.start; i < len(p.lines); i++ {
		l := p.lines[i]
		if m := authorLabel.FindStringIndex(l); m != nil && runes(l) <= 80 {
			if a.Author == "" {
				a.Author = strings.TrimSpace(l[m[1]:])
			}
			continue
		}
		if name, ok := authorLine(l); ok && byline.MatchString(l) {
			// "Tin, ảnh: Thu Hà" under the date or under the text; not an
			// interview's "PV: Xin đồng chí cho biết …", which names no one.
			if name, ok = authorLine(name); ok && a.Author == "" {
				a.Author = name
			}
			if ok {
				continue
			}
		}
		if datedItem(l) && p.listFollows(i+1) {
			break // a related-articles list without a heading
		}
		if m := tagsLabel.FindStringSubmatch(l); m != nil && runes(l) <= 300 {
			for _, tag := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ',' || r == ';' || r == '|' || r == '#' }) {
				if tag = strings.Trim(strings.TrimSpace(tag), "."); tag != "" && !slices.Contains(a.Tags, tag) {
					a.Tags = append(a.Tags, tag)
				}
			}
			continue
		}
		if stopMarker(l) {
			if len(lines) == 0 && strings.HasPrefix(Fold(l), "noi dung") {
				continue // a label before the text, not the search box after it
			}
			if relatedLink(l) && p.textFollows(i+1) {
				continue // "Xem thêm: <title>" set inside the article
			}
			break
		}

		short := runes(l) <= 120 // chrome is short: spare long paragraphs the regexps
		if short && !a.HasViews {
			if n, rest, ok := findViews(l, false); ok && strings.Trim(rest, " |,-–—:()") == "" {
				a.Views, a.HasViews = n, true // a counter printed under the article
				continue
			}
		}
		if chrome(l) || short && p.headerChrome(i) && !bodyLike(l) {
			continue
		}
		if !short {
			lines = append(lines, l)
			continue
		}
		if runes(l) <= 60 {
			if dm, ok := findDate(l, p.loc); ok {
				if n, rest, views := findViews(dm.rest, true); runes(strings.Trim(rest, " |,-–—:()/.")) <= 12 {
					// A date printed under the article, or a second one
					// (updated at …): the first date found wins.
					if a.PublishedAt.IsZero() {
						a.PublishedAt, a.HasTime = dm.at, dm.hasTime
					}
					if views && !a.HasViews {
						a.Views, a.HasViews = n, true
					}
					continue
				}
			}
		}
		lines = append(lines, l)
	}

	// Tail: source and byline, in either order.
	for k := 0; k < 3 && len(lines) > 0; k++ {
		l := lines[len(lines)-1]
		if s, ok := parseSource(l); ok && a.Source == (Source{}) {
			a.Source = s
		} else if name, ok := authorLine(l); ok && a.Author == "" {
			a.Author = name
		} else {
			break
		}
		lines = lines[:len(lines)-1]
	}
	if n := len(lines); n > 0 && a.Source == (Source{}) {
		if m := sourceAtEnd.FindStringSubmatchIndex(lines[n-1]); m != nil {
			a.Source = sourceFrom(lines[n-1][m[2]:m[3]])
			text := strings.TrimSpace(lines[n-1][:m[0]])
			if strings.HasSuffix(lines[n-1], ".") && !endsSentence(text) {
				text += "." // "… năm 2021 (Theo TTXVN)." ends a sentence
			}
			lines[n-1] = text
		}
	}

	var blocks []Block
	for _, l := range lines {
		prev := func() *Block {
			if len(blocks) == 0 {
				return nil
			}
			return &blocks[len(blocks)-1]
		}()
		if l == a.Title {
			continue // the lead photo's alt text
		}
		if runes(l) > 120 && slices.ContainsFunc(blocks, func(b Block) bool { return !b.Caption && b.Text == l }) {
			continue // the lead printed twice (in the header and in the text)
		}
		n := runes(l)
		if m := photoLabel.FindStringSubmatch(l); m != nil && n <= 300 && !creditName(m[1]) {
			// "Ảnh: Quang cảnh hội nghị": the label heads a caption.
			blocks = append(blocks, Block{Caption: true, Text: m[1]})
			continue
		}
		if m := creditOnly.FindStringSubmatch(l); n <= 80 && m != nil {
			credit := strings.TrimSpace(m[1])
			switch {
			case prev != nil && prev.Caption && (prev.Credit == "" || prev.Credit == credit):
				prev.Credit = credit
			case prev != nil && !prev.Caption && captionLike(prev.Text, true):
				prev.Caption, prev.Credit = true, credit
			default:
				blocks = append(blocks, Block{Caption: true, Credit: credit})
			}
			continue
		}
		text, credit := l, ""
		if n <= 300 { // longer is running text, without a credit
			if m := creditAtEnd.FindStringSubmatch(l); m != nil {
				// The text stops before an opening "(" or dash of "(Ảnh: …)".
				text, credit = strings.TrimRight(m[1], " (-–"), strings.TrimSpace(m[2])
			}
		}
		if prev != nil && prev.Caption && prev.Text == text {
			if prev.Credit == "" {
				prev.Credit = credit
			}
			continue // a caption printed twice (alt text and caption)
		}
		if credit != "" {
			blocks = append(blocks, Block{Caption: true, Text: text, Credit: credit})
			continue
		}
		if prev != nil && prev.Caption && prev.Credit == "" && captionLike(l, false) &&
			(lastRune(prev.Text) == ',' || unicode.IsLower(firstRune(l))) {
			prev.Text += " " + l // a caption broken over lines
			continue
		}
		blocks = append(blocks, Block{Caption: captionLike(l, false) && len(blocks) > 0, Text: l})
	}
	for i, b := range blocks {
		if !b.Caption {
			a.Lead = b.Text
			blocks = append(blocks[:i:i], blocks[i+1:]...)
			break
		}
	}
	a.Body = blocks
}

// captionLike: a short, single-sentence line among paragraphs. loose is for
// a line followed by a credit, which makes it a caption whatever its end.
func captionLike(l string, loose bool) bool {
	n := runes(l)
	if n > 300 || len(strings.Fields(l)) < 2 || lastRune(l) == ':' || sentences(l) > 1 {
		return false
	}
	if loose {
		return true
	}
	if isHeading(l) {
		return false
	}
	if !endsSentence(l) {
		return true
	}
	if lastRune(l) != '.' {
		return false
	}
	return n <= 100 && !strings.ContainsAny(l, ",;") || n <= 160 && captionOpener(l)
}

// captionOpeners begin the captions of news photos: who or what the photo
// shows ("Đồng chí …, Bí thư Tỉnh ủy phát biểu tại hội nghị.", "Các đại
// biểu dự hội nghị tại điểm cầu Trung ương."). With one, a short sentence
// with commas is a caption too.
var captionOpeners = []string{"dong chi ", "cac dong chi ", "quang canh ", "toan canh ", "cac dai bieu ", "dai bieu ",
	"lanh dao ", "doan cong tac ", "ban to chuc "}

func captionOpener(l string) bool {
	f := Fold(l)
	for _, o := range captionOpeners {
		if !strings.HasPrefix(f, o) {
			continue
		}
		if !strings.HasSuffix(o, "dong chi ") {
			return true
		}
		// "Đồng chí Nguyễn Văn A …", "Đồng chí Bí thư …" name someone;
		// "Đồng chí đề nghị …" is the text reporting a speech.
		words := strings.Fields(l)
		n := len(strings.Fields(o))
		return len(words) > n && unicode.IsUpper(firstRune(words[n]))
	}
	return false
}

var numbered = regexp.MustCompile(`^(?:(?:[0-9]+|[IVXLC]+|[a-zđ])[.)/]|[-+•*–—·●▪■○◦])\s`)

// isHeading: a numbered sub-heading ("1. Kết quả", "II. Nhiệm vụ") or a list
// item ("- Truyền thống của Đảng", "• …") is text: captions are not numbered
// nor bulleted.
func isHeading(l string) bool { return numbered.MatchString(l) }

// authorSeg is a labelled author inside a date line: "Cập nhật lúc 08:15,
// 12/03/2025 | Người đăng: Trần Hà | Lượt xem: 956".
var authorSeg = regexp.MustCompile(`(?i)(?:tác\s*giả|người\s*viết|người\s*đăng|bút\s*danh|đăng\s*bởi|biên\s*tập)\s*:\s*([^|]+)`)

// cutAuthor removes a labelled author from what a date line says besides the
// date and returns it.
func cutAuthor(rest string) (string, string) {
	m := authorSeg.FindStringSubmatchIndex(rest)
	if m == nil {
		return rest, ""
	}
	name := strings.TrimRight(strings.TrimSpace(rest[m[2]:m[3]]), " -–,.")
	if runes(name) > 60 {
		return rest, ""
	}
	return rest[:m[0]] + " " + rest[m[1]:], name
}

// datedTitle is an item of a related-articles list: a title with its date
// in brackets, "Đảng bộ Sở Tài chính tổ chức Đại hội (10/03/2025)".
var datedTitle = regexp.MustCompile(`\(\s*\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{4}(?:\s*[-,]?\s*\d{1,2}:\d{2})?\s*\)$`)

// A list item of the text ("- Chỉ thị số 05-CT/TW (15/05/2016)") is not one.
func datedItem(l string) bool { return runes(l) <= 250 && !isHeading(l) && datedTitle.MatchString(l) }

// listFollows: after a dated title, the page ends, or another dated title
// or a stop marker comes, so the title heads a list of related articles that
// the site printed without a heading.
func (p *parser) listFollows(i int) bool {
	j := p.next(i)
	return j < 0 || datedItem(p.lines[j]) || stopMarker(p.lines[j])
}

// relatedLink: a related-article marker with the article's title on the
// same line ("Xem thêm: Đảng ủy Khối tổng kết …"), as sites set inside the
// text; a heading of a list stands alone on its line.
func relatedLink(l string) bool {
	f := Fold(l)
	for _, m := range stopMarkers {
		if slices.Contains(widgetMarkers, m) || strings.HasPrefix(m, "noi dung") {
			continue
		}
		if rest, ok := strings.CutPrefix(f, m); ok {
			rest = strings.TrimSpace(rest)
			if strings.HasPrefix(rest, ":") && len(strings.Fields(rest[1:])) >= 4 {
				return true
			}
		}
	}
	return false
}

// textFollows: the next line that is not chrome, from i on, is running text
// (a long line that ends a sentence), so the article goes on.
func (p *parser) textFollows(i int) bool {
	j := p.next(i)
	return j >= 0 && runes(p.lines[j]) > 120 && endsSentence(p.lines[j]) && !stopMarker(p.lines[j])
}

// creditName: what follows "Ảnh:" names a photographer or an agency
// ("Lam Hồng", "TTXVN", "tư liệu"), not a description ("Quang cảnh hội
// nghị"): a description has three words or more, most of them in lower case.
func creditName(v string) bool {
	words := strings.Fields(v)
	lower := 0
	for _, w := range words {
		if unicode.IsLower(firstRune(w)) {
			lower++
		}
	}
	return len(words) < 3 || 2*lower <= len(words)
}

// parseSource reads "Theo: …", "Nguồn: …", "(Theo TTXVN)".
func parseSource(l string) (Source, bool) {
	m := sourceLine.FindStringSubmatch(l)
	if m == nil {
		return Source{}, false
	}
	v := strings.TrimSpace(m[3])
	if v == "" {
		return Source{}, false
	}
	if m[2] == "" { // "Theo Báo Nam Định": a short name, not a sentence
		if runes(v) > 60 || strings.ContainsAny(v, ",;") || len(strings.Fields(v)) > 8 {
			return Source{}, false
		}
		if !unicode.IsUpper(firstRune(v)) && !urlish.MatchString(v) {
			return Source{}, false
		}
	} else if runes(v) > 200 {
		return Source{}, false
	}
	return sourceFrom(v), true
}

// sourceFrom makes a Source of what follows "Theo:": a URL gives the host
// as name and keeps the URL as written; a bare domain or a name is the name.
func sourceFrom(v string) Source {
	v = strings.TrimSpace(v)
	if urlish.MatchString(v) {
		raw := v
		if !strings.Contains(raw, "://") {
			raw = "http://" + raw
		}
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			name := strings.TrimPrefix(strings.ToLower(u.Host), "www.")
			if strings.Contains(v, "://") {
				return Source{Name: name, URL: v}
			}
			return Source{Name: name}
		}
	}
	return Source{Name: v}
}

// authorLine reads a byline: a short line that starts with a capitalised
// name ("Hồng Quang", "Phương Minh – Nguyễn Nhân", "Bích Ngọc- Ban Tuyên giáo
// Đảng ủy Khối", "Tin, ảnh: Lam Hồng"). It returns the byline as printed,
// without a "Tin, ảnh:" label.
func authorLine(l string) (string, bool) {
	if runes(l) > 80 || len(strings.Fields(l)) > 12 {
		return "", false
	}
	if m := byline.FindStringIndex(l); m != nil {
		l = strings.TrimSpace(l[m[1]:])
		return l, l != ""
	}
	switch lastRune(l) {
	case '.', ':', ';', ',', '?', '!', '…':
		if !strings.HasSuffix(l, ".") || runes(l) > 3 && strings.Count(l, ".") > 2 {
			return "", false
		}
		// "N.V.A." initials may end with a dot; sentences do not get here.
		if len(strings.Fields(l)) > 3 {
			return "", false
		}
	}
	name := l
	if i := strings.IndexAny(name, "-–—,(/"); i > 0 {
		name = name[:i]
	}
	words := strings.Fields(name)
	if len(words) == 0 || len(words) > 5 {
		return "", false
	}
	for _, w := range words {
		r := firstRune(w)
		if !unicode.IsUpper(r) {
			return "", false
		}
		for _, c := range w {
			if unicode.IsDigit(c) {
				return "", false
			}
		}
	}
	return strings.TrimSuffix(l, "."), true
}
