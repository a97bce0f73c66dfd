package legacy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Pages written for these tests in other layouts than the seeds: menus,
// breadcrumbs, labelled categories, other date and counter forms, inline
// credits and sources, footers.
func TestOtherLayouts(t *testing.T) {
	pages := []page{{
		file:     "pages/breadcrumb_capnhat.txt",
		category: "Xây dựng Đảng",
		title:    "Chi bộ Sở Tư pháp tổ chức sinh hoạt chuyên đề quý I năm 2023",
		date:     "2023-03-12T08:15:00+07:00", hasTime: true, views: 812,
		author:     "Thanh Thủy - Văn phòng Đảng ủy",
		source:     Source{Name: "Báo Thái Bình"},
		lead:       "Sáng 10/3, Chi bộ Sở Tư pháp tổ chức sinh hoạt chuyên đề",
		firstPara:  "Tại buổi sinh hoạt, các đảng viên đã thảo luận sôi nổi",
		lastPara:   "Kết thúc buổi sinh hoạt, Chi bộ thống nhất",
		paragraphs: 2,
		captions:   []string{"Quang cảnh buổi sinh hoạt chuyên đề"},
		credits:    map[int]string{0: "Minh Hà"},
		chrome:     []string{"SJC", "68.500", "In bài", "Gửi email", "Chia sẻ", "Liên hệ", "Lê Lợi", "Tin, ảnh", "Nguồn:", "Hội nghị Ban Chấp hành"},
	}, {
		file:     "pages/chuyenmuc_thusau.txt",
		category: "Học tập và làm theo Bác",
		title:    "Lan tỏa gương người tốt, việc tốt trong doanh nghiệp",
		date:     "2023-12-01T10:20:00+07:00", hasTime: true, views: 2345,
		author:     "Hoàng Long",
		source:     Source{Name: "TTXVN"},
		lead:       "Những năm qua, việc học tập và làm theo tư tưởng",
		firstPara:  "Anh Nguyễn Văn Bình, công nhân Phân xưởng cơ khí",
		lastPara:   "Chị Trần Thị Mai, đại diện các cá nhân được biểu dương",
		paragraphs: 4, // the numbered heading is text
		captions:   []string{"Anh Nguyễn Văn Bình (bên phải) hướng dẫn đồng nghiệp vận hành máy mới.", "Các đại biểu nhận Giấy khen"},
		credits:    map[int]string{0: "Hoàng Long"},
		chrome:     []string{"23/11/2026", "DOANH NGHIỆP TỈNH", "A A A", "USD", "(Theo TTXVN)", "Gửi bình luận"},
	}, {
		file:     "pages/iso_pipes.txt",
		category: "Hoạt động Đảng bộ khối",
		title:    "Đảng ủy Khối tổng kết công tác chuyển đổi số năm 2023",
		date:     "2023-12-01T10:20:00+07:00", hasTime: true, views: 1234,
		source:     Source{Name: "baohungyen.vn", URL: "https://www.baohungyen.vn/chuyen-doi-so-2023.html"},
		lead:       "Chiều 30/11, Đảng ủy Khối các cơ quan tỉnh tổ chức hội nghị",
		firstPara:  "Năm 2023, 100% tổ chức cơ sở đảng",
		lastPara:   "Năm 2023, 100% tổ chức cơ sở đảng",
		paragraphs: 1,
		chrome:     []string{"Facebook", "Zalo", "Ban Thường vụ mở rộng"},
	}, {
		file:     "pages/date_first.txt",
		category: "Tin tức - Sự kiện",
		title:    "Hội nghị tập huấn nghiệp vụ công tác kiểm tra, giám sát năm 2023",
		date:     "2023-11-14T09:15:00+07:00", hasTime: true, views: 1021,
		author:     "Minh Châu",
		lead:       "Ngày 13/11, Ủy ban Kiểm tra Đảng ủy Khối tổ chức hội nghị",
		firstPara:  "Tại hội nghị, các đại biểu được nghe báo cáo viên",
		lastPara:   "Hội nghị là dịp để cán bộ làm công tác kiểm tra",
		paragraphs: 2,
		captions:   []string{"Báo cáo viên truyền đạt tại hội nghị"},
		chrome:     []string{"Tác giả", "Đã xem", "GMT", "Thư viện ảnh"},
	}, {
		file:     "pages/bac_bo_style.txt",
		category: "Tin tức - Sự kiện",
		title:    "Đảng ủy khối các cơ quan tỉnh tổ chức Hội nghị tổng kết công tác năm 2019",
		date:     "2019-12-26T10:05:12+07:00", hasTime: true, views: 1208,
		author:     "Nguyễn Hà",
		lead:       "Sáng ngày 25/12/2019, Đảng ủy khối các cơ quan tỉnh tổ chức Hội nghị tổng kết",
		firstPara:  "Năm 2019, Đảng ủy khối đã lãnh đạo",
		lastPara:   "Phát biểu tại Hội nghị, đồng chí Bí thư Đảng ủy khối",
		paragraphs: 2,
		captions:   []string{"Quang cảnh Hội nghị", "Đồng chí Bí thư Đảng ủy khối trao Bằng khen cho các tập thể"},
		chrome:     []string{"Ban Chấp hành Đảng bộ khối lần thứ 18"},
	}, {
		// A section name too long to look like one; the title after the
		// date is longer still.
		file:       "pages/long_section.txt",
		category:   "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh trong Đảng bộ Khối",
		title:      "Chi bộ Văn phòng Đảng ủy Khối đăng ký thực hiện việc làm cụ thể làm theo tấm gương đạo đức Hồ Chí Minh năm 2024",
		date:       "2024-05-15T00:00:00+07:00",
		source:     Source{Name: "dangbokhoi.namdinh.gov.vn", URL: "http://dangbokhoi.namdinh.gov.vn"},
		lead:       "Ngày 14/5, Chi bộ Văn phòng Đảng ủy Khối tổ chức sinh hoạt chuyên đề",
		firstPara:  "Việc đăng ký được công khai tại chi bộ",
		lastPara:   "Việc đăng ký được công khai tại chi bộ",
		paragraphs: 1,
		captions:   []string{"Các đảng viên đăng ký việc làm cụ thể."},
		credits:    map[int]string{0: "Thu Trang"},
	}, {
		// Date, counter and keywords printed under the article.
		file:     "pages/date_at_end.txt",
		category: "Xây dựng Đảng",
		title:    "Nâng cao chất lượng sinh hoạt chi bộ ở các cơ sở đảng trong doanh nghiệp",
		date:     "2023-06-05T07:45:00+07:00", hasTime: true, views: 3210,
		author:     "Lê Minh",
		lead:       "Thời gian qua, Đảng ủy Khối Doanh nghiệp đã chỉ đạo",
		firstPara:  "Nhiều chi bộ đã lựa chọn chuyên đề thiết thực",
		lastPara:   "Nhiều chi bộ đã lựa chọn chuyên đề thiết thực",
		paragraphs: 1,
		chrome:     []string{"Từ khóa", "Ngày đăng", "Lượt xem", "3.210"},
	}}
	for _, want := range pages {
		t.Run(want.file, func(t *testing.T) { checkPage(t, want) })
	}
}

