package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/blocpress/blocpress/libs/apikey"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/testkit"
)

// A tenant id that could become a subject wildcard, a second subject token,
// a path segment or a different key is refused with 400 before anything is
// read or written, on every route, with or without credentials.
func TestTenantIDInjection(t *testing.T) {
	s := startStack(t, nil)
	photo := testkit.Photo(t, "photo1.jpg")
	article := map[string]any{"category": "tin-tuc", "title": "x", "body": []map[string]string{{"type": "paragraph", "text": "x"}}}

	bad := []string{
		"acme.evil", "acme.*", "acme*", "acme>", ">", "*", "ACME", "Acme", "a",
		strings.Repeat("a", 33), "acme%2Fevil", "acme%2F..%2Fother", "acme%20x", "acme_x", "acme%00",
		"%C4%91ang-bo", // "đang-bo": not ASCII
	}
	for _, id := range bad {
		for _, rt := range []struct {
			method, path, token string
			body                any
		}{
			{http.MethodPost, "/v1/tenants/" + id + "/media", "bp_whatever", photo},
			{http.MethodGet, "/v1/tenants/" + id + "/media/" + strings.Repeat("a", 64), "", nil},
			{http.MethodPost, "/v1/tenants/" + id + "/articles", "bp_whatever", article},
			{http.MethodGet, "/v1/tenants/" + id + "/articles/0123456789abcdef", "bp_whatever", nil},
			{http.MethodPut, "/v1/admin/tenants/" + id, testAdminToken, map[string]any{"name": "x", "categories": []map[string]string{{"slug": "a", "name": "a"}}}},
			{http.MethodGet, "/v1/admin/tenants/" + id, testAdminToken, nil},
			{http.MethodPost, "/v1/admin/tenants/" + id + "/keys", testAdminToken, map[string]string{"role": "admin"}},
		} {
			r := s.do(t, rt.method, rt.path, rt.token, rt.body)
			if r.code != http.StatusBadRequest {
				t.Errorf("%s %s: status %d, want 400; body %s", rt.method, rt.path, r.code, r.body)
				continue
			}
			if p := r.problem(t, http.StatusBadRequest); !hasField(p, "tenant") {
				t.Errorf("%s %s: problem does not name the tenant field: %+v", rt.method, rt.path, p)
			}
		}
	}

	ctx := context.Background()
	if keys, err := s.blob.List(ctx, ""); err != nil || len(keys) != 0 {
		t.Errorf("S3 holds %v (err %v), want nothing", keys, err)
	}
	for _, stream := range []string{bus.StreamMedia, bus.StreamArticles, bus.StreamDeadLetter} {
		if n := s.messages(t, stream, ">"); n != 0 {
			t.Errorf("stream %s has %d messages, want 0", stream, n)
		}
	}
	for _, bucket := range []string{bus.BucketTenants, bus.BucketAPIKeys, bus.BucketArticles, bus.BucketIdempotency} {
		keys, err := s.kv(t, bucket).ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for k := range keys.Keys() {
			got = append(got, k)
		}
		if len(got) != 0 {
			t.Errorf("bucket %s holds %v, want nothing", bucket, got)
		}
	}
}

