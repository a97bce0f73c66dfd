package legacy

import (
	"testing"
	"time"
)

func TestDateForms(t *testing.T) {
	vn, err := time.LoadLocation(Vietnam)
	if err != nil {
		t.Fatal(err)
	}
	at := func(y, mo, d, h, mi, s int) time.Time { return time.Date(y, time.Month(mo), d, h, mi, s, 0, vn) }
	cases := []struct {
		line    string
		want    time.Time
		hasTime bool
		views   int64
	}{
		{"Thứ Tư, Ngày 24 Tháng 04 Năm 2019 3:55:40 PM | 696", at(2019, 4, 24, 15, 55, 40), true, 696},
		{"Thứ 2, Ngày 25 / 10 / 2021", at(2021, 10, 25, 0, 0, 0), false, -1},
		{"21:17, 19/11/2021", at(2021, 11, 19, 21, 17, 0), true, -1},
		{"Đăng ngày: 22/07/2024 - Lượt xem: 1566", at(2024, 7, 22, 0, 0, 0), false, 1566},
		{"24/08/2018 | 16:30 PM", at(2018, 8, 24, 16, 30, 0), true, -1},
		{"Cập nhật lúc 08:15, 12/03/2023", at(2023, 3, 12, 8, 15, 0), true, -1},
		{"Thứ Sáu, 01/12/2023 - 10:20", at(2023, 12, 1, 10, 20, 0), true, -1},
		{"2023-12-01", at(2023, 12, 1, 0, 0, 0), false, -1},
		{"2023-12-01T10:20:00+07:00", at(2023, 12, 1, 10, 20, 0), true, -1},
		{"2023-12-01T03:20:00Z", at(2023, 12, 1, 10, 20, 0), true, -1},
		{"12:05 AM, 02/01/2020", at(2020, 1, 2, 0, 5, 0), true, -1},
		{"Chủ nhật, 05.03.2023 09h30 (GMT+7)", at(2023, 3, 5, 9, 30, 0), true, -1},
		{"Thứ Năm, ngày 5 tháng 3 năm 2020 (812 lượt xem)", at(2020, 3, 5, 0, 0, 0), false, 812},
		{"19/11/2021 | Lượt xem: 2.345", at(2021, 11, 19, 0, 0, 0), false, 2345},
		{"19/11/2021 | Lượt xem: 1,234", at(2021, 11, 19, 0, 0, 0), false, 1234},
	}
	for _, c := range cases {
		dm, ok := findDate(c.line, vn)
		if !ok {
			t.Errorf("%q: no date", c.line)
			continue
		}
		if !dm.at.Equal(c.want) || dm.hasTime != c.hasTime {
			t.Errorf("%q: %v (time %v), want %v (time %v)", c.line, dm.at, dm.hasTime, c.want, c.hasTime)
		}
		n, _, ok := findViews(dm.rest, true)
		if c.views < 0 && ok {
			t.Errorf("%q: views %d, want none", c.line, n)
		}
		if c.views >= 0 && (!ok || n != c.views) {
			t.Errorf("%q: views %d (%v), want %d", c.line, n, ok, c.views)
		}
	}
	for _, bad := range []string{"31/02/2021", "Hội nghị lần thứ 12", "99/99/2021", "1/1/1850"} {
		if dm, ok := findDate(bad, vn); ok {
			t.Errorf("%q: date %v, want none", bad, dm.at)
		}
	}
}

func TestSlugAndFold(t *testing.T) {
	for in, want := range map[string]string{
		"Hoạt động Đảng bộ khối": "hoat-dong-dang-bo-khoi",
		"HOẠT ĐỘNG ĐẢNG BỘ KHỐI": "hoat-dong-dang-bo-khoi",
		"Tin tức - Sự kiện":      "tin-tuc-su-kien",
		"Hoà bình / Hòa bình":    "hoa-binh-hoa-binh",
		"  Ðảng ủy (1/6/2020)  ": "dang-uy-1-6-2020",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCategoryResolve(t *testing.T) {
	tenant := []Category{
		{Slug: "ky-niem-1-nam-thanh-lap-dang-bo-khoi", Name: "Kỷ niệm 1 năm thành lập Đảng bộ Khối các cơ quan và doanh nghiệp tỉnh (1/6/2020 - 1/6/2021)"},
		{Slug: "hoat-dong-dang-bo-khoi", Name: "Hoạt động Đảng bộ khối"},
		{Slug: "tin-tuc-su-kien", Name: "Tin tức - Sự kiện"},
	}
	c := Categories{Tenant: tenant, Map: map[string]string{"Tin Trung ương": "tin-tuc-su-kien"}}
	cases := []struct {
		page, slug string
		warn       bool
	}{
		{"Hoạt động đảng bộ khối", "hoat-dong-dang-bo-khoi", false},
		{"KỶ NIỆM 1 NĂM THÀNH LẬP ĐẢNG BỘ KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH (1-6-2020 - 1-6-2021)", "ky-niem-1-nam-thanh-lap-dang-bo-khoi", false},
		{"Tin tức", "tin-tuc-su-kien", false},
		{"tin trung ương", "tin-tuc-su-kien", false},
		{"Văn hóa - Xã hội", "ky-niem-1-nam-thanh-lap-dang-bo-khoi", true},
		{"", "ky-niem-1-nam-thanh-lap-dang-bo-khoi", false},
	}
	for _, tc := range cases {
		slug, warn := c.Resolve(tc.page)
		if slug != tc.slug || (warn != "") != tc.warn {
			t.Errorf("Resolve(%q) = %q, %q; want %q (warning %v)", tc.page, slug, warn, tc.slug, tc.warn)
		}
	}
	c.Default = "tin-tuc-su-kien"
	if slug, _ := c.Resolve(""); slug != "tin-tuc-su-kien" {
		t.Errorf("no page category with a default: %q", slug)
	}
	if slug, _ := (Categories{}).Resolve("Hoạt động Đảng bộ khối"); slug != "hoat-dong-dang-bo-khoi" {
		t.Errorf("without a tenant list: %q, want the transliterated slug", slug)
	}
}
