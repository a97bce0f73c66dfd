package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blocpress/blocpress/deploy/internal/client"
)

// importResult is the part of `blocpress import --json` the test reads.
type importResult struct {
	File     string `json:"file"`
	ID       string `json:"id"`
	Revision int64  `json:"revision"`
	Title    string `json:"title"`
	Category string `json:"category"`
	Views    int64  `json:"views"`
	Error    string `json:"error"`
}

// The importer turns the five scraped seed pages into published articles
// with their original dates and view counts; importing them again changes
// nothing, and a dump that is not an article fails alone.
func TestImportLegacyDumps(t *testing.T) {
	ctx := waitCtx(t, 5*time.Minute)
	bin, key := importSetup(t, ctx)
	seeds := filepath.Join(repoRoot, "deploy", "internal", "legacy", "testdata", "seeds")
	runImport := func(paths ...string) ([]importResult, int, string) {
		t.Helper()
		return runImporter(t, ctx, bin, key, paths...)
	}

	first, code, stderr := runImport(seeds)
	if code != 0 || len(first) != 5 {
		t.Fatalf("first import: exit %d, %d results\n%s", code, len(first), stderr)
	}
	// What a person reads on each page, and the date line render prints.
	want := map[string]struct {
		category, titleStart, dateLine, author string
		views                                  int64
	}{
		"000_e4c5cb81dc79b66c.txt": {"hoat-dong-dang-bo-khoi", "Đảng ủy khối các cơ quan tỉnh, thành phố cụm Đồng bằng Bắc Bộ", "Thứ Tư, 24/04/2019, 15:55", "Hồng Quang", 696},
		"001_eca1851a5c8fe80e.txt": {"ky-niem-1-nam-thanh-lap-dang-bo-khoi", "Tập trung đổi mới, nâng cao năng lực lãnh đạo", "Thứ Hai, 25/10/2021, 00:00", "", 0},
		"002_69ae7685d5133d3d.txt": {"hoat-dong-dang-bo-khoi", "Đồng chí Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh Trần Quốc Toản", "Thứ Sáu, 19/11/2021, 21:17", "Phương Minh – Nguyễn Nhân", 0},
		"003_270624262d36aa46.txt": {"hoat-dong-dang-bo-khoi", "Đoàn Công tác của Đảng ủy Khối Cơ quan - Doanh nghiệp tỉnh Hưng Yên", "Thứ Hai, 22/07/2024, 00:00", "Bích Ngọc- Ban Tuyên giáo Đảng ủy Khối", 1566},
		"004_c44a0c87816ecb1f.txt": {"hoat-dong-dang-bo-khoi", "Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị toàn quốc", "Thứ Sáu, 24/08/2018, 16:30", "Phương Thúy", 0},
	}
	admin := client.New(platform.URL("ingest"), key)
	ids := map[string]string{}
	for _, r := range first {
		name := filepath.Base(r.File)
		w, ok := want[name]
		if !ok || r.Error != "" || r.ID == "" || r.Revision != 1 {
			t.Fatalf("%s: %+v", name, r)
		}
		ids[name] = r.ID
		if r.Category != w.category || !strings.HasPrefix(r.Title, w.titleStart) || r.Views != w.views {
			t.Errorf("%s: category %q title %q views %d; want %q, %q…, %d", name, r.Category, r.Title, r.Views, w.category, w.titleStart, w.views)
		}
		st, err := admin.WaitPublished(ctx, importTenant, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, page := fetch(t, st.PublicURL)
		html := string(page)
		if !strings.Contains(html, w.dateLine) {
			t.Errorf("%s: page %s lacks the date line %q", name, st.PublicURL, w.dateLine)
		}
		if w.author != "" && !strings.Contains(html, w.author) {
			t.Errorf("%s: page lacks the author %q", name, w.author)
		}
		// The stored article keeps none of the old site's chrome (the new
		// site has its own "Các bài viết khác" box, so the page is not
		// searched for that).
		var got struct {
			Article json.RawMessage `json:"article"`
		}
		if err := admin.Do(ctx, http.MethodGet, "/v1/tenants/"+importTenant+"/articles/"+r.ID, nil, nil, &got); err != nil {
			t.Fatal(err)
		}
		for _, chrome := range []string{"Các bài viết khác", "Tin liên quan", "Xem với cỡ chữ", "Website liên kết", "Video hoạt động", "Giá vàng", "Tỷ giá", "Nội dung:"} {
			if strings.Contains(string(got.Article), chrome) {
				t.Errorf("%s: the imported article keeps the old site's chrome %q", name, chrome)
			}
		}
		if !strings.Contains(string(got.Article), "Đồng chí") {
			t.Errorf("%s: the stored article lacks its text: %.300s", name, got.Article)
		}
	}
	// The legacy counts are where the counters start.
	waitCount(t, ctx, importTenant, ids["000_e4c5cb81dc79b66c.txt"], 696)
	waitCount(t, ctx, importTenant, ids["003_270624262d36aa46.txt"], 1566)
	_, page := fetch(t, platform.URL("site")+"/"+importTenant+"/")
	if !strings.Contains(string(page), "giao ban lần thứ IX tại tỉnh Hưng Yên") {
		t.Error("the tenant's home page does not list the imported seed 000")
	}

	// Again, with a dump that is not an article among them: the same
	// articles, still at revision 1; the broken file fails alone.
	broken := filepath.Join(t.TempDir(), "broken.txt")
	if err := os.WriteFile(broken, []byte("Trang chủ | Giới thiệu | Liên hệ\nWebsite liên kết\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second, code, stderr := runImport(seeds, broken)
	if code != 1 || len(second) != 6 {
		t.Fatalf("second import: exit %d (want 1 for the broken file), %d results\n%s", code, len(second), stderr)
	}
	for _, r := range second {
		name := filepath.Base(r.File)
		if name == "broken.txt" {
			if r.Error == "" || r.ID != "" {
				t.Errorf("broken.txt: %+v, want an error and no article", r)
			}
			continue
		}
		if r.Error != "" || r.ID != ids[name] {
			t.Errorf("%s re-imported as %q (%s), want the first id %s", name, r.ID, r.Error, ids[name])
		}
		var st struct {
			Revision int64  `json:"revision"`
			Status   string `json:"status"`
		}
		if err := admin.Do(ctx, http.MethodGet, "/v1/tenants/"+importTenant+"/articles/"+r.ID, nil, nil, &st); err != nil {
			t.Fatal(err)
		}
		if st.Revision != 1 || st.Status != "published" {
			t.Errorf("%s after re-import: revision %d, status %s; want 1, published", name, st.Revision, st.Status)
		}
	}
	// No second copy of any seed: each title is there once.
	var list struct {
		Items []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"items"`
	}
	if err := admin.Do(ctx, http.MethodGet, "/v1/tenants/"+importTenant+"/articles?limit=100", nil, nil, &list); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, it := range list.Items {
		seen[it.Title]++
	}
	for _, r := range first {
		if seen[r.Title] != 1 {
			t.Errorf("%s: %d articles titled %q after two imports, want 1", filepath.Base(r.File), seen[r.Title], r.Title)
		}
	}
	waitCount(t, ctx, importTenant, ids["000_e4c5cb81dc79b66c.txt"], 696)
}

// importTenant is where the importer's tests import: a tenant of its own, since
// the demo tenants already hold hand-made versions of the seeds, which
// moderation would hold as near-duplicates.
const importTenant = "legacy-import"

// importSetup stores the tenant, makes an admin key and builds the CLI.
func importSetup(t *testing.T, ctx context.Context) (bin, key string) {
	t.Helper()
	op := client.New(platform.URL("ingest"), creds.AdminToken)
	if err := op.Do(ctx, http.MethodPut, "/v1/admin/tenants/"+importTenant, nil, map[string]any{
		"name": "Đảng bộ Khối (bài viết chuyển từ trang cũ)",
		"categories": []map[string]string{
			{"slug": "hoat-dong-dang-bo-khoi", "name": "Hoạt động Đảng bộ khối"},
			{"slug": "ky-niem-1-nam-thanh-lap-dang-bo-khoi", "name": "Kỷ niệm 1 năm thành lập Đảng bộ Khối các cơ quan và doanh nghiệp tỉnh (1/6/2020 - 1/6/2021)"},
			{"slug": "tin-tuc-su-kien", "name": "Tin tức - Sự kiện"},
		},
	}, nil); err != nil {
		t.Fatal(err)
	}
	var k struct {
		Key string `json:"key"`
	}
	if err := op.Do(ctx, http.MethodPost, "/v1/admin/tenants/"+importTenant+"/keys", nil, map[string]string{"role": "admin"}, &k); err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(t.TempDir(), "blocpress")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./deploy/cmd/blocpress")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building blocpress: %v\n%s", err, out)
	}
	return bin, k.Key
}

// runImporter runs `blocpress import --json` and returns its report, exit
// status and stderr.
func runImporter(t *testing.T, ctx context.Context, bin, key string, args ...string) ([]importResult, int, string) {
	t.Helper()
	args = append([]string{"import", "--ingest", platform.URL("ingest"), "--tenant", importTenant, "--key", key, "--json"}, args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var res []importResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("import output: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return res, code, stderr.String()
}

// With --photos, a dump's photo files are uploaded and shown with the
// page's captions and credits.
func TestImportAttachesPhotos(t *testing.T) {
	ctx := waitCtx(t, 4*time.Minute)
	bin, key := importSetup(t, ctx)
	dir := t.TempDir()
	dump, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "internal", "legacy", "testdata", "pages", "breadcrumb_capnhat.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "thaibinh.txt"), dump, 0o644); err != nil {
		t.Fatal(err)
	}
	photos := filepath.Join(dir, "photos")
	if err := os.MkdirAll(photos, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(photos, "thaibinh-1.jpg"), photo(t, "photo3.jpg"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, code, stderr := runImporter(t, ctx, bin, key, "--photos", photos, "--category", "tin-tuc-su-kien", filepath.Join(dir, "thaibinh.txt"))
	if code != 0 || len(res) != 1 || res[0].ID == "" {
		t.Fatalf("exit %d: %+v\n%s", code, res, stderr)
	}
	if res[0].Category != "tin-tuc-su-kien" {
		t.Errorf("category %q: the page's \"Xây dựng Đảng\" is not a category of the tenant, want --category", res[0].Category)
	}
	st, err := client.New(platform.URL("ingest"), key).WaitPublished(ctx, importTenant, res[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	_, page := fetch(t, st.PublicURL)
	html := string(page)
	for _, want := range []string{"Quang cảnh buổi sinh hoạt chuyên đề", "Minh Hà", "srcset=", "Thanh Thủy - Văn phòng Đảng ủy", "Báo Thái Bình"} {
		if !strings.Contains(html, want) {
			t.Errorf("page %s lacks %q", st.PublicURL, want)
		}
	}
	if strings.Contains(html, "(Ảnh: Minh Hà)") {
		t.Error("the caption with a photo is still written out as a paragraph")
	}
}
