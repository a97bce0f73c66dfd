// Package e2e drives the whole platform — every service as its own process on
// real NATS, MinIO and Redis — through its public HTTP interfaces, as an
// editor and a reader would.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/deploy/internal/client"
	"github.com/blocpress/blocpress/deploy/internal/demo"
	"github.com/blocpress/blocpress/deploy/internal/stack"
	"github.com/blocpress/blocpress/libs/bus"
)

var (
	platform *stack.Stack
	creds    *demo.Credentials
	demoIDs  map[string][]string
	repoRoot string
	logs     = &syncBuffer{}
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup failed:", err)
		fmt.Fprintln(os.Stderr, "--- platform output (tail) ---")
		fmt.Fprintln(os.Stderr, logs.Tail(200))
		code = 1
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	wd, _ := os.Getwd()
	repoRoot = filepath.Dir(filepath.Dir(wd))
	tmp, err := os.MkdirTemp("", "blocpress-e2e-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	binDir := filepath.Join(tmp, "bin")
	for _, s := range stack.Services {
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, s), "./services/"+s)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			return 1, fmt.Errorf("building %s: %v\n%s", s, err, out)
		}
	}
	if err := os.Symlink(filepath.Join(repoRoot, "bin", "minio"), filepath.Join(binDir, "minio")); err != nil {
		return 1, err
	}
	dataDir := filepath.Join(tmp, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return 1, err
	}
	credPath := filepath.Join(dataDir, "credentials.json")
	if creds, err = demo.LoadCredentials(credPath); err != nil {
		return 1, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	platform, err = stack.Start(ctx, stack.Options{
		DataDir: dataDir, BinDir: binDir, PublicHost: "127.0.0.1", Log: logs,
		S3AccessKey: creds.S3AccessKey, S3SecretKey: creds.S3SecretKey, AdminToken: creds.AdminToken, ReaderSalt: creds.ReaderSalt, DeskSecret: creds.DeskSecret,
	})
	if err != nil {
		return 1, err
	}
	defer platform.Stop()
	demoIDs, err = demo.Setup(ctx, platform.URL("ingest"), creds, credPath,
		filepath.Join(repoRoot, "deploy", "demo"), filepath.Join(repoRoot, "libs", "testkit", "testdata", "photos"), logs)
	if err != nil {
		return 1, err
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintln(os.Stderr, "--- platform output (tail) ---")
		fmt.Fprintln(os.Stderr, logs.Tail(150))
	}
	return code, nil
}

func editor(tenant string) *client.Client {
	return client.New(platform.URL("ingest"), creds.Tenants[tenant].Editor)
}

