package main

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/httpx"
)

// Direct uploads: a large photo goes from the editor's browser straight to
// S3 through a presigned PUT, so it does not pass through ingest twice.
// The object lands under a staging key, uploads/<tenant>/<upload id>; on
// "complete" ingest reads it back, checks it exactly as POST /media checks
// an upload (storePhoto), and deletes it. A marker,
// uploads/<tenant>/<upload id>.done, holds the media id so that a repeated
// "complete" gets the same answer. Staging objects that are never completed
// and markers are left to an S3 lifecycle rule on uploads/ (README).

// uploadIDPattern is 160 random bits in lower-case base32.
var uploadIDPattern = regexp.MustCompile(`^[a-z2-7]{32}$`)

func newUploadID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

// stagingKey is where a presigned upload lands: under the tenant, with a
// random name, never one the client chose.
func stagingKey(tenantID, uploadID string) string { return "uploads/" + tenantID + "/" + uploadID }

// doneKey marks a completed upload; it holds the media id.
func doneKey(tenantID, uploadID string) string { return stagingKey(tenantID, uploadID) + ".done" }

// s3PublicURL is INGEST_S3_PUBLIC_URL, or the S3 endpoint as ingest reaches it.
func (c Config) s3PublicURL() string {
	if c.S3PublicURL != "" {
		return strings.TrimRight(c.S3PublicURL, "/")
	}
	scheme := "http"
	if c.S3.UseTLS {
		scheme = "https"
	}
	return scheme + "://" + c.S3.Endpoint
}

// checkEndpointURL accepts scheme://host[:port]: S3 clients address the
// bucket under the root, and the host is part of the signature.
func checkEndpointURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("%q must be http(s)://host[:port] without a path", s)
	}
	return nil
}

type presignRequest struct {
	ContentType string `json:"content_type"`
	Bytes       int64  `json:"bytes"`
}

type presignResponse struct {
	UploadID    string            `json:"upload_id"`
	URL         string            `json:"url"`
	Method      string            `json:"method"`
	Headers     map[string]string `json:"headers"`
	ExpiresAt   time.Time         `json:"expires_at"`
	CompleteURL string            `json:"complete_url"`
}

// handlePresignUpload hands out a presigned PUT for one photo of the
// declared type and exact size. The limits are checked here, before any
// byte moves; S3 then refuses a body of another length or type, because
// both are signed headers.
func (s *service) handlePresignUpload(w http.ResponseWriter, r *http.Request, c *caller) {
	var req presignRequest
	if code, err := httpx.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		httpx.Error(w, code, err.Error())
		return
	}
	var errs []httpx.FieldError
	if !accepted(req.ContentType) {
		errs = append(errs, httpx.FieldError{Field: "content_type",
			Message: "must be one of " + strings.Join(acceptedImageTypes, ", "), Limit: acceptedImageTypes})
	}
	if req.Bytes <= 0 || req.Bytes > s.cfg.MaxMediaBytes {
		errs = append(errs, httpx.FieldError{Field: "bytes",
			Message: fmt.Sprintf("must be between 1 and %d", s.cfg.MaxMediaBytes), Limit: s.cfg.MaxMediaBytes})
	}
	if len(errs) > 0 {
		httpx.Error(w, http.StatusUnprocessableEntity, "the upload cannot be accepted", errs...)
		return
	}
	p, err := s.blob.Presigner(s.cfg.s3PublicURL())
	if err != nil {
		s.unavailable(w, r, "presigning the upload", err)
		return
	}
	id := newUploadID()
	put, err := p.PresignPut(r.Context(), stagingKey(c.tenant.ID, id), req.ContentType, req.Bytes, s.cfg.UploadExpiry)
	if err != nil {
		s.unavailable(w, r, "presigning the upload", err)
		return
	}
	s.log.Info("upload presigned", "tenant", c.tenant.ID, "upload", id, "bytes", req.Bytes, "type", req.ContentType, "key_id", c.keyID)
	httpx.JSON(w, http.StatusCreated, presignResponse{
		UploadID: id, URL: put.URL, Method: http.MethodPut,
		Headers:     map[string]string{"Content-Type": req.ContentType, "Content-Length": strconv.FormatInt(req.Bytes, 10)},
		ExpiresAt:   put.Expires,
		CompleteURL: s.cfg.PublicURL + "/v1/tenants/" + c.tenant.ID + "/media/uploads/" + id + "/complete",
	})
}

