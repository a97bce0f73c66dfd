package main

import (
	"strings"
	"testing"
	"time"
)

func TestSlugify(t *testing.T) {
	for _, tc := range []struct{ title, want string }{
		{"Đảng ủy khối các cơ quan tỉnh Hưng Yên", "dang-uy-khoi-cac-co-quan-tinh-hung-yen"},
		{"KỶ NIỆM 1 NĂM THÀNH LẬP ĐẢNG BỘ KHỐI (1-6-2020 - 1-6-2021)", "ky-niem-1-nam-thanh-lap-dang-bo-khoi-1-6-2020-1-6-2021"},
		{"  “Các giải pháp” – nâng cao chất lượng…  ", "cac-giai-phap-nang-cao-chat-luong"},
		{"Nghị quyết T.Ư 6, khóa XII", "nghi-quyet-t-u-6-khoa-xii"},
		{"<script>alert(1)</script>", "script-alert-1-script"},
		{"!!!", "bai-viet"},
		{"", "bai-viet"},
	} {
		if got := slugify(tc.title); got != tc.want {
			t.Errorf("slugify(%q) = %q, want %q", tc.title, got, tc.want)
		}
	}
}

func TestSlugifyNFCAndNFDAgree(t *testing.T) {
	// Editors paste from Word (NFC) and from macOS (NFD); the page name must not depend on it.
	nfc := "Hưng Yên"
	nfd := "Hu\u031bng Ye\u0302n"
	if slugify(nfc) != slugify(nfd) {
		t.Fatalf("slugify(NFC)=%q, slugify(NFD)=%q", slugify(nfc), slugify(nfd))
	}
}

func TestSlugifyLength(t *testing.T) {
	title := strings.Repeat("Đồng chí Phó Bí thư Thường trực Tỉnh ủy ", 5)
	got := slugify(title)
	if len(got) > maxSlugLen || strings.HasSuffix(got, "-") || strings.HasPrefix(got, "-") {
		t.Fatalf("slugify gave %q (%d bytes)", got, len(got))
	}
	if !strings.HasPrefix(got, "dong-chi-pho-bi-thu-thuong-truc-tinh-uy-dong-chi") {
		t.Fatalf("slugify gave %q", got)
	}
	if strings.HasSuffix(got, "-tin") { // cut inside "tinh" rather than at a word boundary
		t.Fatalf("slugify cut a word: %q", got)
	}
}

func TestDateLine(t *testing.T) {
	for _, tc := range []struct{ at, want string }{
		{"2019-04-24T08:55:40Z", "Thứ Tư, 24/04/2019, 15:55"},
		{"2021-10-24T17:00:00Z", "Thứ Hai, 25/10/2021, 00:00"}, // already Monday in Vietnam
		{"2024-07-21T10:00:00+07:00", "Chủ nhật, 21/07/2024, 10:00"},
		{"2024-07-27T10:00:00+07:00", "Thứ Bảy, 27/07/2024, 10:00"},
	} {
		at, err := time.Parse(time.RFC3339, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		if got := dateLine(at); got != tc.want {
			t.Errorf("dateLine(%s) = %q, want %q", tc.at, got, tc.want)
		}
	}
}
