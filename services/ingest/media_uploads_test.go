package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/testkit"
)

// issueKey makes a key through the operator's route.
func (s *stack) issueKey(t *testing.T, tenantID, role string) string {
	t.Helper()
	var k keyView
	s.do(t, http.MethodPost, "/v1/admin/tenants/"+tenantID+"/keys", testAdminToken, map[string]string{"role": role}).expect(t, http.StatusCreated, &k)
	return k.Key
}

// putPresigned uploads body as a browser would: PUT to the presigned URL
// with the returned headers (Content-Length comes from the body).
func putPresigned(t *testing.T, up presignResponse, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(up.Method, up.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range up.Headers {
		if k != "Content-Length" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT to S3: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPresignedUpload sends a real photograph straight to a real MinIO
// through a presigned URL and completes it through ingest.
func TestPresignedUpload(t *testing.T) {
	const limit = 4 << 20
	// The public URL names the same MinIO by another host name, as an
	// editor's browser would reach it through a public address.
	s3 := testkit.MinIO(t)
	_, port, _ := strings.Cut(s3.Endpoint, ":")
	public := "http://localhost:" + port
	s := startStack(t, map[string]string{
		"INGEST_MAX_MEDIA_BYTES": fmt.Sprint(limit), "INGEST_UPLOAD_EXPIRY": "5m", "INGEST_S3_PUBLIC_URL": public,
		"S3_ENDPOINT": s3.Endpoint, "S3_ACCESS_KEY": s3.AccessKey, "S3_SECRET_KEY": s3.SecretKey, "S3_BUCKET": s3.Bucket,
	})
	store, err := blob.New(s3)
	if err != nil {
		t.Fatal(err)
	}
	editor, _ := s.newTenant(t, "hung-yen")
	otherEditor, _ := s.newTenant(t, "nam-dinh")
	reviewer := s.issueKey(t, "hung-yen", "reviewer")
	const uploads = "/v1/tenants/hung-yen/media/uploads"
	photo := testkit.Photo(t, "photo2.jpg")
	sum := sha256.Sum256(photo)
	mediaID := hex.EncodeToString(sum[:])
	ctx := context.Background()

	t.Run("limits", func(t *testing.T) {
		p := s.do(t, http.MethodPost, uploads, editor, map[string]any{"content_type": "text/html", "bytes": 0}).problem(t, http.StatusUnprocessableEntity)
		if !hasField(p, "content_type") || !hasField(p, "bytes") {
			t.Errorf("problem %+v does not name both fields", p)
		}
		p = s.do(t, http.MethodPost, uploads, editor, map[string]any{"content_type": "image/png", "bytes": limit + 1}).problem(t, http.StatusUnprocessableEntity)
		if f, ok := field(p, "bytes"); !ok || f.Limit != float64(limit) {
			t.Errorf("over the limit: %+v", p)
		}
		s.do(t, http.MethodPost, uploads, reviewer, map[string]any{"content_type": "image/png", "bytes": 10}).problem(t, http.StatusForbidden)
		s.do(t, http.MethodPost, uploads, "", map[string]any{"content_type": "image/png", "bytes": 10}).problem(t, http.StatusUnauthorized)
	})

	t.Run("photo", func(t *testing.T) {
		var up presignResponse
		s.do(t, http.MethodPost, uploads, editor, map[string]any{"content_type": "image/jpeg", "bytes": len(photo)}).expect(t, http.StatusCreated, &up)
		u, err := url.Parse(up.URL)
		if err != nil || u.Scheme+"://"+u.Host != public || !strings.Contains(u.Path, "/uploads/hung-yen/"+up.UploadID) ||
			up.Method != http.MethodPut || up.Headers["Content-Length"] != fmt.Sprint(len(photo)) || up.Headers["Content-Type"] != "image/jpeg" {
			t.Fatalf("presigned %+v", up)
		}
		if d := time.Until(up.ExpiresAt); d <= 4*time.Minute || d > 5*time.Minute {
			t.Errorf("expires in %s, want 5m", d)
		}
		if up.CompleteURL != "http://ingest.test/v1/tenants/hung-yen/media/uploads/"+up.UploadID+"/complete" {
			t.Errorf("complete_url %q", up.CompleteURL)
		}
		complete := "/v1/tenants/hung-yen/media/uploads/" + up.UploadID + "/complete"

		// Nothing uploaded yet.
		s.do(t, http.MethodPost, complete, editor, nil).problem(t, http.StatusNotFound)
		// S3 refuses another size: the length is signed.
		if code, body := putPresigned(t, up, append(bytes.Clone(photo), 0)); code != http.StatusForbidden {
			t.Fatalf("PUT of one byte more: %d %s, want 403", code, body)
		}
		if code, body := putPresigned(t, up, photo); code != http.StatusOK {
			t.Fatalf("PUT: %d %s", code, body)
		}
		// Another tenant's key reaches only its own staging area.
		s.do(t, http.MethodPost, "/v1/tenants/nam-dinh/media/uploads/"+up.UploadID+"/complete", otherEditor, nil).problem(t, http.StatusNotFound)
		s.do(t, http.MethodPost, complete, otherEditor, nil).problem(t, http.StatusForbidden)

		var got uploadResponse
		s.do(t, http.MethodPost, complete, editor, nil).expect(t, http.StatusCreated, &got)
		if got.ID != mediaID || got.StatusURL != "http://ingest.test/v1/tenants/hung-yen/media/"+mediaID {
			t.Fatalf("completed %+v, want id %s", got, mediaID)
		}
		stored, err := store.GetBytes(ctx, originalKey("hung-yen", mediaID), limit)
		if err != nil || !bytes.Equal(stored, photo) {
			t.Fatalf("original: %d bytes, %v", len(stored), err)
		}
		if _, err := store.Stat(ctx, stagingKey("hung-yen", up.UploadID)); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("the staging object is still there: %v", err)
		}
		if n := s.messages(t, bus.StreamMedia, "media.uploaded.hung-yen"); n != 1 {
			t.Errorf("%d media.uploaded events, want 1", n)
		}
		s.do(t, http.MethodGet, "/v1/tenants/hung-yen/media/"+mediaID, editor, nil).expect(t, http.StatusOK, nil)

		// Completing again gives the same answer and stores nothing new.
		var again uploadResponse
		s.do(t, http.MethodPost, complete, editor, nil).expect(t, http.StatusOK, &again)
		if again != got {
			t.Errorf("second complete %+v, first %+v", again, got)
		}
		if n := s.messages(t, bus.StreamMedia, "media.uploaded.hung-yen"); n != 1 {
			t.Errorf("%d media.uploaded events after completing twice, want 1", n)
		}
	})

	t.Run("not a photo", func(t *testing.T) {
		text := []byte("Đây không phải là ảnh, chỉ là một tệp văn bản.\n")
		var up presignResponse
		s.do(t, http.MethodPost, uploads, editor, map[string]any{"content_type": "image/jpeg", "bytes": len(text)}).expect(t, http.StatusCreated, &up)
		if code, body := putPresigned(t, up, text); code != http.StatusOK {
			t.Fatalf("PUT: %d %s", code, body)
		}
		before, err := store.List(ctx, "media/hung-yen/")
		if err != nil {
			t.Fatal(err)
		}
		complete := "/v1/tenants/hung-yen/media/uploads/" + up.UploadID + "/complete"
		p := s.do(t, http.MethodPost, complete, editor, nil).problem(t, http.StatusUnsupportedMediaType)
		if !hasField(p, "file") {
			t.Errorf("problem %+v does not name the file", p)
		}
		after, err := store.List(ctx, "media/hung-yen/")
		if err != nil || len(after) != len(before) {
			t.Errorf("media/hung-yen/ had %v, now %v (%v)", before, after, err)
		}
		if _, err := store.Stat(ctx, stagingKey("hung-yen", up.UploadID)); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("the refused staging object is still there: %v", err)
		}
		s.do(t, http.MethodPost, complete, editor, nil).problem(t, http.StatusNotFound)
		if n := s.messages(t, bus.StreamMedia, "media.uploaded.hung-yen"); n != 1 {
			t.Errorf("%d media.uploaded events, want only the photo's", n)
		}
	})

	s.do(t, http.MethodPost, "/v1/tenants/hung-yen/media/uploads/not-an-id/complete", editor, nil).problem(t, http.StatusNotFound)
}
