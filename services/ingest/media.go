package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
	"github.com/blocpress/blocpress/libs/httpx"
)

// acceptedImageTypes are the formats image-resize decodes, as sniffed from
// the bytes; the Content-Type the client claims is not trusted.
var acceptedImageTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// mediaIDPattern is a hex SHA-256, as media ids are.
var mediaIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// spoolInMemory is how much of an upload is kept in memory before it spills
// to a temporary file, so that concurrent large uploads do not exhaust memory.
const spoolInMemory = 1 << 20

// multipartOverhead is what a multipart body may carry besides the file:
// boundaries, part headers and small extra fields.
const multipartOverhead = 64 << 10

// Media statuses reported to editors.
const (
	mediaPending = "pending"
	mediaResized = "resized"
	mediaFailed  = "failed"
)

// originalKey is where ingest stores the bytes of a photo.
func originalKey(tenantID, mediaID string) string {
	return "media/" + tenantID + "/" + mediaID + "/original"
}

// renditionURL is the public path (served by site) of a rendition: the file
// name of its S3 key (media/<tenant>/<media>/<file>: "640.jpg", "640.webp",
// "640-16x9.jpg"), or "<width>.jpg" for a manifest without keys.
func renditionURL(tenantID, mediaID string, rd *eventsv1.Rendition) string {
	file := path.Base(rd.GetKey())
	if rd.GetKey() == "" {
		file = strconv.Itoa(int(rd.GetWidth())) + ".jpg"
	}
	return "/" + tenantID + "/media/" + mediaID + "/" + file
}

func (s *service) mediaStatusURL(tenantID, mediaID string) string {
	return s.cfg.PublicURL + "/v1/tenants/" + tenantID + "/media/" + mediaID
}

type uploadResponse struct {
	ID        string `json:"id"`
	StatusURL string `json:"status_url"`
}

// handleUploadMedia stores a photo under the hash of its bytes and announces
// it. The same bytes uploaded again get the same id and answer, so a retried
// upload is harmless.
func (s *service) handleUploadMedia(w http.ResponseWriter, r *http.Request, c *caller) {
	limit := s.cfg.MaxMediaBytes
	tooLarge := func() {
		httpx.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the photo is over the %d-byte limit", limit),
			httpx.FieldError{Field: "file", Message: fmt.Sprintf("must be at most %d bytes", limit), Limit: limit})
	}
	multipart := isMultipart(r)
	bodyLimit := limit
	if multipart {
		bodyLimit += multipartOverhead
	}
	if r.ContentLength > bodyLimit {
		tooLarge()
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, bodyLimit)

	src := io.Reader(r.Body)
	if multipart {
		part, err := filePart(r)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				tooLarge()
				return
			}
			httpx.Error(w, http.StatusBadRequest, err.Error(), httpx.FieldError{Field: "file", Message: "a multipart/form-data part named \"file\" is required"})
			return
		}
		src = part
	}

	up := newSpool()
	defer up.Close()
	n, err := io.Copy(up, io.LimitReader(src, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || n > limit:
		tooLarge()
		return
	case err != nil:
		httpx.Error(w, http.StatusBadRequest, "reading the upload: "+err.Error())
		return
	case n == 0:
		httpx.Error(w, http.StatusBadRequest, "the upload is empty", httpx.FieldError{Field: "file", Message: "must not be empty"})
		return
	}
	id, ok := s.storePhoto(w, r, c, up, n)
	if !ok {
		return
	}
	httpx.JSON(w, http.StatusCreated, uploadResponse{ID: id, StatusURL: s.mediaStatusURL(c.tenant.ID, id)})
}

// storePhoto is how every photo enters: its type is sniffed from its bytes
// (415 unless accepted), it is stored under the hash of its bytes unless
// already there, and announced. Both uploads, through ingest (POST /media)
// and straight to S3 (…/uploads/{id}/complete), go through here. On failure
// it has answered the client and returns false.
func (s *service) storePhoto(w http.ResponseWriter, r *http.Request, c *caller, up *spool, n int64) (string, bool) {
	contentType := http.DetectContentType(up.head)
	if !accepted(contentType) {
		httpx.Error(w, http.StatusUnsupportedMediaType,
			fmt.Sprintf("the file is %s, not a photo in an accepted format", contentType),
			httpx.FieldError{Field: "file", Message: "must be one of " + strings.Join(acceptedImageTypes, ", "), Limit: acceptedImageTypes})
		return "", false
	}

	id := up.Sum()
	key := originalKey(c.tenant.ID, id)
	if _, err := s.blob.Stat(r.Context(), key); errors.Is(err, blob.ErrNotFound) {
		body, err := up.Reader()
		if err != nil {
			s.unavailable(w, r, "reading the spooled upload", err)
			return "", false
		}
		if err := s.blob.Put(r.Context(), key, body, n, contentType); err != nil {
			s.unavailable(w, r, "storing the photo", err)
			return "", false
		}
	} else if err != nil {
		s.unavailable(w, r, "checking for the photo", err)
		return "", false
	}

	// Published on every upload, not only the first: the dedupe window drops
	// repeats, and a crash between Put and Publish is healed by re-uploading.
	pctx, cancel := publishCtx(r.Context())
	defer cancel()
	err := s.bus.Publish(pctx, &eventsv1.Envelope{
		Id:            c.tenant.ID + "." + id + ".uploaded",
		Type:          bus.TypeMediaUploaded,
		Tenant:        c.tenant.ID,
		CorrelationId: id,
		Payload: &eventsv1.Envelope_MediaUploaded{MediaUploaded: &eventsv1.MediaUploaded{
			MediaId: id, ContentType: contentType, Bytes: n, OriginalKey: key,
		}},
	})
	if err != nil {
		s.unavailable(w, r, "announcing the photo", err)
		return "", false
	}
	s.log.Info("photo uploaded", "tenant", c.tenant.ID, "media", id, "bytes", n, "type", contentType, "key_id", c.keyID)
	return id, true
}

