package main

import "strings"

// builtinWords are common compound words. A blocked term that is strictly
// inside one of them where it occurs is not a match (unless the term says
// inside_words): "du" is not found in "du lịch", "tham" not in "tham gia",
// "bạc" not in "Bạc Liêu". Vietnamese writes a space between the syllables
// of a word, so no syllable boundary tells a word's end; this list and each
// tenant's own "words" do. It leans towards words built on syllables that a
// blocklist is likely to hold alone (vulgar, violent or political ones),
// and holds only innocent words: a compound that keeps the blocked meaning
// ("đánh bạc", "khiêu dâm", "bạo loạn") is not here, so that blocking the
// shorter term still catches it.
// Only the words that contain one of a tenant's terms are put in its
// automaton, so a long list costs nothing at scan time.
var builtinWords = splitLines(`
du lịch
du khách
du học
du học sinh
du kích
du canh
du cư
du xuân
du ngoạn
du thuyền
du hành
du nhập
du mục
du dương
du ký
du lãm
giao du
ngao du
chu du
phiêu du
khu du lịch
tham gia
tham dự
tham quan
tham khảo
tham mưu
tham luận
tham vấn
tham lam
tham chiến
tham số
tham vọng
tham chiếu
tham tán
tham gia giao thông
thời gian
không gian
trung gian
gian hàng
gian nan
gian khổ
gian lao
gian dối
dân gian
nhân gian
thế gian
trần gian
gian phòng
hỗn loạn
rối loạn
loạn lạc
loạn thị
tán loạn
phản ánh
phản hồi
phản đối
phản biện
phản ứng
phản công
phản xạ
phản diện
phản cảm
phản chiếu
phản kháng
phản tỉnh
phản chứng
phản đề
phản pháo
bạo dạn
bạo gan
bạo bệnh
táo bạo
khẩu súng
súng đạn
súng ống
hiến máu
máu mủ
máu lửa
máu me
ngân hàng máu
cái chết
chính xác
xác định
xác nhận
xác minh
xác thực
xác suất
xác lập
xác đáng
thể xác
xác xơ
tù nhân
tù binh
tù tội
nhà tù
tù đày
tù túng
tù mù
tù và
ở tù
thu hút
cuốn hút
hút thuốc
hút bụi
hút ẩm
hấp dẫn
tiêm chích
châm chích
mặc dù
dù sao
dù vậy
dù rằng
dù cho
nhảy dù
ô dù
lính dù
nhũng nhiễu
đảng viên
đảng bộ
đảng ủy
đảng ủy viên
đảng đoàn
đảng phí
đảng phái
đảng vụ
đảng tịch
đảng kỳ
đảng sâm
chính đảng
tính đảng
ma túy
ma quỷ
ma sát
ma trận
ma thuật
bóng ma
ma mãnh
ma lanh
ma chay
tinh túy
đánh giá
đánh dấu
đánh bắt
đánh máy
đánh thuế
đánh đổi
đánh thức
đánh bại
đánh trống
đánh cá
đánh nhau
đánh đập
đánh số
tiền bạc
bạc hà
bạc bẽo
bạc màu
bạc tình
bạc nhược
bạc đầu
bạc phận
bạc lẻ
cá cược
Bạc Liêu
con lừa
hòn đảo
đảo ngược
đảo lộn
quần đảo
bán đảo
biển đảo
đảo quốc
con gái
bạn gái
dâm bụt
biểu diễn
biểu hiện
biểu dương
biểu quyết
biểu mẫu
biểu tượng
biểu đồ
biểu thị
biểu cảm
biểu lộ
biểu thuế
đại biểu
tiêu biểu
phát biểu
bảng biểu
tình hình
tình yêu
tình cảm
tình nguyện
tình nguyện viên
tình huống
tình trạng
tình báo
tình nghĩa
tình thế
tình đoàn kết
tình thương
chân tình
nhiệt tình
tận tình
tâm tình
ân tình
thân tình
cảm tình
lá cờ
cờ đỏ
cờ vua
cờ tướng
cờ hiệu
cờ hoa
treo cờ
chào cờ
cờ thi đua
gia đình
đình chỉ
đình trệ
đình chùa
triều đình
đình làng
đình đám
đình bản
độc lập
độc hại
độc quyền
độc đáo
độc giả
độc thân
độc tố
chất độc
đơn độc
cô độc
tài chính
tài sản
tài năng
tài liệu
tài nguyên
tài trợ
tài khoản
tài xế
tài giỏi
tài khóa
đề tài
nhân dân
dân chủ
dân tộc
dân số
dân sự
người dân
công dân
dân cư
dân vận
dân quân
dân sinh
dân trí
dân ca
nông dân
ngư dân
chủ tịch
chủ nghĩa
chủ đề
chủ động
chủ trì
chủ yếu
chủ trương
chủ nhiệm
chủ quyền
chủ đạo
chủ thể
chủ nhật
làm chủ
tự chủ
chủ quan
chủ tọa
gia chủ
chủ nhà
địa chủ
chủ sở hữu
chủ đầu tư
chủ lực
chủ chốt
tự do
tự do hóa
tự diễn biến
tự chuyển hóa
nhân quyền
quyền lực
quyền lợi
chính quyền
thẩm quyền
ủy quyền
quyền hạn
Hồ Chí Minh
hồ sơ
hồ chứa
mơ hồ
hồ hởi
hồ đồ
hồ bơi
tàu hỏa
tàu thuyền
tàu ngầm
tàu bay
tàu điện
tàu cá
con tàu
cộng sản
cộng đồng
cộng tác
cộng tác viên
cộng hòa
cộng sự
tổng cộng
cộng hưởng
công cộng
sản xuất
sản phẩm
sản lượng
bất động sản
di sản
phá sản
sản phụ
thủy sản
hải sản
nông sản
khoáng sản
đặc sản
vô sản
tư sản
chó sói
chó nghiệp vụ
ngu dân
ngu ngơ
điếm canh
chết đuối
giết mổ
sát sao
sát cánh
giám sát
khảo sát
quan sát
kiểm sát
sát nhập
cảnh sát
chém gió
tin tức
tin tưởng
tin học
thông tin
niềm tin
tin cậy
giả mạo
giả định
giả thuyết
giả thiết
tác giả
học giả
độc giả
khán giả
thính giả
soạn giả
sự thật
thật thà
chân thật
khủng hoảng
khủng khiếp
phát xít
chiến tranh
chiến tranh lạnh
chiến sĩ
chiến lược
chiến dịch
chiến thắng
bom đạn
đạn dược
vũ khí
vũ trang
lực lượng vũ trang
an ninh
an toàn
an sinh
an ninh mạng
mạng xã hội
mạng lưới
tính mạng
cách mạng
sinh mạng
mạng internet
trực tuyến
trực tiếp
trực thuộc
trực ban
trực quan
giáo dục
thể dục
dục vọng
ví dụ
dụ dự
do dự
dự án
dự báo
dự kiến
dự thảo
dự toán
dự phòng
dự thi
tham dự
dự họp
`)

