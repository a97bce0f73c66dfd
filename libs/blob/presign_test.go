package blob_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/testkit"
)

// TestPresignPutFixesLengthAndType checks against a real MinIO that the
// signed Content-Length and Content-Type are enforced by the server.
func TestPresignPutFixesLengthAndType(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := testkit.MinIO(t)
	s, err := blob.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "minio:9000", "ftp://x", "http://host/s3", "http://host?x=1"} {
		if _, err := s.Presigner(bad); err == nil {
			t.Errorf("Presigner(%q) accepted", bad)
		}
	}
	p, err := s.Presigner("http://" + cfg.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("\xff\xd8\xff\xe0 not really a photo, but S3 does not care")
	put := func(t *testing.T, key string, b []byte, contentType string) int {
		t.Helper()
		up, err := p.PresignPut(ctx, key, "image/jpeg", int64(len(body)), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(up.URL, "http://"+cfg.Endpoint+"/") || up.Headers.Get("Content-Length") == "" || time.Until(up.Expires) > time.Minute {
			t.Fatalf("presigned %+v", up)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, up.URL, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if code := put(t, "uploads/t/longer", append(body, 'x'), "image/jpeg"); code != http.StatusForbidden {
		t.Errorf("PUT of another length: %d, want 403", code)
	}
	if code := put(t, "uploads/t/type", body, "text/html"); code != http.StatusForbidden {
		t.Errorf("PUT of another type: %d, want 403", code)
	}
	for _, key := range []string{"uploads/t/longer", "uploads/t/type"} {
		if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("a refused PUT stored %s: %v", key, err)
		}
	}
	if code := put(t, "uploads/t/ok", body, "image/jpeg"); code != http.StatusOK {
		t.Fatalf("PUT as signed: %d, want 200", code)
	}
	info, err := s.Stat(ctx, "uploads/t/ok")
	if err != nil || info.Size != int64(len(body)) || info.ContentType != "image/jpeg" {
		t.Errorf("stored %+v, %v", info, err)
	}
}