func TestTags(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "pages", "date_at_end.txt"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Parse(string(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sinh hoạt chi bộ", "doanh nghiệp", "xây dựng Đảng"}; !slices.Equal(a.Tags, want) {
		t.Errorf("tags %q, want %q", a.Tags, want)
	}
}

func TestNotAnArticle(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "pages", "only_chrome.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for name, dump := range map[string]string{"chrome": string(b), "empty": "", "blank": " \n\u00a0\n\t"} {
		if _, err := Parse(dump, nil); !errors.Is(err, ErrNoTitle) && !errors.Is(err, ErrNoBody) {
			t.Errorf("%s: Parse error %v, want ErrNoTitle or ErrNoBody", name, err)
		}
	}
	if _, err := Parse("Một tiêu đề bài viết không có nội dung\nTin liên quan\nBài khác", nil); !errors.Is(err, ErrNoBody) {
		t.Errorf("title only: %v, want ErrNoBody", err)
	}
}

// Decomposed input (NFD, as some Mac tools write) comes out in NFC.
func TestNFC(t *testing.T) {
	nfd := "Hoa\u0323t \u0111o\u0302\u0323ng\n\nTie\u0302u \u0111e\u0302\u0300 bài vie\u0302\u0301t thu\u031b\u0309\n\n21:17, 19/11/2021\n\nNo\u0323\u0302i dung ba\u0300i vie\u0302\u0301t đa\u0303 đu\u031bo\u031b\u0323c chua\u0302\u0309n hóa, vo\u031b\u0301i nhie\u0302\u0300u ca\u0302u. Đây là câu thứ hai của đoạn."
	a, err := Parse(nfd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Tiêu đề bài viết thử" || a.Category != "Hoạt động" {
		t.Errorf("title %q category %q, want NFC text", a.Title, a.Category)
	}
	if a.Lead != "Nội dung bài viết đã được chuẩn hóa, với nhiều câu. Đây là câu thứ hai của đoạn." {
		t.Errorf("lead %q", a.Lead)
	}
}

