package legacy

import (
	"strings"
	"testing"
)

// Pages written without looking at the parser's rules, in the layouts of
// other provincial Party-bloc portals, provincial newspapers and the central
// Party site: menus one item a line, "today" lines in the banner, breadcrumbs
// with ">" and "»", numbered and dashed points in the body, quotes, inline
// "(Ảnh: …)" credits, the "Nội dung:" label before the text, a two-paragraph
// and a seventeen-paragraph article, counters printed under the article,
// visitor counters, weather and footers. The expected values are what a
// person reads on each page, written by hand.
func TestBlindPages(t *testing.T) {
	pages := []page{{
		file:     "blind/quangtri_numbered.txt",
		category: "Xây dựng Đảng",
		title:    "Đảng ủy Khối các cơ quan tỉnh sơ kết 3 năm thực hiện Kết luận số 01-KL/TW của Bộ Chính trị",
		date:     "2023-12-01T10:20:00+07:00", hasTime: true, views: 2345,
		author:     "Nguyễn Văn Hùng - Ban Tuyên giáo",
		lead:       "Sáng 30/11, Đảng ủy Khối các cơ quan tỉnh tổ chức Hội nghị sơ kết",
		firstPara:  "Theo báo cáo, sau 3 năm triển khai",
		lastPara:   "Dịp này, Ban Thường vụ Đảng ủy Khối tặng Giấy khen",
		paragraphs: 10, // "…gồm:", three numbered points, "…sau:", three dashed points
		captions:   []string{"Đồng chí Lê Văn Sỹ, Bí thư Đảng ủy Khối các cơ quan tỉnh phát biểu tại hội nghị."},
		credits:    map[int]string{0: "Minh Anh"},
		chrome: []string{"QUẢNG TRỊ", "Thứ Bảy", "Thư viện ảnh", "Tìm kiếm", "A+", "In bài viết", "Chia sẻ", "28/11/2023",
			"Xem tiếp", "Tạp chí Cộng sản", "4.567.890", "Hùng Vương", "Ghi rõ nguồn", "Ban Tuyên giáo"},
	}, {
		file:     "blind/baothaibinh_quote.txt",
		category: "Xây dựng Đảng",
		title:    "Thái Bình: Trao Huy hiệu Đảng đợt 3/2 cho 1.025 đảng viên",
		date:     "2023-03-12T08:15:00+07:00", hasTime: true, views: 812,
		author:     "Thu Hà",
		source:     Source{Name: "Báo Thái Bình"},
		lead:       "Sáng 11/3, Ban Thường vụ Tỉnh ủy tổ chức lễ trao Huy hiệu Đảng",
		firstPara:  "Đợt này, toàn tỉnh có 1.025 đảng viên",
		lastPara:   "Đó là chia sẻ xúc động của đảng viên Trần Văn Tư",
		paragraphs: 4, // a quote stands as its own paragraph
		captions: []string{
			"Đồng chí Ngô Đông Hải, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy trao Huy hiệu 75 năm tuổi Đảng cho đảng viên lão thành.",
			"Các đảng viên nhận Huy hiệu Đảng chụp ảnh lưu niệm cùng lãnh đạo tỉnh.",
		},
		credits: map[int]string{0: "Thu Hà", 1: "Thu Hà"},
		chrome: []string{"ĐIỆN TỬ", "Thể thao", "°C", "Facebook", "Zalo", "(Ảnh:", "Tin, ảnh", "215 đảng viên",
			"SJC", "USD", "Lý Bôn", "Ghi rõ nguồn"},
	}, {
		file:     "blind/bacninh_short.txt",
		category: "Hoạt động Đảng bộ khối",
		title:    "Ủy ban Kiểm tra Đảng ủy Khối kiểm tra khi có dấu hiệu vi phạm tại một chi bộ",
		date:     "2024-03-15T00:00:00+07:00", views: 318,
		author:     "PV",
		lead:       "Ngày 14/3, Ủy ban Kiểm tra Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh công bố",
		firstPara:  "Thời gian kiểm tra từ ngày 15/3 đến ngày 15/4/2024",
		lastPara:   "Thời gian kiểm tra từ ngày 15/3 đến ngày 15/4/2024",
		paragraphs: 1,
		chrome:     []string{"BẮC NINH", "Thông báo", "Đăng ngày", "PV", "triển khai nhiệm vụ năm 2024", "Mua vào", "EUR", "1.234.567"},
	}, {
		file:     "blind/long_research_pm.txt",
		category: "Nghiên cứu - Trao đổi",
		title:    "Nâng cao chất lượng sinh hoạt chi bộ trong các cơ quan hành chính nhà nước hiện nay",
		date:     "2020-10-15T14:05:00+07:00", hasTime: true, views: 1045,
		author:     "ThS. Trần Thị Lan - Trường Chính trị tỉnh",
		lead:       "Chi bộ là nền tảng của Đảng, là hạt nhân chính trị ở cơ sở.",
		firstPara:  "1. Những kết quả đạt được",
		lastPara:   "Nâng cao chất lượng sinh hoạt chi bộ là nhiệm vụ lâu dài",
		paragraphs: 17, // two numbered headings, fifteen paragraphs
		captions:   []string{"Chi bộ Văn phòng UBND tỉnh sinh hoạt chuyên đề về cải cách hành chính"},
		credits:    map[int]string{0: "Hải Nam"},
		chrome: []string{"NAM ĐỊNH", "Trang chủ", "PM", "Trường Chính trị", "Lượt xem", "Gửi email", "Quay lại",
			"Đổi mới công tác tuyên truyền", "Cơ quan chủ quản", "0228"},
	}, {
		file:     "blind/dangcongsan_iso.txt",
		category: "Xây dựng Đảng",
		title:    "Nâng cao chất lượng đội ngũ cấp ủy viên cơ sở ở các đảng bộ khối",
		date:     "2024-04-18T09:30:00+07:00", hasTime: true,
		author:     "Minh Anh",
		source:     Source{Name: "dangcongsan.vn", URL: "https://dangcongsan.vn/xay-dung-dang/nang-cao-chat-luong-cap-uy-vien-co-so-661234.html"},
		lead:       "Sáng 17/4, Ban Tổ chức Đảng ủy Khối các cơ quan Trung ương tổ chức hội nghị tập huấn",
		firstPara:  "Tại hội nghị, các đại biểu được nghe báo cáo viên",
		lastPara:   "Báo cáo viên cũng dành nhiều thời gian trao đổi",
		paragraphs: 2,
		captions:   []string{"Quang cảnh hội nghị tập huấn"},
		credits:    map[int]string{0: "TTXVN"},
		chrome: []string{"English", "中文", "Kinh tế", "Minh Anh", "https://", "Twitter", "Email", "lần thứ 5",
			"Chính phủ", "Quốc hội", "Thời tiết", "27°C", "Tổng biên tập"},
	}, {
		file:     "blind/thaibinh_thu7.txt",
		category: "Hoạt động cơ sở",
		title:    "Chi bộ Kho bạc Nhà nước tỉnh kết nạp đảng viên mới",
		date:     "2024-03-09T00:00:00+07:00",
		source:   Source{Name: "baothaibinh.com.vn"},
		lead:     "Ngày 8/3, Chi bộ Kho bạc Nhà nước tỉnh tổ chức Lễ kết nạp đảng viên mới",
		// The new member's promise ends the article.
		firstPara:  "Tại buổi lễ, đồng chí Bí thư Chi bộ đã quán triệt",
		lastPara:   "Đảng viên Nguyễn Thị Hồng Nhung xúc động hứa",
		paragraphs: 2,
		captions:   []string{"Đồng chí Bí thư Chi bộ trao Quyết định kết nạp đảng viên cho quần chúng Nguyễn Thị Hồng Nhung"},
		credits:    map[int]string{0: "Đức Mạnh"},
		chrome: []string{"THÁI BÌNH", "»", "Thứ 7", "(Ảnh:", "baothaibinh", "Sở Y tế", "Liên kết website", "Ngoại tệ",
			"trực tuyến", "998.112"},
	}, {
		file:     "blind/hcm_noidung.txt",
		category: "Tin hoạt động",
		title:    "Hội nghị quán triệt Nghị quyết Hội nghị lần thứ sáu Ban Chấp hành Trung ương Đảng khóa XIII",
		date:     "2022-09-03T09:05:00+07:00", hasTime: true,
		author:     "Minh Anh",
		lead:       "Sáng 2/9, Đảng ủy Khối Cơ quan - Doanh nghiệp tỉnh tổ chức hội nghị trực tuyến",
		firstPara:  "Tại hội nghị, đồng chí Trần Văn Dũng",
		lastPara:   "Kết thúc hội nghị, Ban Thường vụ Đảng ủy Khối yêu cầu",
		paragraphs: 3,
		captions: []string{
			"Đồng chí Trần Văn Dũng truyền đạt nội dung Nghị quyết tại hội nghị.",
			"Các đại biểu dự hội nghị tại điểm cầu Đảng ủy Khối.",
		},
		chrome: []string{"Hà Nam", "Hỏi đáp", "Tin mới nhất", "Sở Công Thương", "lần thứ 8", "Thống kê", "Hôm nay",
			"2.345.678", "Chịu trách nhiệm"},
	}, {
		file:     "blind/hungyen_ngaythang.txt",
		category: "Tin tức - Sự kiện",
		title:    "Hội nghị tổng kết công tác tuyên giáo năm 2019 và triển khai nhiệm vụ năm 2020",
		date:     "2019-12-12T08:05:12+07:00", hasTime: true, views: 2031,
		author:     "Hà Linh - Văn phòng Đảng ủy khối",
		lead:       "Sáng 11/12/2019, Ban Tuyên giáo Đảng ủy Khối các cơ quan tỉnh tổ chức Hội nghị tổng kết",
		firstPara:  "Năm 2019, công tác tuyên giáo của Đảng bộ khối",
		lastPara:   "Phát biểu chỉ đạo Hội nghị, đồng chí Bí thư Đảng ủy khối đề nghị năm 2020",
		paragraphs: 3,
		captions: []string{
			"Đồng chí Nguyễn Khắc Chí - Bí thư Đảng ủy khối phát biểu chỉ đạo Hội nghị",
			"Đồng chí Bí thư Đảng ủy khối trao Giấy khen cho các tập thể có thành tích xuất sắc",
		},
		chrome: []string{"Nhiệt liệt", "Giới thiệu", "Văn bản", "2.031", "Hà Linh", "•", "lần thứ 17", "25/11/2019"},
	}}
	for _, want := range pages {
		t.Run(want.file, func(t *testing.T) { checkPage(t, want) })
	}
}

