package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/libs/testkit/chromium"
)

// browser starts a headless chromium for the test, on a closed network.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, switches := chromium.Find(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1600)}
	for _, s := range switches {
		opts = append(opts, chromedp.Flag(s, true))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}

// A reviewer signs in, opens the held article from the queue, sees the
// finding marked in the page, approves it with a note, and the approval
// goes down the pipeline with the whole article.
func TestBrowserReviewerApprovesAHeldArticle(t *testing.T) {
	tn := newTenant("hung-yen")
	tn.Moderation = &tenant.Moderation{Blocklist: []tenant.BlockedTerm{{Term: "phản động"}}}
	h := start(t, tn)
	reviewer := h.key(t, "hung-yen", apikey.RoleReviewer)
	a := cleanArticle(t, "f000000000000001", 1)
	a.Lead = "Cảnh giác với luận điệu phan dong trên mạng xã hội."
	h.reasons(t, "hung-yen", submitted(t, h, "hung-yen", a), bus.TypeArticleHeld)

	ctx := browser(t)
	base := "http://" + h.httpAddr
	article := chromedp.CSS(`a.article[href="/desk/articles/f000000000000001"]`)
	mark := chromedp.CSS(`.preview mark.sev-hold`)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/desk/"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#key"), reviewer),
		chromedp.SetValue(chromedp.CSS("#name"), "Nguyễn Thị Hoà"),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(article),
		chromedp.Click(article),
		chromedp.WaitVisible(mark),
	)
	if err != nil {
		t.Fatalf("opening the held article: %v", err)
	}
	marked, err := chromedp.Run(ctx, chromedp.Text(mark))
	if err != nil {
		t.Fatal(err)
	}
	tip, err := chromedp.Run(ctx, chromedp.AttributeValue(mark, "title"))
	if err != nil {
		t.Fatal(err)
	}
	if marked != "phan dong" || !strings.Contains(tip.Value, "phản động") {
		t.Errorf("marked %q (%q), want «phan dong» explained", marked, tip.Value)
	}
	screenshot(t, ctx, "article")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#note"), "Trích dẫn để phản bác, giữ nguyên."),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if err != nil {
		t.Fatalf("approving: %v", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash")))
	if err != nil {
		t.Fatal(err)
	}
	queueAfter, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "queue")
	if !strings.Contains(flash, "Đã duyệt đăng bài «"+a.GetTitle()+"»") || !strings.Contains(queueAfter, "Không có bài nào chờ duyệt") {
		t.Errorf("after approving: %q / %q", flash, queueAfter)
	}
	approved := h.approved(t, "hung-yen", a)
	if !containsAll(approved.GetNotes(), "Nguyễn Thị Hoà", "Trích dẫn để phản bác, giữ nguyên.") {
		t.Errorf("notes %q", approved.GetNotes())
	}
	if got := auditEntries(t, h, "hung-yen", a.GetId()); len(got) != 2 || got[0].Name != "Nguyễn Thị Hoà" || got[0].Decision != "approve" {
		t.Errorf("audit %+v", got)
	}
}

// screenshot saves the page when DESK_SCREENSHOTS names a directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("DESK_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	_ = os.WriteFile(dir+"/"+name+".jpg", png, 0o644)
}