func TestStopMarkersAndChrome(t *testing.T) {
	stops := []string{"Các bài viết khác", "TIN LIÊN QUAN", "Tin cùng chuyên mục:", "Video hoạt độngHình ảnh hoạt động",
		"Giá vàng 9999 tr.đ/lượng", "Tỷ giá ĐVT:đồng", "Website liên kết", "Nội dung:", "Đang truy cập: 27",
		"© 2024 Đảng bộ Khối", "Bản quyền thuộc Đảng ủy Khối", "Địa chỉ: Số 8, phố Lê Lợi", "Bình luận (3)", "Tin khác"}
	for _, l := range stops {
		if !stopMarker(l) {
			t.Errorf("%q does not end the article", l)
		}
	}
	// Sub-headings and sentences that begin with the same words do not.
	text := []string{"Lãi suất cho vay tiếp tục giảm", "Tin khác biệt giữa hai bản báo cáo", "Video hoạt động của chi bộ được lan tỏa.",
		"Bình luận về kết quả hội nghị, đồng chí Bí thư cho rằng mọi việc đã đúng hướng.", "Giá vàng trong nước biến động mạnh",
		"Liên kết chuỗi giá trị nông sản"}
	for _, l := range text {
		if stopMarker(l) {
			t.Errorf("%q ends the article; it is text", l)
		}
	}
	for _, l := range []string{"Xem với cỡ chữ", "Cỡ chữ: A- A A+", "In bài", "Chia sẻ:", "Facebook", "---", "* * *"} {
		if !chrome(l) {
			t.Errorf("%q is not dropped", l)
		}
	}
	for _, l := range []string{"Thích Quảng Đức", "Tin mới về hội nghị", "Hà Nội"} {
		if chrome(l) {
			t.Errorf("%q is dropped; it is text", l)
		}
	}
}

func TestBylinesAndSources(t *testing.T) {
	for l, want := range map[string]string{
		"Hồng Quang": "Hồng Quang", "Phương Minh – Nguyễn Nhân": "Phương Minh – Nguyễn Nhân",
		"Bích Ngọc- Ban Tuyên giáo Đảng ủy Khối": "Bích Ngọc- Ban Tuyên giáo Đảng ủy Khối",
		"Thanh Thủy - Văn phòng Đảng ủy":         "Thanh Thủy - Văn phòng Đảng ủy", "Tin, ảnh: Lam Hồng": "Lam Hồng",
		"Bài và ảnh: Minh Châu": "Minh Châu", "NGUYỄN VĂN AN": "NGUYỄN VĂN AN", "Văn Hùng (TTXVN)": "Văn Hùng (TTXVN)",
		"Hồng Quang.": "Hồng Quang",
	} {
		if got, ok := authorLine(l); !ok || got != want {
			t.Errorf("authorLine(%q) = %q, %v; want %q", l, got, ok, want)
		}
	}
	for _, l := range []string{"Quang cảnh Hội Nghị.", "Toàn cảnh buổi làm việc", "Hội nghị kết thúc trong không khí phấn khởi.",
		"Đại biểu dự hội nghị", "Ngày 19/4/2019"} {
		if got, ok := authorLine(l); ok {
			t.Errorf("authorLine(%q) = %q; not a byline", l, got)
		}
	}
	for l, want := range map[string]Source{
		"Theo:http://baonamdinh.vn/":               {Name: "baonamdinh.vn", URL: "http://baonamdinh.vn/"},
		"Nguồn: Báo Hưng Yên":                      {Name: "Báo Hưng Yên"},
		"(Theo TTXVN)":                             {Name: "TTXVN"},
		"Theo baohungyen.vn":                       {Name: "baohungyen.vn"},
		"Nguồn: https://www.dangcongsan.vn/x.html": {Name: "dangcongsan.vn", URL: "https://www.dangcongsan.vn/x.html"},
	} {
		if got, ok := parseSource(l); !ok || got != want {
			t.Errorf("parseSource(%q) = %+v, %v; want %+v", l, got, ok, want)
		}
	}
	if s, ok := parseSource("Theo báo cáo, năm 2023 toàn Khối kết nạp 412 đảng viên."); ok {
		t.Errorf("a sentence read as a source: %+v", s)
	}
}
