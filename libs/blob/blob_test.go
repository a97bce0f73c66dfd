package blob_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/testkit"
)

func TestStoreAgainstMinIO(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := blob.New(testkit.MinIO(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatalf("second EnsureBucket: %v", err)
	}
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	page := []byte("<h1>Xin chào Hưng Yên</h1>")
	if err := s.PutBytes(ctx, "site/hungyen/index.html", page, "text/html; charset=utf-8"); err != nil {
		t.Fatal(err)
	}
	rc, info, err := s.Get(ctx, "site/hungyen/index.html")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != string(page) || info.ContentType != "text/html; charset=utf-8" || info.Size != int64(len(page)) || info.ETag == "" {
		t.Errorf("got %q %+v", got, info)
	}
	if _, err := s.GetBytes(ctx, "site/hungyen/index.html", 5); err == nil {
		t.Error("GetBytes over the limit succeeded")
	}
	if _, err := s.Stat(ctx, "site/hungyen/missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat missing = %v, want ErrNotFound", err)
	}
	if _, _, err := s.Get(ctx, "site/hungyen/missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get missing = %v, want ErrNotFound", err)
	}
	keys, err := s.List(ctx, "site/hungyen/")
	if err != nil || len(keys) != 1 {
		t.Errorf("List = %v, %v", keys, err)
	}
	if err := s.Delete(ctx, "site/hungyen/index.html"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "site/hungyen/index.html"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("after Delete: %v", err)
	}
}
