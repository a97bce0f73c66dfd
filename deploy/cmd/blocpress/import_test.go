package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A dry run parses every file, reports the broken ones with a reason, goes
// on, and exits 1; flags may follow the files.
func TestDryRunReportsEachFile(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.txt")
	if err := os.WriteFile(broken, []byte("Trang chủ | Giới thiệu | Liên hệ\nWebsite liên kết\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	latin1 := filepath.Join(dir, "latin1.txt")
	if err := os.WriteFile(latin1, []byte("Ti\xeau \xf0\xe8 b\xe0i vi\xeat\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	seeds := filepath.Join("..", "..", "internal", "legacy", "testdata", "seeds")
	var stdout, stderr bytes.Buffer
	code := runImport(context.Background(), []string{"--dry-run", "--tenant", "hungyen", seeds, broken, latin1, "--json",
		"--category-map", "KỶ NIỆM 1 NĂM THÀNH LẬP ĐẢNG BỘ KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH (1-6-2020 - 1-6-2021)=ky-niem",
		"--category", "tin-tuc-su-kien"}, &stdout, &stderr, false)
	if code != 1 {
		t.Errorf("exit %d, want 1 (two files failed)\n%s", code, stderr.String())
	}
	var res []fileResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if len(res) != 7 {
		t.Fatalf("%d results, want 7", len(res))
	}
	byName := map[string]fileResult{}
	for _, r := range res {
		byName[filepath.Base(r.File)] = r
	}
	if r := byName["broken.txt"]; !strings.Contains(r.Error, "no title") {
		t.Errorf("broken.txt: %+v", r)
	}
	if r := byName["latin1.txt"]; r.Error != "not UTF-8 text" {
		t.Errorf("latin1.txt: %+v", r)
	}
	seed0 := byName["000_e4c5cb81dc79b66c.txt"]
	if seed0.Error != "" || seed0.PublishedAt != "2019-04-24T15:55:40+07:00" || seed0.Views != 696 || seed0.Category != "hoat-dong-dang-bo-khoi" {
		t.Errorf("seed 000: error %q, date %s, views %d, category %s", seed0.Error, seed0.PublishedAt, seed0.Views, seed0.Category)
	}
	a := seed0.Article
	if a["published_at"] != "2019-04-24T15:55:40+07:00" || a["initial_views"] != float64(696) || a["author"] != "Hồng Quang" {
		t.Errorf("seed 000 request: published_at %v initial_views %v author %v", a["published_at"], a["initial_views"], a["author"])
	}
	// Without photos, captions are paragraphs: 10 paragraphs + 3 captions.
	body, _ := a["body"].([]any)
	if len(body) != 13 {
		t.Errorf("seed 000 body has %d blocks, want 13", len(body))
	}
	for _, b := range body {
		if blk := b.(map[string]any); blk["type"] != "paragraph" {
			t.Errorf("block %v: want only paragraphs without --photos", blk)
		}
	}
	seed1 := byName["001_eca1851a5c8fe80e.txt"]
	if seed1.Category != "ky-niem" {
		t.Errorf("seed 001 category %q, want the mapped ky-niem", seed1.Category)
	}
	if body, _ := seed1.Article["body"].([]any); len(body) == 0 || !strings.HasSuffix(body[0].(map[string]any)["text"].(string), "đủ tiêu chuẩn. (Ảnh: Lam Hồng)") {
		t.Errorf("seed 001 caption paragraph: %v", seed1.Article["body"])
	}
	if src, _ := seed1.Article["source"].(map[string]any); src["name"] != "baonamdinh.vn" {
		t.Errorf("seed 001 source %v", seed1.Article["source"])
	}
	if r := byName["002_69ae7685d5133d3d.txt"]; r.Category != "tin-tuc-su-kien" {
		t.Errorf("seed 002 (no category on the page) filed under %q, want --category", r.Category)
	}
	if !strings.Contains(stderr.String(), "[7/7]") {
		t.Errorf("no plain progress lines on a non-terminal:\n%s", stderr.String())
	}
}

func TestMissingFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runImport(context.Background(), []string{"x.txt"}, &stdout, &stderr, false); code != 2 ||
		!strings.Contains(stderr.String(), "--tenant") || !strings.Contains(stderr.String(), "--ingest") || !strings.Contains(stderr.String(), "--key") {
		t.Errorf("exit %d, %s", code, stderr.String())
	}
}

// The same dump in NFD and NFC, for the same tenant, is the same import;
// another tenant or other text is not.
func TestIdempotencyKey(t *testing.T) {
	nfc, nfd := "Hoạt động Đảng bộ khối", "Hoa\u0323t \u0111o\u0302\u0323ng \u0110a\u0309ng bo\u0323\u0302 kho\u0302\u0301i"
	k := IdempotencyKey("hungyen", nfc)
	if len(k) != 64 || k != IdempotencyKey("hungyen", nfd) {
		t.Errorf("NFC %s, NFD %s", k, IdempotencyKey("hungyen", nfd))
	}
	if k == IdempotencyKey("namdinh", nfc) || k == IdempotencyKey("hungyen", nfc+".") {
		t.Error("another tenant or text gives the same key")
	}
}

// Refused for the key's request rate, the importer waits and sends the same
// request again, with the same Idempotency-Key; a bad request is not retried.
func TestRetriesWhenRateLimited(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/tenants/hungyen":
			_, _ = w.Write([]byte(`{"categories":[{"slug":"hoat-dong-dang-bo-khoi","name":"Hoạt động Đảng bộ khối"}]}`))
		case r.Method == http.MethodPost && r.URL.Path == "/v1/tenants/hungyen/articles":
			mu.Lock()
			keys = append(keys, r.Header.Get("Idempotency-Key"))
			n := len(keys)
			mu.Unlock()
			if n <= 2 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(`{"detail":"too many requests"}`))
				return
			}
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"id":"abcdefghij012345","revision":1}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	seed := filepath.Join("..", "..", "internal", "legacy", "testdata", "seeds", "000_e4c5cb81dc79b66c.txt")
	var stdout, stderr bytes.Buffer
	code := runImportWith(context.Background(), []string{"--ingest", srv.URL, "--tenant", "hungyen", "--key", "k", seed}, &stdout, &stderr, false, time.Millisecond)
	if code != 0 || !strings.Contains(stdout.String(), "abcdefghij012345") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if len(keys) != 3 || keys[0] == "" || keys[0] != keys[1] || keys[1] != keys[2] {
		t.Errorf("Idempotency-Keys sent: %q, want the same key three times", keys)
	}

	// 422 is final, and reported with its detail.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(`{"categories":[{"slug":"tin-tuc","name":"Tin tức"}]}`))
			return
		}
		mu.Lock()
		keys = append(keys, "bad")
		mu.Unlock()
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"detail":"the article is not valid","errors":[{"field":"title","message":"must be at most 300 characters","limit":300}]}`))
	}))
	defer bad.Close()
	keys = nil
	stdout.Reset()
	code = runImportWith(context.Background(), []string{"--ingest", bad.URL, "--tenant", "hungyen", "--key", "k", seed}, &stdout, &stderr, false, time.Millisecond)
	if code != 1 || len(keys) != 1 || !strings.Contains(stdout.String(), "title must be at most 300 characters") {
		t.Errorf("exit %d, %d requests, report:\n%s", code, len(keys), stdout.String())
	}
}