// Second round, written after the first fixes: list items without final
// punctuation, an inline "Xem thêm: …" link inside the text, a caption
// labelled "Ảnh:", a byline with "(tổng hợp)".
func TestBlindPagesRound2(t *testing.T) {
	pages := []page{{
		file:     "blind/bullets_xemthem.txt",
		category: "Công tác tuyên giáo",
		title:    "Đảng ủy Khối ban hành kế hoạch tuyên truyền kỷ niệm 95 năm Ngày thành lập Đảng",
		date:     "2025-01-12T07:30:00+07:00", hasTime: true, views: 1208,
		author:     "Minh Anh (tổng hợp)",
		lead:       "Ngày 10/1, Ban Thường vụ Đảng ủy Khối các cơ quan tỉnh ban hành Kế hoạch",
		firstPara:  "Kế hoạch nhằm tuyên truyền sâu rộng",
		lastPara:   "Ban Thường vụ Đảng ủy Khối yêu cầu các cấp ủy cơ sở",
		paragraphs: 8, // three paragraphs, "…các vấn đề:" and its four list items
		captions:   []string{"Quang cảnh hội nghị triển khai kế hoạch"},
		chrome:     []string{"HẢI DƯƠNG", "Chuyên mục", "Xem thêm", "tổng kết công tác tuyên giáo", "Liên kết web", "18°C", "Trụ sở"},
	}, {
		// Author and counter on the date line; "Bài viết cùng chuyên mục".
		file:     "blind/inline_author_date.txt",
		category: "Hoạt động Đảng bộ Khối",
		title:    "Đảng bộ Công ty Điện lực Ninh Bình tổ chức Đại hội điểm nhiệm kỳ 2025 - 2030",
		date:     "2025-03-12T08:15:00+07:00", hasTime: true, views: 956,
		author:     "Trần Hà",
		lead:       "Ngày 11/3, Đảng bộ Công ty Điện lực Ninh Bình tổ chức Đại hội",
		firstPara:  "Đại hội đã đánh giá kết quả thực hiện Nghị quyết",
		lastPara:   "Nhiệm kỳ 2025 - 2030, Đảng bộ phấn đấu",
		paragraphs: 2,
		captions:   []string{"Đại hội biểu quyết thông qua Nghị quyết Đại hội."},
		chrome:     []string{"NINH BÌNH", "Người đăng", "cùng chuyên mục", "Sở Tài chính", "Tin cũ hơn", "Kho bạc", "Ban biên tập"},
	}, {
		// The byline under the date, a zone after the time, a comment form.
		file:     "blind/author_top.txt",
		category: "Tin tức",
		title:    "Hội thi Bí thư chi bộ giỏi Đảng bộ Khối năm 2023",
		date:     "2023-10-17T15:40:00+07:00", hasTime: true,
		author:     "Thu Hà",
		source:     Source{Name: "Báo Hưng Yên"},
		lead:       "Chiều 16/10, Đảng ủy Khối các cơ quan tỉnh tổ chức vòng chung kết",
		firstPara:  "Tại vòng chung kết, các thí sinh trải qua hai phần thi",
		lastPara:   "Kết quả, Ban Tổ chức trao 1 giải Nhất",
		paragraphs: 2,
		captions:   []string{"Ban Tổ chức trao giải Nhất cho thí sinh Nguyễn Thị Lan, Bí thư Chi bộ Sở Tư pháp"},
		chrome:     []string{"Tin, ảnh", "GMT", "Ý kiến", "Họ tên", "Email", "Gửi"},
	}, {
		// A breadcrumb that ends with the article's own title.
		file:     "blind/crumb_is_title.txt",
		category: "Hoạt động cơ sở",
		title:    "Chi bộ Trường THPT Chuyên Vĩnh Phúc kết nạp 3 học sinh ưu tú vào Đảng",
		date:     "2024-03-05T09:12:00+07:00", hasTime: true, views: 345,
		author:     "Hồng Quang - Thu Hà",
		lead:       "Ngày 4/3, Chi bộ Trường THPT Chuyên Vĩnh Phúc tổ chức Lễ kết nạp",
		firstPara:  "Các em học sinh được kết nạp",
		lastPara:   "Các em học sinh được kết nạp",
		paragraphs: 1,
		captions:   []string{"Lễ kết nạp đảng viên mới tại Chi bộ Trường THPT Chuyên Vĩnh Phúc"},
		credits:    map[int]string{0: "Thu Hà"},
		chrome:     []string{"VĨNH PHÚC", "lượt xem", "GMT", "Hồng Quang", "liên quan", "Sở Giáo dục", "20/02/2024"},
	}, {
		// The banner's "today" above a one-item-a-line menu; the article's
		// date, author and counter under it; a title in capitals.
		file:     "blind/banner_today.txt",
		category: "Tin tức - Sự kiện",
		title:    "HỘI NGHỊ BAN CHẤP HÀNH ĐẢNG BỘ KHỐI LẦN THỨ 12, NHIỆM KỲ 2020 - 2025",
		date:     "2023-07-06T07:45:00+07:00", hasTime: true, views: 781,
		author:     "Thanh Hải",
		lead:       "Sáng 5/7, Ban Chấp hành Đảng bộ Khối các cơ quan tỉnh tổ chức Hội nghị lần thứ 12",
		firstPara:  "Theo báo cáo, 6 tháng đầu năm",
		lastPara:   "Hội nghị đã thảo luận, thống nhất",
		paragraphs: 2,
		chrome:     []string{"HÀ TĨNH", "Thứ Hai", "23/11/2026", "Giới thiệu", "Ngày đăng", "Tác giả", "Lượt xem", "tập huấn"},
	}, {
		// Title and lead printed twice (header, then article), a toolbar
		// row, "Theo <name>" without a colon.
		file:     "blind/lead_twice.txt",
		category: "Xây dựng Đảng",
		title:    "Đảng ủy Khối Doanh nghiệp tỉnh sơ kết công tác 9 tháng đầu năm",
		date:     "2023-09-14T16:05:00+07:00", hasTime: true, views: 2345,
		author:     "Nguyễn Văn Hùng",
		source:     Source{Name: "Báo Hưng Yên"},
		lead:       "(BHY) - Chiều 13/9, Đảng ủy Khối Doanh nghiệp tỉnh tổ chức hội nghị sơ kết",
		firstPara:  "9 tháng qua, Đảng ủy Khối đã lãnh đạo",
		lastPara:   "9 tháng qua, Đảng ủy Khối đã lãnh đạo",
		paragraphs: 1,
		captions:   []string{"Quang cảnh hội nghị"},
		chrome:     []string{"Cỡ chữ", "A+", "Gửi", "Nguyễn Văn Hùng", "Theo"},
	}, {
		// Captions that are full sentences with commas and a full stop.
		file:  "blind/comma_captions.txt",
		title: "Đảng ủy Khối các cơ quan Trung ương tổng kết công tác năm 2023",
		date:  "2023-12-28T10:15:00+07:00", hasTime: true,
		author:     "Phương Thúy",
		lead:       "Sáng 28/12, Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị tổng kết",
		firstPara:  "Năm 2023, Đảng ủy Khối đã lãnh đạo",
		lastPara:   "Hội nghị đã biểu dương, khen thưởng",
		paragraphs: 3,
		captions: []string{
			"Đồng chí Trương Thị Mai, Ủy viên Bộ Chính trị, Thường trực Ban Bí thư phát biểu chỉ đạo hội nghị.",
			"Các đại biểu dự hội nghị tại điểm cầu Trung ương, ngày 28/12/2023.",
		},
		chrome: []string{"AM", "Xem với cỡ chữ", "Phương Thúy"},
	}, {
		// "(Theo TTXVN)." closing the last paragraph.
		file:  "blind/source_in_paragraph.txt",
		title: "Đảng ủy Khối các cơ quan Trung ương sơ kết 5 năm thực hiện Chỉ thị 05 của Bộ Chính trị",
		date:  "2021-06-12T09:00:00+07:00", hasTime: true,
		author:     "Hồng Phúc",
		source:     Source{Name: "TTXVN"},
		lead:       "Sáng 11-6-2021, Đảng ủy Khối các cơ quan Trung ương tổ chức hội nghị",
		firstPara:  "Qua 5 năm thực hiện",
		lastPara:   "Hội nghị đã biểu dương 50 tập thể, 70 cá nhân điển hình trong học tập và làm theo Bác giai đoạn 2016 - 2021.",
		paragraphs: 2,
		captions:   []string{"Đồng chí Huỳnh Tấn Việt, Bí thư Đảng ủy Khối phát biểu tại hội nghị."},
		credits:    map[int]string{0: "Hồng Phúc"},
		chrome:     []string{"Theo", "(Ảnh"},
	}}
	for _, want := range pages {
		t.Run(want.file, func(t *testing.T) { checkPage(t, want) })
	}
}