// handleCompleteUpload accepts a photo uploaded through a presigned PUT:
// it reads the staging object back, checks it as POST /media would (size,
// type sniffed from the bytes — the declared type is not trusted), stores
// it under its hash, announces it, and deletes the staging object.
// Completing twice answers the same id (200).
func (s *service) handleCompleteUpload(w http.ResponseWriter, r *http.Request, c *caller) {
	id := r.PathValue("upload")
	if !uploadIDPattern.MatchString(id) {
		httpx.Error(w, http.StatusNotFound, "no such upload",
			httpx.FieldError{Field: "upload_id", Message: "must be an upload_id from POST …/media/uploads (32 characters a-z, 2-7)"})
		return
	}
	key := stagingKey(c.tenant.ID, id)
	rc, info, err := s.blob.Get(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		s.completedBefore(w, r, c, id)
		return
	}
	if err != nil {
		s.unavailable(w, r, "reading the upload", err)
		return
	}
	defer rc.Close()

	limit := s.cfg.MaxMediaBytes
	if info.Size > limit {
		s.discardUpload(r, key)
		httpx.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the photo is over the %d-byte limit", limit),
			httpx.FieldError{Field: "bytes", Message: fmt.Sprintf("must be at most %d bytes", limit), Limit: limit})
		return
	}
	up := newSpool()
	defer up.Close()
	n, err := io.Copy(up, io.LimitReader(rc, limit+1))
	if err != nil {
		s.unavailable(w, r, "reading the upload", err)
		return
	}
	if n != info.Size || n == 0 {
		s.unavailable(w, r, "reading the upload", fmt.Errorf("read %d of %d bytes of %s", n, info.Size, key))
		return
	}
	if !accepted(http.DetectContentType(up.head)) { // the same sniff as storePhoto's
		// Refused for good: the staging object goes, so nothing of it stays.
		s.discardUpload(r, key)
	}
	mediaID, ok := s.storePhoto(w, r, c, up, n)
	if !ok {
		return
	}
	// The marker first, then the staging object goes: a crash in between
	// leaves both, and the next "complete" redoes the (idempotent) work.
	if err := s.blob.PutBytes(r.Context(), doneKey(c.tenant.ID, id), []byte(mediaID), "text/plain"); err != nil {
		s.unavailable(w, r, "recording the completed upload", err)
		return
	}
	s.discardUpload(r, key)
	httpx.JSON(w, http.StatusCreated, uploadResponse{ID: mediaID, StatusURL: s.mediaStatusURL(c.tenant.ID, mediaID)})
}

// completedBefore answers a "complete" whose staging object is gone: the
// same answer as the first time if it was completed, 404 otherwise.
func (s *service) completedBefore(w http.ResponseWriter, r *http.Request, c *caller, id string) {
	b, err := s.blob.GetBytes(r.Context(), doneKey(c.tenant.ID, id), 128)
	if errors.Is(err, blob.ErrNotFound) {
		httpx.Error(w, http.StatusNotFound, "nothing was uploaded for "+id+" (not yet, refused, or the URL expired)",
			httpx.FieldError{Field: "upload_id", Message: "PUT the photo to the presigned url before completing"})
		return
	}
	if err != nil {
		s.unavailable(w, r, "reading the upload", err)
		return
	}
	mediaID := string(b)
	if !mediaIDPattern.MatchString(mediaID) {
		s.unavailable(w, r, "reading the upload", fmt.Errorf("marker %s holds %q", doneKey(c.tenant.ID, id), b))
		return
	}
	httpx.JSON(w, http.StatusOK, uploadResponse{ID: mediaID, StatusURL: s.mediaStatusURL(c.tenant.ID, mediaID)})
}

// discardUpload deletes a staging object; a failure only leaves it to the
// lifecycle rule, so it is logged, not answered.
func (s *service) discardUpload(r *http.Request, key string) {
	if err := s.blob.Delete(r.Context(), key); err != nil {
		s.log.Warn("deleting a staging upload", "key", key, "err", err)
	}
}