// TestAPI drives one running ingest through its admin and tenant APIs and
// its status consumer; subtests use tenants of their own.
func TestAPI(t *testing.T) {
	const mediaLimit = 1 << 20
	s := startStack(t, map[string]string{"INGEST_MAX_MEDIA_BYTES": fmt.Sprint(mediaLimit), "INGEST_MAX_TITLE": "40"})

	t.Run("admin", func(t *testing.T) {
		tenant := map[string]any{"name": "Đảng bộ Khối Doanh nghiệp", "categories": []map[string]string{{"slug": "tin-tuc", "name": "Tin tức"}}}
		noAuth := s.do(t, http.MethodPut, "/v1/admin/tenants/khoi-dn", "", tenant)
		noAuth.problem(t, http.StatusUnauthorized)
		if !strings.HasPrefix(noAuth.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate %q", noAuth.header.Get("WWW-Authenticate"))
		}
		s.do(t, http.MethodPut, "/v1/admin/tenants/khoi-dn", testAdminToken+"x", tenant).problem(t, http.StatusUnauthorized)
		s.do(t, http.MethodGet, "/v1/admin/tenants/khoi-dn", testAdminToken, nil).problem(t, http.StatusNotFound)
		s.do(t, http.MethodPost, "/v1/admin/tenants/khoi-dn/keys", testAdminToken, map[string]string{"role": "editor"}).problem(t, http.StatusNotFound)

		mismatch := map[string]any{"id": "other", "name": "x", "categories": tenant["categories"]}
		if _, ok := field(s.do(t, http.MethodPut, "/v1/admin/tenants/khoi-dn", testAdminToken, mismatch).problem(t, http.StatusBadRequest), "id"); !ok {
			t.Error("an id differing from the path is not named")
		}
		noCategories := map[string]any{"name": "x"}
		if _, ok := field(s.do(t, http.MethodPut, "/v1/admin/tenants/khoi-dn", testAdminToken, noCategories).problem(t, http.StatusUnprocessableEntity), "categories"); !ok {
			t.Error("missing categories are not named")
		}

		// A name typed in decomposed form (NFD) is stored composed (NFC).
		tenant["name"] = "\u0110a\u0309ng bo\u0323\u0302 Khối Doanh nghiệp  "
		var stored map[string]any
		s.do(t, http.MethodPut, "/v1/admin/tenants/khoi-dn", testAdminToken, tenant).expect(t, http.StatusOK, &stored)
		if stored["id"] != "khoi-dn" || stored["name"] != "Đảng bộ Khối Doanh nghiệp" {
			t.Errorf("stored %v", stored)
		}
		var got map[string]any
		s.do(t, http.MethodGet, "/v1/admin/tenants/khoi-dn", testAdminToken, nil).expect(t, http.StatusOK, &got)
		if got["name"] != stored["name"] {
			t.Errorf("read back %v", got)
		}

		s.do(t, http.MethodPost, "/v1/admin/tenants/khoi-dn/keys", testAdminToken, map[string]string{"role": "owner"}).problem(t, http.StatusUnprocessableEntity)
		var k createKeyResponse
		s.do(t, http.MethodPost, "/v1/admin/tenants/khoi-dn/keys", testAdminToken, map[string]string{"role": "editor"}).expect(t, http.StatusCreated, &k)
		if !strings.HasPrefix(k.Key, "bp_") || k.Tenant != "khoi-dn" || k.Role != "editor" {
			t.Errorf("key %+v", k)
		}
		// Only the hash is stored.
		e, err := s.kv(t, bus.BucketAPIKeys).Get(context.Background(), apikey.Hash(k.Key))
		if err != nil {
			t.Fatalf("key not stored under its hash: %v", err)
		}
		if bytes.Contains(e.Value(), []byte(k.Key)) || !bytes.Contains(e.Value(), []byte(`"role":"editor"`)) {
			t.Errorf("stored key record %s", e.Value())
		}
	})

	t.Run("tenant auth", func(t *testing.T) {
		editor, _ := s.newTenant(t, "auth-a")
		otherEditor, _ := s.newTenant(t, "auth-b")
		path := "/v1/tenants/auth-a/articles/0123456789abcdef"

		r := s.do(t, http.MethodGet, path, "", nil)
		r.problem(t, http.StatusUnauthorized)
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
		}
		s.do(t, http.MethodGet, path, "bp_notakey", nil).problem(t, http.StatusUnauthorized)
		s.do(t, http.MethodGet, path, testAdminToken, nil).problem(t, http.StatusUnauthorized)
		s.do(t, http.MethodGet, path, otherEditor, nil).problem(t, http.StatusForbidden)
		s.do(t, http.MethodPost, "/v1/tenants/auth-a/media", otherEditor, testkit.Photo(t, "photo3.jpg")).problem(t, http.StatusForbidden)
		s.do(t, http.MethodGet, path, editor, nil).problem(t, http.StatusNotFound)
		s.do(t, http.MethodGet, "/v1/tenants/auth-a/articles/NOT-AN-ID", editor, nil).problem(t, http.StatusBadRequest)
		s.do(t, http.MethodGet, "/v1/tenants/auth-a/media/abc", editor, nil).problem(t, http.StatusBadRequest)
		s.do(t, http.MethodGet, "/v1/tenants/auth-a/media/"+strings.Repeat("0", 64), editor, nil).problem(t, http.StatusNotFound)
		if n := s.messages(t, bus.StreamMedia, "media.uploaded.auth-a"); n != 0 {
			t.Errorf("%d uploads announced for a refused key", n)
		}

		// A reviewer key reads statuses but submits nothing.
		var k createKeyResponse
		s.do(t, http.MethodPost, "/v1/admin/tenants/auth-a/keys", testAdminToken, map[string]string{"role": "reviewer"}).expect(t, http.StatusCreated, &k)
		if k.Role != "reviewer" {
			t.Errorf("key %+v", k)
		}
		s.do(t, http.MethodGet, path, k.Key, nil).problem(t, http.StatusNotFound)
		s.do(t, http.MethodPost, "/v1/tenants/auth-a/media", k.Key, testkit.Photo(t, "photo3.jpg")).problem(t, http.StatusForbidden)
		s.do(t, http.MethodPost, "/v1/tenants/auth-a/articles", k.Key, map[string]any{
			"category": "tin-tuc", "title": "x", "body": []map[string]string{{"type": "paragraph", "text": "x"}},
		}).problem(t, http.StatusForbidden)
		if n := s.messages(t, bus.StreamArticles, "article.submitted.auth-a"); n != 0 {
			t.Errorf("%d articles announced for a reviewer key", n)
		}
	})

	t.Run("media", func(t *testing.T) {
		editor, _ := s.newTenant(t, "media-a")
		photo := testkit.Photo(t, "photo1.jpg")
		sum := sha256.Sum256(photo)
		id := hex.EncodeToString(sum[:])

		var up uploadResponse
		s.do(t, http.MethodPost, "/v1/tenants/media-a/media", editor, photo, "Content-Type", "image/jpeg").expect(t, http.StatusCreated, &up)
		if up.ID != id || up.StatusURL != "http://ingest.test/v1/tenants/media-a/media/"+id {
			t.Fatalf("upload answered %+v, want id %s", up, id)
		}
		info, err := s.blob.Stat(context.Background(), "media/media-a/"+id+"/original")
		if err != nil || info.Size != int64(len(photo)) || info.ContentType != "image/jpeg" {
			t.Fatalf("original: %+v, %v", info, err)
		}
		var env eventsv1.Envelope
		if err := proto.Unmarshal(s.lastMessage(t, bus.StreamMedia, "media.uploaded.media-a").Data, &env); err != nil {
			t.Fatal(err)
		}
		mu := env.GetMediaUploaded()
		if env.GetId() != "media-a."+id+".uploaded" || env.GetCorrelationId() != id || env.GetTenant() != "media-a" ||
			mu.GetMediaId() != id || mu.GetBytes() != int64(len(photo)) || mu.GetOriginalKey() != "media/media-a/"+id+"/original" {
			t.Errorf("media.uploaded envelope %v", &env)
		}

		// The same bytes again, now as a form upload: same id, one event.
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		_ = mw.WriteField("note", "ignored")
		fw, _ := mw.CreateFormFile("file", "anh.jpg")
		_, _ = fw.Write(photo)
		_ = mw.Close()
		var again uploadResponse
		s.do(t, http.MethodPost, "/v1/tenants/media-a/media", editor, form.Bytes(), "Content-Type", mw.FormDataContentType()).expect(t, http.StatusCreated, &again)
		if again != up {
			t.Errorf("second upload answered %+v, first %+v", again, up)
		}
		if n := s.messages(t, bus.StreamMedia, "media.uploaded.media-a"); n != 1 {
			t.Errorf("%d media.uploaded messages, want 1", n)
		}

		// Text claiming to be a JPEG is refused by what its bytes are.
		p := s.do(t, http.MethodPost, "/v1/tenants/media-a/media", editor, []byte("Xin chào, đây không phải là ảnh.\n"), "Content-Type", "image/jpeg").
			problem(t, http.StatusUnsupportedMediaType)
		if f, ok := field(p, "file"); !ok || !strings.Contains(f.Message, "image/jpeg") || !strings.Contains(f.Message, "image/webp") {
			t.Errorf("415 problem %+v does not name the field and accepted types", p)
		}
		// Over the limit: 413 naming it, whether or not the length is announced.
		big := append(bytes.Clone(photo), make([]byte, mediaLimit)...)
		p = s.do(t, http.MethodPost, "/v1/tenants/media-a/media", editor, big).problem(t, http.StatusRequestEntityTooLarge)
		if f, ok := field(p, "file"); !ok || f.Limit != float64(mediaLimit) {
			t.Errorf("413 problem %+v does not name the limit", p)
		}
		s.do(t, http.MethodPost, "/v1/tenants/media-a/media", editor, onlyReader{bytes.NewReader(big)}).problem(t, http.StatusRequestEntityTooLarge)
		s.do(t, http.MethodPost, "/v1/tenants/media-a/media", editor, []byte{}).problem(t, http.StatusBadRequest)
		if keys, _ := s.blob.List(context.Background(), "media/media-a/"); len(keys) != 1 {
			t.Errorf("S3 holds %v, want only the one original", keys)
		}

		// Status: pending until image-resize writes the manifest.
		var mv mediaView
		s.do(t, http.MethodGet, "/v1/tenants/media-a/media/"+id, editor, nil).expect(t, http.StatusOK, &mv)
		if mv.Status != "pending" || len(mv.Renditions) != 0 {
			t.Errorf("before resize: %+v", mv)
		}
		manifest, _ := proto.Marshal(&eventsv1.MediaManifest{MediaId: id, Resized: &eventsv1.MediaResized{
			MediaId: id, OriginalWidth: 1600, OriginalHeight: 1067,
			Renditions: []*eventsv1.Rendition{{Width: 480, Height: 320, Bytes: 40000, Key: "media/media-a/" + id + "/480.jpg", Format: "jpeg"},
				{Width: 640, Height: 360, Bytes: 30000, Key: "media/media-a/" + id + "/640-16x9.jpg", Format: "jpeg-16x9"}},
		}})
		if _, err := s.kv(t, bus.BucketMedia).Put(context.Background(), "media-a."+id, manifest); err != nil {
			t.Fatal(err)
		}
		s.do(t, http.MethodGet, "/v1/tenants/media-a/media/"+id, editor, nil).expect(t, http.StatusOK, &mv)
		want := []renditionView{{Width: 480, Height: 320, Bytes: 40000, Format: "jpeg", URL: "/media-a/media/" + id + "/480.jpg"},
			{Width: 640, Height: 360, Bytes: 30000, Format: "jpeg-16x9", URL: "/media-a/media/" + id + "/640-16x9.jpg"}}
		if mv.Status != "resized" || !slices.Equal(mv.Renditions, want) {
			t.Errorf("after resize: %+v", mv)
		}
	})

	t.Run("article validation", func(t *testing.T) {
		editor, admin := s.newTenant(t, "valid-a")
		body := map[string]any{
			"category": "the-thao",
			"title":    strings.Repeat("Đ", 41),
			"lead":     "Sa pô",
			"body": []map[string]string{
				{"type": "paragraph", "text": "  "},
				{"type": "image", "media": strings.Repeat("ab", 32), "caption": "Ảnh minh họa"},
				{"type": "image", "media": "photo.jpg"},
				{"type": "video"},
			},
			"source": map[string]string{"name": "Báo Nam Định", "url": "javascript:alert(1)"},
		}
		p := s.do(t, http.MethodPost, "/v1/tenants/valid-a/articles", editor, body).problem(t, http.StatusUnprocessableEntity)
		want := map[string]string{
			"title":         "at most 40 characters",
			"category":      "tin-tuc, xay-dung-dang",
			"body[0].text":  "required",
			"body[1].media": "unknown media id, upload it first",
			"body[2].media": "64 lower-case hex",
			"body[3].type":  "video",
			"source.url":    "http",
		}
		for name, msg := range want {
			f, ok := field(p, name)
			if !ok || !strings.Contains(f.Message, msg) {
				t.Errorf("field %s: got %+v, want a message containing %q", name, f, msg)
			}
		}
		if f, _ := field(p, "title"); f.Limit != float64(40) {
			t.Errorf("title limit %v, want 40", f.Limit)
		}
		if len(p.Errors) != len(want) {
			t.Errorf("%d errors, want %d: %+v", len(p.Errors), len(want), p.Errors)
		}

		ok := map[string]any{"category": "tin-tuc", "title": "Hội nghị", "body": []map[string]string{{"type": "paragraph", "text": "Nội dung"}}}
		unknown := map[string]any{"category": "tin-tuc", "title": "x", "body": ok["body"], "html": "<script>"}
		s.do(t, http.MethodPost, "/v1/tenants/valid-a/articles", editor, unknown).problem(t, http.StatusBadRequest)

		imported := map[string]any{"category": "tin-tuc", "title": "Bài cũ", "body": ok["body"], "published_at": "2019-04-24T15:55:40+07:00", "initial_views": 696}
		p = s.do(t, http.MethodPost, "/v1/tenants/valid-a/articles", editor, imported).problem(t, http.StatusForbidden)
		if !strings.Contains(p.Detail, "published_at") || !strings.Contains(p.Detail, "admin") {
			t.Errorf("403 detail %q", p.Detail)
		}
		// Zero values are "not set": an editor client serialising every field is not importing.
		zero := map[string]any{"category": "tin-tuc", "title": "Bài mới", "body": ok["body"], "published_at": "", "initial_views": 0}
		s.do(t, http.MethodPost, "/v1/tenants/valid-a/articles", editor, zero).expect(t, http.StatusAccepted, nil)
		imported["published_at"] = "24/04/2019"
		if _, ok := field(s.do(t, http.MethodPost, "/v1/tenants/valid-a/articles", admin, imported).problem(t, http.StatusUnprocessableEntity), "published_at"); !ok {
			t.Error("a malformed published_at is not named")
		}
		if n := s.messages(t, bus.StreamArticles, "article.submitted.valid-a"); n != 1 {
			t.Errorf("%d articles submitted, want only the valid one", n)
		}
		if keys, _ := s.blob.List(context.Background(), "content/valid-a/"); len(keys) != 1 {
			t.Errorf("revision documents %v, want only the valid one's", keys)
		}

		imported["published_at"] = "2019-04-24T15:55:40+07:00"
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/valid-a/articles", admin, imported).expect(t, http.StatusAccepted, &sub)
		art := s.revision(t, "valid-a", sub.ID)
		if art.GetInitialViews() != 696 || !art.GetPublishedAt().AsTime().Equal(time.Date(2019, 4, 24, 8, 55, 40, 0, time.UTC)) {
			t.Errorf("imported revision %v", art)
		}
	})

	t.Run("article submission", func(t *testing.T) {
		editor, _ := s.newTenant(t, "submit-a")
		photo := testkit.Photo(t, "photo2.jpg")
		var up uploadResponse
		s.do(t, http.MethodPost, "/v1/tenants/submit-a/media", editor, photo).expect(t, http.StatusCreated, &up)

		body := map[string]any{
			"category": "xay-dung-dang",
			"title":    " Hội nghi\u0323 Ban Chấp hành Đảng bộ Khối ",
			"lead":     "Sáng 24/4, Đảng bộ Khối tổ chức hội nghị.",
			"body": []map[string]string{
				{"type": "paragraph", "text": "Dự hội nghị có các đồng chí trong Ban Thường vụ."},
				{"type": "image", "media": up.ID, "caption": "Quang cảnh hội nghị", "credit": "Ảnh: Lam Hồng"},
			},
			"author": "Minh Anh",
			"source": map[string]string{"name": "Báo Nam Định", "url": "https://baonamdinh.vn/"},
		}
		var first, second submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/submit-a/articles", editor, body, "Idempotency-Key", "req-1").expect(t, http.StatusAccepted, &first)
		if !articleIDPattern.MatchString(first.ID) || first.Revision != 1 || first.StatusURL != "http://ingest.test/v1/tenants/submit-a/articles/"+first.ID {
			t.Fatalf("submit answered %+v", first)
		}
		s.do(t, http.MethodPost, "/v1/tenants/submit-a/articles", editor, body, "Idempotency-Key", "req-1").expect(t, http.StatusAccepted, &second)
		if second != first {
			t.Errorf("a repeated Idempotency-Key made %+v, the first %+v", second, first)
		}
		if n := s.messages(t, bus.StreamArticles, "article.submitted.submit-a"); n != 1 {
			t.Errorf("%d article.submitted messages, want 1", n)
		}
		if keys, _ := s.blob.List(context.Background(), "content/submit-a/"); !slices.Equal(keys, []string{"content/submit-a/" + first.ID + "/1.json"}) {
			t.Errorf("revision documents %v", keys)
		}

		art := s.revision(t, "submit-a", first.ID)
		if art.GetTitle() != "Hội nghị Ban Chấp hành Đảng bộ Khối" || art.GetRevision() != 1 || len(art.GetBody()) != 2 ||
			art.GetBody()[1].GetImage().GetCredit() != "Ảnh: Lam Hồng" || art.GetSource().GetUrl() != "https://baonamdinh.vn/" {
			t.Errorf("revision document %v", art)
		}
		var env eventsv1.Envelope
		if err := proto.Unmarshal(s.lastMessage(t, bus.StreamArticles, "article.submitted.submit-a").Data, &env); err != nil {
			t.Fatal(err)
		}
		if env.GetId() != "submit-a."+first.ID+".1.submitted" || env.GetCorrelationId() != first.ID ||
			!proto.Equal(env.GetArticleSubmitted().GetArticle(), art) {
			t.Errorf("article.submitted envelope %v", &env)
		}

		var st articleView
		s.do(t, http.MethodGet, "/v1/tenants/submit-a/articles/"+first.ID, editor, nil).expect(t, http.StatusOK, &st)
		if st.Status != "submitted" || st.Title != art.GetTitle() || len(st.History) != 1 ||
			!slices.Equal(st.Media, []mediaStatusView{{ID: up.ID, Status: "pending"}}) {
			t.Errorf("status %+v", st)
		}

		// Without a key, each request is a new article.
		var third submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/submit-a/articles", editor, body).expect(t, http.StatusAccepted, &third)
		if third.ID == first.ID {
			t.Error("a request without Idempotency-Key reused an article")
		}
		s.do(t, http.MethodPost, "/v1/tenants/submit-a/articles", editor, body, "Idempotency-Key", strings.Repeat("k", 201)).problem(t, http.StatusBadRequest)
	})

	t.Run("idempotency heals a crash", func(t *testing.T) {
		// As if ingest stopped right after recording the Idempotency-Key: the
		// retry completes the revision, the status and the event.
		editor, _ := s.newTenant(t, "heal-a")
		id := newArticleID(time.Now())
		if _, err := s.kv(t, bus.BucketIdempotency).Create(context.Background(), "heal-a."+apikey.Hash("retry-me"), []byte(id)); err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"category": "tin-tuc", "title": "Tin mới", "body": []map[string]string{{"type": "paragraph", "text": "Nội dung"}}}
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/heal-a/articles", editor, body, "Idempotency-Key", "retry-me").expect(t, http.StatusAccepted, &sub)
		if sub.ID != id {
			t.Fatalf("retry made article %s, want the recorded %s", sub.ID, id)
		}
		if art := s.revision(t, "heal-a", id); art.GetTitle() != "Tin mới" {
			t.Errorf("healed revision %v", art)
		}
		s.do(t, http.MethodGet, "/v1/tenants/heal-a/articles/"+id, editor, nil).expect(t, http.StatusOK, nil)
		if n := s.messages(t, bus.StreamArticles, "article.submitted.heal-a"); n != 1 {
			t.Errorf("%d article.submitted messages, want 1", n)
		}
	})

	t.Run("idempotent retry after moderation does not resubmit", func(t *testing.T) {
		editor, _ := s.newTenant(t, "late-a")
		body := map[string]any{"category": "tin-tuc", "title": "Tin đã duyệt", "body": []map[string]string{{"type": "paragraph", "text": "Nội dung"}}}
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/late-a/articles", editor, body, "Idempotency-Key", "late").expect(t, http.StatusAccepted, &sub)
		// The article was moderated, and the first announcement is older than
		// JetStream's dedupe window (simulated by purging it).
		e, err := s.kv(t, bus.BucketArticles).Get(context.Background(), "late-a."+sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		var d statusDoc
		if err := json.Unmarshal(e.Value(), &d); err != nil {
			t.Fatal(err)
		}
		rev := e.Revision()
		d.Status = statusApproved
		if _, err := s.kv(t, bus.BucketArticles).Update(context.Background(), "late-a."+sub.ID, d.encode(), rev); err != nil {
			t.Fatal(err)
		}
		st, err := s.js.Stream(context.Background(), bus.StreamArticles)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Purge(context.Background(), jetstream.WithPurgeSubject("article.submitted.late-a")); err != nil {
			t.Fatal(err)
		}
		cfg := st.CachedInfo().Config
		window := cfg.Duplicates
		cfg.Duplicates = 100 * time.Millisecond
		if _, err := s.js.UpdateStream(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // let the shortened dedupe window forget the first id
		defer func() {
			cfg.Duplicates = window
			_, _ = s.js.UpdateStream(context.Background(), cfg)
		}()
		var again submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/late-a/articles", editor, body, "Idempotency-Key", "late").expect(t, http.StatusAccepted, &again)
		if again != sub {
			t.Errorf("retry answered %+v, want %+v", again, sub)
		}
		if n := s.messages(t, bus.StreamArticles, "article.submitted.late-a"); n != 0 {
			t.Errorf("a retry of an approved article announced it again (%d messages)", n)
		}
	})

	t.Run("status consumer", func(t *testing.T) {
		editor, _ := s.newTenant(t, "status-a")
		body := map[string]any{"category": "tin-tuc", "title": "Tin mới", "body": []map[string]string{{"type": "paragraph", "text": "Nội dung"}}}
		var sub submitResponse
		s.do(t, http.MethodPost, "/v1/tenants/status-a/articles", editor, body).expect(t, http.StatusAccepted, &sub)
		art := s.revision(t, "status-a", sub.ID)

		at := time.Now().Add(time.Second)
		approved := &eventsv1.Envelope{
			Id: "status-a." + sub.ID + ".1.approved", Type: bus.TypeArticleApproved, Tenant: "status-a",
			CorrelationId: sub.ID, OccurredAt: timestamppb.New(at),
			Payload: &eventsv1.Envelope_ArticleApproved{ArticleApproved: &eventsv1.ArticleApproved{Article: art}},
		}
		s.publish(t, approved)
		status := func() articleView {
			var v articleView
			s.do(t, http.MethodGet, "/v1/tenants/status-a/articles/"+sub.ID, editor, nil).expect(t, http.StatusOK, &v)
			return v
		}
		eventually(t, "approved", func() bool { return status().Status == "approved" })

		url := "http://localhost:8080/status-a/bai-viet/tin-moi-" + sub.ID + ".html"
		s.publish(t, &eventsv1.Envelope{
			Id: "status-a." + sub.ID + ".1.published", Type: bus.TypeArticlePublished, Tenant: "status-a",
			CorrelationId: sub.ID, OccurredAt: timestamppb.New(at.Add(time.Second)),
			Payload: &eventsv1.Envelope_ArticlePublished{ArticlePublished: &eventsv1.ArticlePublished{
				ArticleId: sub.ID, Revision: 1, Url: url, Path: "/bai-viet/tin-moi-" + sub.ID + ".html"}},
		})
		eventually(t, "published", func() bool { return status().Status == "published" })

		// The approval redelivered late (republished without a message id so
		// the dedupe window lets it through) does not move it back.
		data, _ := proto.Marshal(approved)
		if _, err := s.js.Publish(context.Background(), "article.approved.status-a", data); err != nil {
			t.Fatal(err)
		}
		s.waitForStatusConsumer(t)
		v := status()
		var trail []string
		for _, h := range v.History {
			trail = append(trail, h.Status+" by "+h.By)
		}
		if v.Status != "published" || v.PublicURL != url ||
			!slices.Equal(trail, []string{"submitted by key " + apikey.Hash(editor)[:12] + " (editor)", "approved by moderation", "published by render"}) {
			t.Errorf("after a late approval: %+v", v)
		}

		// An event about an older revision than the document's is ignored.
		kv := s.kv(t, bus.BucketArticles)
		e, err := kv.Get(context.Background(), "status-a."+sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		doc := &statusDoc{ID: sub.ID, Tenant: "status-a", Revision: 2, Title: "Tin mới (sửa)", Status: statusSubmitted, StatusAt: time.Now()}
		if _, err := kv.Update(context.Background(), "status-a."+sub.ID, doc.encode(), e.Revision()); err != nil {
			t.Fatal(err)
		}
		s.publish(t, &eventsv1.Envelope{
			Id: "status-a." + sub.ID + ".1.unpublished", Type: bus.TypeArticleUnpublished, Tenant: "status-a",
			CorrelationId: sub.ID, OccurredAt: timestamppb.New(at.Add(time.Minute)),
			Payload: &eventsv1.Envelope_ArticleUnpublished{ArticleUnpublished: &eventsv1.ArticleUnpublished{
				ArticleId: sub.ID, Revision: 1, Reason: "gỡ bài"}},
		})
		s.waitForStatusConsumer(t)
		if v := status(); v.Status != "submitted" || v.Revision != 2 {
			t.Errorf("an event for revision 1 changed revision 2: %+v", v)
		}
		if n := s.messages(t, bus.StreamDeadLetter, ">"); n != 0 {
			t.Errorf("%d dead letters", n)
		}
	})
}

// onlyReader hides the length of a body, so the request is chunked.
type onlyReader struct{ r *bytes.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// revision reads a stored revision document.
func (s *stack) revision(t *testing.T, tenantID, id string) *eventsv1.Article {
	t.Helper()
	b, err := s.blob.GetBytes(context.Background(), revisionKey(tenantID, id, 1), 1<<20)
	if err != nil {
		t.Fatalf("revision document of %s: %v", id, err)
	}
	var art eventsv1.Article
	if err := protojson.Unmarshal(b, &art); err != nil {
		t.Fatal(err)
	}
	return &art
}

func (s *stack) publish(t *testing.T, env *eventsv1.Envelope) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.bus.Publish(ctx, env); err != nil {
		t.Fatal(err)
	}
}

// waitForStatusConsumer waits until ingest has acknowledged every message on
// the status consumer's subjects.
func (s *stack) waitForStatusConsumer(t *testing.T) {
	t.Helper()
	c, err := s.js.Consumer(context.Background(), bus.StreamArticles, bus.ConsumerIngestStatus)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the status consumer to catch up", func() bool {
		info, err := c.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
	})
}