// builtinMisspellings are common mistakes in Vietnamese newsroom copy.
var builtinMisspellings = [][2]string{
	{"sát nhập", "sáp nhập"},
	{"chuẩn đoán", "chẩn đoán"},
	{"bổ xung", "bổ sung"},
	{"sử lý", "xử lý"},
	{"sử lí", "xử lí"},
	{"xuất xắc", "xuất sắc"},
	{"suất sắc", "xuất sắc"},
	{"sắc xuất", "xác suất"},
	{"xác xuất", "xác suất"},
	{"cọ sát", "cọ xát"},
	{"chia sẽ", "chia sẻ"},
	{"thăm quan", "tham quan"},
	{"xán lạng", "xán lạn"},
	{"sáng lạn", "xán lạn"},
	{"sáng lạng", "xán lạn"},
	{"chín mùi", "chín muồi"},
	{"vô hình chung", "vô hình trung"},
	{"tựu chung", "tựu trung"},
	{"nghành", "ngành"},
	{"dành độc lập", "giành độc lập"},
	{"dành chiến thắng", "giành chiến thắng"},
	{"giành dụm", "dành dụm"},
	{"chau chuốt", "trau chuốt"},
	{"sơ xuất", "sơ suất"},
	{"năng xuất", "năng suất"},
	{"sản suất", "sản xuất"},
	{"xuất sứ", "xuất xứ"},
	{"kiểm xoát", "kiểm soát"},
	{"xem sét", "xem xét"},
	{"sắp sếp", "sắp xếp"},
	{"chính sác", "chính xác"},
	{"giúp đở", "giúp đỡ"},
	{"bứt xúc", "bức xúc"},
	{"chặt chẻ", "chặt chẽ"},
	{"lảnh đạo", "lãnh đạo"},
	{"nghĩ ngơi", "nghỉ ngơi"},
	{"sữa chữa", "sửa chữa"},
	{"cơ xở", "cơ sở"},
	{"dấu diếm", "giấu giếm"},
	{"giấu diếm", "giấu giếm"},
}

// builtinOfficialNames are names the Party's own style writes one way.
var builtinOfficialNames = []struct {
	name     string
	variants []string
}{
	{"Đảng Cộng sản Việt Nam", []string{"Đảng CSVN", "ĐCSVN"}},
	{"Chủ tịch Hồ Chí Minh", nil},
	{"Cộng hòa xã hội chủ nghĩa Việt Nam", []string{"CHXHCN Việt Nam"}},
	{"Ban Chấp hành Trung ương", nil},
	{"Bộ Chính trị", nil},
	{"Ban Bí thư", nil},
	{"Tổng Bí thư", nil},
	{"Mặt trận Tổ quốc Việt Nam", nil},
	{"Thủ tướng Chính phủ", nil},
	{"Việt Nam", nil},
}

// partyBefore and partyAfter are the contexts in which "đảng" names the
// Communist Party of Vietnam and is written "Đảng" (Quy định 66-QĐ/TW,
// Nghị định 30/2020/NĐ-CP, appendix II): "sự lãnh đạo của Đảng",
// "Đảng ta", "Đảng Cộng sản". partyCompounds follow "đảng" in common
// nouns that stay lower case ("đảng viên", "tổ chức đảng", "đảng phí").
var (
	partyBefore = []string{
		"của", "với", "vào", "theo", "lãnh đạo", "xây dựng", "chỉnh đốn", "trung ương", "điều lệ", "nghị quyết",
		"cương lĩnh", "đường lối", "chủ trương", "ơn", "tin vào", "trung thành với", "sinh nhật", "thành lập",
		"kết nạp", "vững mạnh", "mừng",
	}
	partyAfter     = []string{"ta", "cộng sản", "cộng sản việt nam", "quang vinh", "và nhà nước", "và bác hồ", "lãnh đạo"}
	partyCompounds = []string{"viên", "bộ", "ủy", "uỷ", "phí", "vụ", "đoàn", "phái", "tịch", "kỳ", "kì", "sâm", "trưởng", "tính", "cử", "kỷ", "kỉ"}
)

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