func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// filePart returns the part named "file" of a multipart body, skipping others.
func filePart(r *http.Request) (io.Reader, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("reading multipart body: %w", err)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, errors.New(`the multipart body has no part named "file"`)
		}
		if err != nil {
			return nil, fmt.Errorf("reading multipart body: %w", err)
		}
		if p.FormName() == "file" {
			return p, nil
		}
		if _, err := io.Copy(io.Discard, p); err != nil {
			return nil, fmt.Errorf("reading multipart body: %w", err)
		}
	}
}

func accepted(contentType string) bool {
	for _, t := range acceptedImageTypes {
		if contentType == t {
			return true
		}
	}
	return false
}

// spool buffers an upload, in memory up to spoolInMemory and in a temporary
// file beyond, hashing it and keeping its first bytes for sniffing.
type spool struct {
	head []byte
	sha  hash.Hash
	mem  bytes.Buffer
	file *os.File
}

func newSpool() *spool { return &spool{sha: sha256.New()} }

func (s *spool) Write(p []byte) (int, error) {
	if missing := 512 - len(s.head); missing > 0 {
		s.head = append(s.head, p[:min(missing, len(p))]...)
	}
	s.sha.Write(p)
	if s.file == nil && s.mem.Len()+len(p) > spoolInMemory {
		f, err := os.CreateTemp("", "ingest-upload-*")
		if err != nil {
			return 0, fmt.Errorf("spooling upload: %w", err)
		}
		s.file = f
		if _, err := f.Write(s.mem.Bytes()); err != nil {
			return 0, fmt.Errorf("spooling upload: %w", err)
		}
		s.mem = bytes.Buffer{}
	}
	if s.file != nil {
		return s.file.Write(p)
	}
	return s.mem.Write(p)
}

// Sum is the hex SHA-256 of everything written.
func (s *spool) Sum() string { return hex.EncodeToString(s.sha.Sum(nil)) }

// Reader reads the spooled bytes from the start.
func (s *spool) Reader() (io.Reader, error) {
	if s.file == nil {
		return bytes.NewReader(s.mem.Bytes()), nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewinding spooled upload: %w", err)
	}
	return s.file, nil
}

// Close removes the temporary file, if there is one.
func (s *spool) Close() {
	if s.file != nil {
		_ = s.file.Close()
		_ = os.Remove(s.file.Name())
	}
}

type renditionView struct {
	Width  int32  `json:"width"`
	Height int32  `json:"height"`
	Bytes  int64  `json:"bytes"`
	Format string `json:"format"`
	URL    string `json:"url"`
}

type mediaView struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Reason     string          `json:"reason,omitempty"`
	Renditions []renditionView `json:"renditions"`
}

// handleGetMedia reports what image-resize made of a photo.
func (s *service) handleGetMedia(w http.ResponseWriter, r *http.Request, c *caller) {
	id := r.PathValue("id")
	if !mediaIDPattern.MatchString(id) {
		httpx.Error(w, http.StatusBadRequest, "a media id is a lower-case hex SHA-256",
			httpx.FieldError{Field: "id", Message: "must be 64 lower-case hex digits"})
		return
	}
	v, err := s.mediaStatus(r.Context(), c.tenant.ID, id)
	if err != nil {
		s.unavailable(w, r, "reading the photo's manifest", err)
		return
	}
	if v.Status == mediaPending {
		// No manifest yet: pending if the original is there, unknown otherwise.
		if _, err := s.blob.Stat(r.Context(), originalKey(c.tenant.ID, id)); errors.Is(err, blob.ErrNotFound) {
			httpx.Error(w, http.StatusNotFound, "no photo "+id+" was uploaded to this tenant")
			return
		} else if err != nil {
			s.unavailable(w, r, "checking for the photo", err)
			return
		}
	}
	httpx.JSON(w, http.StatusOK, v)
}

// mediaStatus reads the manifest image-resize keeps for a photo; no manifest
// means it has not been processed yet.
func (s *service) mediaStatus(ctx context.Context, tenantID, id string) (mediaView, error) {
	v := mediaView{ID: id, Status: mediaPending, Renditions: []renditionView{}}
	e, err := s.media.Get(ctx, tenantID+"."+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("reading media manifest %s.%s: %w", tenantID, id, err)
	}
	var m eventsv1.MediaManifest
	if err := proto.Unmarshal(e.Value(), &m); err != nil {
		return v, fmt.Errorf("decoding media manifest %s.%s: %w", tenantID, id, err)
	}
	switch {
	case m.GetFailed() != nil:
		v.Status, v.Reason = mediaFailed, m.GetFailed().GetReason()
	case m.GetResized() != nil:
		v.Status = mediaResized
		for _, rd := range m.GetResized().GetRenditions() {
			v.Renditions = append(v.Renditions, renditionView{
				Width: rd.GetWidth(), Height: rd.GetHeight(), Bytes: rd.GetBytes(), Format: rd.GetFormat(),
				URL: renditionURL(tenantID, id, rd),
			})
		}
	}
	return v, nil
}
