package legacy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// page is what a person reads on a dump, written by hand.
type page struct {
	file                  string
	category, title, date string // date as RFC 3339
	hasTime               bool
	views                 int64
	author                string
	source                Source
	lead                  string // prefix
	firstPara, lastPara   string // prefixes of the first and last body paragraphs
	paragraphs            int    // body paragraphs, lead not counted
	captions              []string
	credits               map[int]string // caption index → credit
	chrome                []string       // strings that must not survive
}

// chromeAll is site chrome found on the seed pages.
var chromeAll = []string{
	"Các bài viết khác", "Tin liên quan", "Xem với cỡ chữ", "Video hoạt động", "Hình ảnh hoạt động",
	"Website liên kết", "Giá vàng", "Tỷ giá", "Nội dung:", "Nhiệt liệt chào mừng", "BIDV", "Doji", "Theo:",
	"Loại Mua Bán", "Tin cùng chuyên mục", "Bản quyền", "Địa chỉ:", "truy cập", "Bình luận", "Giới thiệu",
}

func TestSeeds(t *testing.T) {
	pages := []page{{
		file:     "seeds/000_e4c5cb81dc79b66c.txt",
		category: "Hoạt động Đảng bộ khối",
		title:    "Đảng ủy khối các cơ quan tỉnh, thành phố cụm Đồng bằng Bắc Bộ giao ban lần thứ IX tại tỉnh Hưng Yên",
		date:     "2019-04-24T15:55:40+07:00", hasTime: true, views: 696, author: "Hồng Quang",
		lead:       "Ngày 19/4/2019, tại thành phố Hưng Yên, Ban Thường vụ Đảng ủy khối các cơ quan tỉnh Hưng Yên tổ chức Hội nghị",
		firstPara:  "Tham dự Hội nghị gồm các đồng chí thường trực đảng ủy",
		lastPara:   "Trước đó, thực hiện chương trình giao ban lần thứ IX, trong ngày 18/4/2019",
		paragraphs: 10,
		captions: []string{
			"Các đại biểu dự Hội nghị",
			"Đồng chí Đỗ Xuân Tuyên - Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch Hội đồng nhân dân tỉnh tặng hoa chúc mừng Hội nghị",
			"Đồng chí Nguyễn Khắc Chí - Tỉnh ủy viên, Bí thư Đảng ủy khối các cơ quan tỉnh Hưng Yên trao Đảng ủy khối các cơ quan thành phố Hà Nội cờ luân lưu đăng cai tổ chức Hội nghị giao ban lần thứ X",
		},
		chrome: []string{"Viện kiểm sát", "Sở Tài chính", "•", "Hội thi Báo cáo viên"},
	}, {
		file:     "seeds/001_eca1851a5c8fe80e.txt",
		category: "KỶ NIỆM 1 NĂM THÀNH LẬP ĐẢNG BỘ KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH (1-6-2020 - 1-6-2021)",
		title:    "Tập trung đổi mới, nâng cao năng lực lãnh đạo, sức chiến đấu của các tổ chức Đảng và đội ngũ cán bộ, đảng viên",
		date:     "2021-10-25T00:00:00+07:00", hasTime: false, views: 0, author: "",
		source:     Source{Name: "baonamdinh.vn", URL: "http://baonamdinh.vn/"},
		lead:       "Ngày 1-6-2020, Đảng bộ Khối các Cơ quan và Doanh nghiệp tỉnh được thành lập",
		firstPara:  "Cùng với việc xây dựng quy chế làm việc",
		lastPara:   "Với những kết quả bước đầu đạt được, với quyết tâm chính trị cao",
		paragraphs: 3,
		captions:   []string{"Đồng chí Vũ Hữu Thi, TUV, Bí thư Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh trao Huy hiệu Đảng đợt 19-5 cho các đảng viên đủ tiêu chuẩn."},
		credits:    map[int]string{0: "Lam Hồng"},
		chrome:     []string{"baonamdinh"},
	}, {
		file:  "seeds/002_69ae7685d5133d3d.txt",
		title: "Đồng chí Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh Trần Quốc Toản làm việc với Ban Thường vụ Đảng ủy Khối Cơ quan – Doanh nghiệp tỉnh",
		date:  "2021-11-19T21:17:00+07:00", hasTime: true, views: 0, author: "Phương Minh – Nguyễn Nhân",
		lead:       "Ngày 19.11, tại Trụ sở Tỉnh ủy, đồng chí Phó Bí thư Thường trực Tỉnh ủy",
		firstPara:  "Thời gian qua, Ban Thường vụ Đảng ủy Khối Cơ quan – Doanh nghiệp tỉnh đã quán triệt",
		lastPara:   "Đồng chí Phó Bí thư Thường trực Tỉnh ủy Trần Quốc Toản yêu cầu",
		paragraphs: 6,
		captions:   []string{"Toàn cảnh buổi làm việc"},
		chrome:     []string{"TienPhongBank", "OCB", "Kỳ hạn"},
	}, {
		file:     "seeds/003_270624262d36aa46.txt",
		category: "Hoạt động đảng bộ khối",
		title:    "Đoàn Công tác của Đảng ủy Khối Cơ quan - Doanh nghiệp tỉnh Hưng Yên trao đổi, học tập kinh nghiệm về công tác xây dựng Đảng tại tỉnh Bắc Giang",
		date:     "2024-07-22T00:00:00+07:00", hasTime: false, views: 1566, author: "Bích Ngọc- Ban Tuyên giáo Đảng ủy Khối",
		lead:       "Trong các ngày 19-20/7/2024, Đoàn công tác của Đảng ủy Khối Cơ quan - Doanh nghiệp tỉnh Hưng Yên",
		firstPara:  "Đón tiếp và làm việc với Đoàn Công tác",
		lastPara:   "Có thể khẳng định, Chuyến công tác đã thắt chặt mối quan hệ",
		paragraphs: 7,
		captions: []string{
			"Các đại biểu tham dự Hội nghị trao đổi, học tập kinh nghiệm về công tác xây dựng Đảng",
			"Toàn cảnh Hội nghị trao đổi, học tập kinh nghiệm về công tác xây dựng Đảng",
			"Thường trực Đảng ủy Các cơ quan tỉnh Bắc Giang chia sẻ các kinh nghiệm về công tác xây dựng Đảng với Thường trực Đảng ủy Khối Cơ quan - Doanh nghiệp tỉnh Hưng Yên",
			"Đoàn chụp ảnh lưu niệm tại Khu di tích Quốc gia đặc biệt Hoàng Hoa Thám",
		},
		chrome: []string{"95 năm Ngày thành lập", "Lượt xem", "Đăng ngày"},
	}, {
		file:  "seeds/004_c44a0c87816ecb1f.txt",
		title: "Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị toàn quốc với đảng ủy khối các cơ quan tỉnh, thành phố trực thuộc Trung ương",
		date:  "2018-08-24T16:30:00+07:00", hasTime: true, views: 0, author: "Phương Thúy",
		lead:       "Sáng 24-8-2018, Đảng ủy Khối các cơ quan Trung ương đã tổ chức Hội nghị toàn quốc",
		firstPara:  "Hội nghị nhằm trao đổi những kinh nghiệm hay",
		lastPara:   "Phát biểu bế mạc Hội nghị, đồng chí Sơn Minh Thắng",
		paragraphs: 8,
		captions:   []string{"Đồng chí Phạm Minh Chính phát biểu chỉ đạo tại Hội nghị.", "Quang cảnh Hội Nghị."},
		chrome:     []string{"16:30 PM"},
	}}
	for _, want := range pages {
		t.Run(want.file, func(t *testing.T) { checkPage(t, want) })
	}
}