func photo(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "libs", "testkit", "testdata", "photos", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fetch(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func waitCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// An editor submits an article with a real photograph; a reader sees it on
// the tenant's site with every rendition, and the view count goes up.
func TestArticleWithPhotoIsPublishedAndCounted(t *testing.T) {
	ctx := waitCtx(t, 3*time.Minute)
	ed := editor("namdinh")
	mediaID, err := ed.UploadMedia(ctx, "namdinh", photo(t, "photo2.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	article := map[string]any{
		"category": "tin-tuc-su-kien",
		"title":    "Hội nghị học tập, quán triệt Nghị quyết của Đảng năm 2026 <b>không in đậm</b>",
		"lead":     "Sáng 20/11, Đảng ủy Khối tổ chức hội nghị trực tuyến học tập, quán triệt Nghị quyết.",
		"body": []map[string]any{
			{"type": "paragraph", "text": "Tham dự hội nghị có các đồng chí Ủy viên Ban Thường vụ Đảng ủy Khối."},
			{"type": "image", "media": mediaID, "caption": "Quang cảnh hội nghị", "credit": "Lam Hồng"},
			{"type": "paragraph", "text": "Hội nghị kết thúc trong không khí phấn khởi."},
		},
		"author": "Minh Thu",
		"source": map[string]string{"name": "baonamdinh.vn", "url": "https://baonamdinh.vn"},
	}
	sub, err := ed.SubmitArticle(ctx, "namdinh", article, "e2e-photo-article")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ed.WaitPublished(ctx, "namdinh", sub.ID)
	if err != nil {
		t.Fatal(err)
	}

	resp, page := fetch(t, st.PublicURL)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s", st.PublicURL, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	html := string(page)
	for _, want := range []string{
		"Hội nghị học tập, quán triệt Nghị quyết của Đảng năm 2026 &lt;b&gt;không in đậm&lt;/b&gt;",
		"Quang cảnh hội nghị", "Lam Hồng", "Minh Thu", "baonamdinh.vn", `lang="vi"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ nhật), \d\d/\d\d/20\d\d, \d\d:\d\d`).MatchString(html) {
		t.Error("page lacks a Vietnamese date line like \"Thứ Tư, 24/04/2019, 15:55\"")
	}
	srcset := regexp.MustCompile(`srcset="([^"]+)"`).FindStringSubmatch(html)
	if srcset == nil {
		t.Fatal("page has no srcset")
	}
	var widths []string
	for _, cand := range strings.Split(srcset[1], ",") {
		fields := strings.Fields(cand)
		widths = append(widths, fields[1])
		u := fields[0]
		if strings.HasPrefix(u, "/") {
			u = platform.URL("site") + u
		}
		r, img := fetch(t, u)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/jpeg" || len(img) < 1000 {
			t.Errorf("rendition %s: %d %s %d bytes", u, r.StatusCode, r.Header.Get("Content-Type"), len(img))
		}
		if bytes.Contains(img[:min(len(img), 4096)], []byte("Exif")) {
			t.Errorf("rendition %s carries EXIF metadata", u)
		}
	}
	if got := strings.Join(widths, " "); got != "320w 640w 1024w 1600w" {
		t.Errorf("srcset widths %q, want the four renditions of a 2400-px photo", got)
	}
	// The original is never served to readers.
	if r, _ := fetch(t, fmt.Sprintf("%s/namdinh/media/%s/original", platform.URL("site"), mediaID)); r.StatusCode == 200 {
		t.Error("site serves the original upload")
	}

	// Two readers (different browsers) open the page: the count reaches 2.
	const (
		phone   = "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
		desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
		tablet  = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
		crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	)
	beacon := func(ua string) {
		h := http.Header{"User-Agent": {ua}, "Origin": {platform.URL("site")}}
		if err := client.New(platform.URL("view-counter"), "").Do(ctx, http.MethodPost, "/v1/tenants/namdinh/views/"+sub.ID, h, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	beacon(phone)
	beacon(desktop)
	waitCount(t, ctx, "namdinh", sub.ID, 2)
	// A crawler and the first reader again do not count; a third reader does.
	beacon(crawler)
	beacon(phone)
	beacon(tablet)
	waitFolded(t, ctx)
	waitCount(t, ctx, "namdinh", sub.ID, 3)

	// The home page and the category page list it.
	for _, u := range []string{platform.URL("site") + "/namdinh/", platform.URL("site") + "/namdinh/tin-tuc-su-kien/"} {
		if _, b := fetch(t, u); !strings.Contains(string(b), "Hội nghị học tập, quán triệt Nghị quyết") {
			t.Errorf("%s does not list the article", u)
		}
	}
}

// waitFolded waits until view-counter's consumer has folded every view on
// the stream, so that a count read afterwards is final.
func waitFolded(t *testing.T, ctx context.Context) {
	t.Helper()
	b, err := bus.Connect(bus.Config{URL: platform.NATS.URL(), Name: "e2e-views"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background()) //nolint:errcheck
	for {
		c, err := b.JetStream().Consumer(ctx, bus.StreamViews, bus.ConsumerViewCounter)
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(ctx)
		if err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("view-counter did not fold every view: %+v, %v", info, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitCount(t *testing.T, ctx context.Context, tenant, id string, want int64) {
	t.Helper()
	views := client.New(platform.URL("view-counter"), "")
	var got struct {
		Counts map[string]int64 `json:"counts"`
	}
	for {
		err := views.Do(ctx, http.MethodGet, "/v1/tenants/"+tenant+"/views?ids="+id, nil, nil, &got)
		if err == nil && got.Counts[id] == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("view count of %s/%s is %d (err %v), want %d", tenant, id, got.Counts[id], err, want)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// The seed articles are on the demo sites with their dates and legacy counts.
func TestDemoArticlesArePublished(t *testing.T) {
	ctx := waitCtx(t, 3*time.Minute)
	total := 0
	for tenant, ids := range demoIDs {
		c := client.New(platform.URL("ingest"), creds.Tenants[tenant].Admin)
		for _, id := range ids {
			st, err := c.WaitPublished(ctx, tenant, id)
			if err != nil {
				t.Fatal(err)
			}
			total++
			_, page := fetch(t, st.PublicURL)
			if !regexp.MustCompile(`(Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ nhật), \d\d/\d\d/\d{4}, \d\d:\d\d`).Match(page) {
				t.Errorf("%s has no Vietnamese date line", st.PublicURL)
			}
		}
	}
	if total != 5 {
		t.Fatalf("%d demo articles, want 5", total)
	}
	// Seed 000 (Hưng Yên, 24/04/2019 15:55:40, 696 views).
	_, home := fetch(t, platform.URL("site")+"/hungyen/")
	if !strings.Contains(string(home), "giao ban lần thứ IX tại tỉnh Hưng Yên") {
		t.Error("Hưng Yên home page lacks the seed article")
	}
	id := demoIDs["hungyen"][0]
	st, _ := client.New(platform.URL("ingest"), creds.Tenants["hungyen"].Admin).ArticleStatus(ctx, "hungyen", id)
	_, page := fetch(t, st.PublicURL)
	if !strings.Contains(string(page), "Thứ Tư, 24/04/2019, 15:55") {
		t.Errorf("seed 000 page lacks its date line")
	}
	waitCount(t, ctx, "hungyen", id, 696)
}

func TestAnotherTenantsKeyIsForbidden(t *testing.T) {
	ctx := waitCtx(t, 30*time.Second)
	_, err := editor("namdinh").UploadMedia(ctx, "hungyen", photo(t, "photo3.jpg"))
	var se *client.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusForbidden {
		t.Fatalf("upload with another tenant's key: %v, want 403", err)
	}
	_, err = client.New(platform.URL("ingest"), "").UploadMedia(ctx, "hungyen", photo(t, "photo3.jpg"))
	if !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
		t.Fatalf("upload without a key: %v, want 401", err)
	}
}

// image-resize is killed while it handles a photo; the photo is redelivered to
// the restarted service and the article is still published.
func TestKilledServiceMessageIsRedelivered(t *testing.T) {
	ctx := waitCtx(t, 4*time.Minute)
	resize := platform.Service("image-resize")
	resize.Stop()
	ed := editor("trunguong")
	// A photo this tenant has never had, or the upload would be deduplicated.
	mediaID, err := ed.UploadMedia(ctx, "trunguong", withComment(photo(t, "photo2.jpg"), "e2e-kill-"+time.Now().String()))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := ed.SubmitArticle(ctx, "trunguong", map[string]any{
		"category": "hoat-dong-dang-bo-khoi", "title": "Bài viết kiểm thử khi dịch vụ bị dừng đột ngột",
		"lead":   "Ảnh vẫn được xử lý sau khi dịch vụ khởi động lại.",
		"body":   []map[string]any{{"type": "image", "media": mediaID, "caption": "Ảnh minh họa", "credit": ""}},
		"author": "Ban Tuyên giáo",
	}, "")
	if err != nil {
		t.Fatal(err)
	}

	b, err := bus.Connect(bus.Config{URL: platform.NATS.URL(), Name: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background()) //nolint:errcheck
	cons, err := b.JetStream().Consumer(ctx, bus.StreamMedia, bus.ConsumerImageResize)
	if err != nil {
		t.Fatal(err)
	}
	before, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := resize.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Kill it the moment it holds the photo.
	var info *jetstream.ConsumerInfo
	for {
		info, err = cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending > 0 {
			resize.Kill()
			break
		}
		if info.AckFloor.Consumer > before.AckFloor.Consumer {
			t.Fatal("the photo was resized before the service could be killed; nothing was tested")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := resize.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ed.WaitPublished(ctx, "trunguong", sub.ID); err != nil {
		t.Fatal(err)
	}
	after, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	delivered := after.Delivered.Consumer - before.Delivered.Consumer
	if delivered < 2 {
		t.Errorf("the photo was delivered %d times; want a redelivery after the kill", delivered)
	}
	var m struct {
		Status string `json:"status"`
	}
	if err := ed.Do(ctx, http.MethodGet, "/v1/tenants/trunguong/media/"+mediaID, nil, nil, &m); err != nil || m.Status != "resized" {
		t.Errorf("media status %q, %v; want resized", m.Status, err)
	}
}

// withComment returns the JPEG with a COM segment after SOI: the same picture,
// other bytes, so another media id.
func withComment(jpeg []byte, comment string) []byte {
	seg := []byte{0xFF, 0xFE, byte((len(comment) + 2) >> 8), byte(len(comment) + 2)}
	out := append([]byte{}, jpeg[:2]...)
	out = append(out, seg...)
	out = append(out, comment...)
	return append(out, jpeg[2:]...)
}
