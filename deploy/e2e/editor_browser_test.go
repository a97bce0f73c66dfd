package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/blocpress/blocpress/libs/testkit/chromium"
)

// startBrowser starts a headless chromium for the test; it fails, never
// skips, when the browser is missing.
func startBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	path, switches := chromium.Find(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1600)}
	for _, s := range switches {
		opts = append(opts, chromedp.Flag(s, true))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}

// jsValue writes v as a JavaScript literal (JSON is one).
func jsValue(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// editorShot saves the page under deploy/artifacts/editor/ (gitignored).
func editorShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := filepath.Join(repoRoot, "deploy", "artifacts", "editor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("screenshot dir: %v", err)
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(85))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".jpg"), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// An editor signs in to the editor web app with their key, writes an
// article, uploads three real photographs at once (the drag-and-drop
// zone's file input, with progress), captions them, previews the page,
// saves a draft, submits it, watches the follow page reach "Đã đăng", and
// finds the title and the photos on the public page.
func TestEditorBrowserWritesAndPublishesAnArticle(t *testing.T) {
	ctx := startBrowser(t, 4*time.Minute)
	base := platform.URL("ingest") + "/editor/"
	title := fmt.Sprintf("Chi bộ Văn phòng tổ chức sinh hoạt chuyên đề tháng %d về chuyển đổi số", time.Now().UnixNano()%1000)

	fail := func(step string, err error) {
		t.Helper()
		editorShot(t, ctx, "failed-"+strings.ReplaceAll(step, " ", "-"))
		page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s: %v\nat %s:\n%s", step, err, loc, page)
	}
	// do runs one step within its own time, so a page that is not the one
	// expected fails the step (with the page's text) rather than the test's
	// whole budget.
	do := func(step string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			fail(step, err)
		}
	}

	do("opening the sign-in page", 30*time.Second,
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS("#login")),
	)
	editorShot(t, ctx, "1-login")
	do("signing in", 30*time.Second,
		chromedp.SendKeys(chromedp.CSS("#tenant"), "hungyen"),
		chromedp.SendKeys(chromedp.CSS("#key"), creds.Tenants["hungyen"].Editor),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/editor/articles/new"]`)),
		chromedp.Click(chromedp.CSS(`header a[href="/editor/articles/new"]`)),
		chromedp.WaitVisible(chromedp.CSS("#article-form")),
	)

	captions := []string{"Quang cảnh buổi sinh hoạt chuyên đề", "Đảng viên phát biểu ý kiến", "Các đại biểu chụp ảnh lưu niệm"}
	var photos []string
	for _, name := range []string{"photo1.jpg", "photo2.jpg", "photo3.jpg"} {
		photos = append(photos, filepath.Join(repoRoot, "libs", "testkit", "testdata", "photos", name))
	}
	do("filling the form and uploading three photos at once", 60*time.Second,
		chromedp.SetValue(chromedp.CSS("#f-category"), "xay-dung-dang"),
		chromedp.SendKeys(chromedp.CSS("#f-title"), title),
		chromedp.SendKeys(chromedp.CSS("#f-lead"), "Chiều 20/11, Chi bộ Văn phòng tổ chức buổi sinh hoạt chuyên đề với chủ đề ứng dụng công nghệ số trong công tác văn thư."),
		chromedp.SetValue(chromedp.CSS("#f-body"), "Các đảng viên đã trao đổi về việc số hóa hồ sơ lưu trữ và ký số văn bản đi.\n\n"+
			"Bí thư Chi bộ đề nghị mỗi đảng viên hoàn thành khóa tập huấn kỹ năng số trước cuối quý."),
		chromedp.SendKeys(chromedp.CSS("#f-author"), "Thu Hà"),
		chromedp.SendKeys(chromedp.CSS("#f-tags"), "chuyển đổi số, sinh hoạt chi bộ"),
		chromedp.SetUploadFiles(chromedp.CSS("#f-files"), photos),
		chromedp.WaitVisible(chromedp.CSS(`#photo-list li.photo:nth-child(3) input[name="photo_caption"]`)),
	)
	for i, c := range captions {
		row := fmt.Sprintf(`#photo-list li.photo:nth-child(%d) `, i+1)
		do("captioning photo "+fmt.Sprint(i+1), 10*time.Second,
			chromedp.SendKeys(chromedp.CSS(row+`input[name="photo_caption"]`), c),
			chromedp.SendKeys(chromedp.CSS(row+`input[name="photo_credit"]`), "Lam Hồng"),
		)
	}
	do("placing the last photo after the second paragraph", 10*time.Second,
		chromedp.SetValue(chromedp.CSS(`#photo-list li.photo:nth-child(3) input[name="photo_after"]`), "2"))
	mediaIDs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('#photo-list input[name="photo_media"]')).map(i => i.value)`))
	if err != nil || len(mediaIDs) != 3 || len(mediaIDs[0]) != 64 {
		fail("reading the uploaded photos' ids", fmt.Errorf("%q %v", mediaIDs, err))
	}
	editorShot(t, ctx, "2-form")

	// Preview: render draws the page as it will be published; the form
	// comes back with everything typed, the photos included.
	do("previewing", 30*time.Second,
		chromedp.Click(chromedp.CSS("#btn-preview")),
		chromedp.WaitVisible(chromedp.CSS("#preview, #preview-error")),
	)
	editorShot(t, ctx, "2b-preview")
	previewed, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`(() => { const f = document.getElementById("preview"); if (!f) return false;
		  const ids = Array.from(document.querySelectorAll('#photo-list input[name="photo_media"]')).map(i => i.value).join();
		  return f.srcdoc.includes(`+jsValue(title)+`) && `+jsValue(captions)+`.every(c => f.srcdoc.includes(c)) && ids === `+jsValue(strings.Join(mediaIDs, ","))+`; })()`))
	if err != nil || !previewed {
		fail("checking the preview", fmt.Errorf("no preview of the article with its three photos (%v)", err))
	}

	// Saved as a draft first: the edit page shows it again, then it is submitted.
	do("saving a draft", 30*time.Second,
		chromedp.Click(chromedp.CSS("#btn-draft")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash")))
	if err != nil || !strings.Contains(flash, "Đã lưu bản nháp (phiên bản 1)") {
		fail("saving a draft", fmt.Errorf("flash %q (%v)", flash, err))
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#photo-list li.photo').length`))
	if err != nil || rows != 3 {
		fail("reopening the draft", fmt.Errorf("%d photo rows (%v)", rows, err))
	}
	editorShot(t, ctx, "2c-draft")

	do("submitting", 30*time.Second,
		chromedp.Click(chromedp.CSS("#btn-submit")),
		chromedp.WaitVisible(chromedp.CSS("#timeline")),
	)
	editorShot(t, ctx, "3-follow-submitted")
	// The follow page updates itself (fetch every 2 s); the test only reads it.
	_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
		`document.getElementById("status").textContent === "Đã đăng" && !document.getElementById("public").hidden`,
		chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute)))
	if err != nil {
		fail("waiting for «Đã đăng» on the follow page", err)
	}
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#timeline")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Đã nhận", "Ảnh đã xử lý", "Đã duyệt", "Đã đăng"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q: %s", want, timeline)
		}
	}
	editorShot(t, ctx, "4-follow-published")
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#public-link"), "href"))
	if err != nil || !link.Exists || !strings.HasPrefix(link.Value, platform.URL("site")+"/hungyen/bai-viet/") {
		fail("reading the public link", fmt.Errorf("%+v %v", link, err))
	}

	do("opening the public page", 30*time.Second,
		chromedp.Navigate(link.Value),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	)
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || !strings.Contains(heading, title) {
		t.Errorf("public page's heading %q (%v), want %q", heading, err, title)
	}
	// The photos are on the page and the browser could load them.
	loaded, err := chromedp.Run(ctx, chromedp.Poll[bool](
		jsValue(mediaIDs)+`.every(id => Array.from(document.images).some(i => i.currentSrc.includes("/hungyen/media/" + id + "/") && i.complete && i.naturalWidth > 0))`,
		chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil || !loaded {
		fail("finding the three photos on the public page", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range append(captions, "Lam Hồng", "Thu Hà") {
		if !strings.Contains(text, want) {
			t.Errorf("public page lacks %q", want)
		}
	}
	editorShot(t, ctx, "5-public-page")

	// The list shows the article as published, on a phone-sized screen.
	do("opening the list", 30*time.Second,
		chromedp.EmulateViewport(360, 800),
		chromedp.Navigate(base+"articles?status=published"),
		chromedp.WaitVisible(chromedp.CSS(".articles")),
	)
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".articles")))
	if err != nil || !strings.Contains(list, title) || !strings.Contains(list, "Đã đăng") {
		t.Errorf("list: %q %v", list, err)
	}
	editorShot(t, ctx, "6-list-360px")
}