// The rules added for the pages above, on lines of their own.
func TestBlindRules(t *testing.T) {
	for _, l := range []string{"In bài viết Gửi email Quay lại", "Chia sẻ: Facebook Twitter Zalo", "Cỡ chữ: A- A A+ | In | Gửi", "Twitter"} {
		if !chrome(l) {
			t.Errorf("toolbar %q is kept", l)
		}
	}
	for _, l := range []string{"In bài viết này, tác giả nêu rõ", "Twitter là mạng xã hội", "In ấn tài liệu"} {
		if chrome(l) {
			t.Errorf("%q is dropped; it is text", l)
		}
	}
	for l, want := range map[string]bool{
		"Xem thêm: Đảng ủy Khối tổng kết công tác tuyên giáo năm 2024":  true,
		"Tin liên quan: Hội nghị Ban Chấp hành Đảng bộ Khối lần thứ 12": true,
		"Tin liên quan": false, "Xem thêm:": false, "Giá vàng: SJC 67.100 67.700 đồng": false,
	} {
		if relatedLink(l) != want {
			t.Errorf("relatedLink(%q) = %v, want %v", l, !want, want)
		}
	}
	for v, want := range map[string]bool{"Lam Hồng": true, "TTXVN": true, "tư liệu": true, "Báo Hưng Yên": true,
		"Quang cảnh hội nghị": false, "Các đại biểu dự hội nghị tại điểm cầu": false} {
		if creditName(v) != want {
			t.Errorf("creditName(%q) = %v, want %v", v, !want, want)
		}
	}
	if rest, name := cutAuthor(" , | Người đăng: Trần Hà | "); name != "Trần Hà" || strings.Contains(rest, "Trần") {
		t.Errorf("cutAuthor: %q, %q", rest, name)
	}
	for l, want := range map[string]bool{
		"Đảng bộ Sở Tài chính tổ chức Đại hội nhiệm kỳ 2025 - 2030 (10/03/2025)": true,
		"» Chi bộ Sở Y tế sinh hoạt chuyên đề quý I (06/03/2024)":                true,
		"- Chỉ thị số 05-CT/TW của Bộ Chính trị (15/05/2016)":                    false,
		"Hội nghị được tổ chức vào ngày 10/03/2025.":                             false,
	} {
		if datedItem(l) != want {
			t.Errorf("datedItem(%q) = %v, want %v", l, !want, want)
		}
	}
	const title = "Chi bộ Trường THPT Chuyên Vĩnh Phúc kết nạp 3 học sinh ưu tú vào Đảng"
	for l, want := range map[string]string{
		"Trang chủ / Tin tức / Hoạt động cơ sở / " + title:                   "Hoạt động cơ sở",
		"Trang chủ > Hoạt động cơ sở > Chi bộ Trường THPT Chuyên Vĩnh Phúc…": "Hoạt động cơ sở",
		"Trang chủ > Tin tức > Xây dựng Đảng":                                "Xây dựng Đảng",
		"Trang chủ > " + title: "",
	} {
		c, _ := labelledCategory(l)
		if got := crumbBeforeTitle(l, c, title); got != want {
			t.Errorf("crumbBeforeTitle(%q) = %q, want %q", l, got, want)
		}
	}
	for l, want := range map[string]bool{
		"Đồng chí Trương Thị Mai, Ủy viên Bộ Chính trị phát biểu tại hội nghị.":                 true,
		"Các đại biểu dự hội nghị tại điểm cầu Trung ương, ngày 28/12/2023.":                    true,
		"Đồng chí đề nghị các cấp ủy tiếp tục quan tâm, chỉ đạo công tác phát triển đảng viên.": false,
		"Hội nghị đã biểu dương 25 tập thể, 40 cá nhân có thành tích xuất sắc.":                 false,
	} {
		if captionLike(l, false) != want {
			t.Errorf("captionLike(%q) = %v, want %v", l, !want, want)
		}
	}
	a, err := Parse("Chuyên đề\nĐồng chí Bí thư Tỉnh ủy trả lời phỏng vấn về công tác cán bộ\n08:15, 12/03/2023\n"+
		"Nhân dịp đầu xuân, đồng chí Bí thư Tỉnh ủy đã trả lời phỏng vấn của phóng viên về công tác cán bộ của tỉnh trong năm 2023.\n"+
		"PV: Xin đồng chí cho biết kết quả nổi bật?\nNăm qua, công tác cán bộ được thực hiện chặt chẽ, đúng quy trình, công khai, minh bạch.\n"+
		"Tin, ảnh: Thu Hà", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Author != "Thu Hà" || len(a.Body) != 2 || a.Body[0].Text != "PV: Xin đồng chí cho biết kết quả nổi bật?" {
		t.Errorf("interview: author %q, body %+v", a.Author, a.Body)
	}
	for _, l := range []string{"- Nâng cao chất lượng sinh hoạt chi bộ", "+ Tổ chức tốt hội nghị", "• Gương người tốt, việc tốt"} {
		if captionLike(l, false) {
			t.Errorf("list item %q read as a caption", l)
		}
	}
}