func checkPage(t *testing.T, want page) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", want.file))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Parse(string(b), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if a.Category != want.category {
		t.Errorf("category %q, want %q", a.Category, want.category)
	}
	if a.Title != want.title {
		t.Errorf("title %q, want %q", a.Title, want.title)
	}
	wantAt, err := time.Parse(time.RFC3339, want.date)
	if err != nil {
		t.Fatal(err)
	}
	if !a.PublishedAt.Equal(wantAt) || a.HasTime != want.hasTime {
		t.Errorf("date %v (time %v), want %v (time %v)", a.PublishedAt, a.HasTime, wantAt, want.hasTime)
	}
	if _, off := a.PublishedAt.Zone(); !a.PublishedAt.IsZero() && off != 7*3600 && !strings.HasSuffix(want.date, "Z") {
		t.Errorf("date zone offset %d, want +07:00", off)
	}
	if a.Views != want.views || a.HasViews != (want.views != 0) {
		t.Errorf("views %d (%v), want %d", a.Views, a.HasViews, want.views)
	}
	if a.Author != want.author {
		t.Errorf("author %q, want %q", a.Author, want.author)
	}
	if a.Source != want.source {
		t.Errorf("source %+v, want %+v", a.Source, want.source)
	}
	if !strings.HasPrefix(a.Lead, want.lead) {
		t.Errorf("lead %.120q, want it to start with %q", a.Lead, want.lead)
	}
	var paras []string
	var caps []Block
	for _, blk := range a.Body {
		if blk.Caption {
			caps = append(caps, blk)
		} else {
			paras = append(paras, blk.Text)
		}
	}
	if len(paras) != want.paragraphs {
		t.Errorf("%d body paragraphs, want %d", len(paras), want.paragraphs)
	}
	if len(paras) > 0 {
		if !strings.HasPrefix(paras[0], want.firstPara) {
			t.Errorf("first paragraph %.100q, want it to start with %q", paras[0], want.firstPara)
		}
		if !strings.HasPrefix(paras[len(paras)-1], want.lastPara) {
			t.Errorf("last paragraph %.100q, want it to start with %q", paras[len(paras)-1], want.lastPara)
		}
	}
	if len(caps) != len(want.captions) {
		t.Errorf("%d captions, want %d: %+v", len(caps), len(want.captions), caps)
	} else {
		for i, c := range caps {
			if c.Text != want.captions[i] || c.Credit != want.credits[i] {
				t.Errorf("caption %d: %q (credit %q), want %q (credit %q)", i, c.Text, c.Credit, want.captions[i], want.credits[i])
			}
		}
	}
	all := a.Lead
	for _, blk := range a.Body {
		all += "\n" + blk.Text + "\n" + blk.Credit
	}
	for _, c := range append(append([]string{}, chromeAll...), want.chrome...) {
		if strings.Contains(all, c) {
			t.Errorf("article text keeps chrome %q", c)
		}
	}
	for _, s := range append([]string{a.Title, a.Lead, a.Author, a.Category}, paras...) {
		if s != strings.TrimSpace(s) || strings.Contains(s, "  ") || strings.ContainsRune(s, '\u00a0') {
			t.Errorf("untidy whitespace in %q", s)
		}
	}
}

// BenchmarkParseSeeds parses the five seed pages once per iteration.
func BenchmarkParseSeeds(b *testing.B) {
	files, err := filepath.Glob(filepath.Join("testdata", "seeds", "*.txt"))
	if err != nil || len(files) != 5 {
		b.Fatalf("seeds: %v %v", files, err)
	}
	var dumps []string
	size := 0
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		dumps = append(dumps, string(d))
		size += len(d)
	}
	vn, err := time.LoadLocation(Vietnam)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, d := range dumps {
			if _, err := Parse(d, vn); err != nil {
				b.Fatal(err)
			}
		}
	}
}
