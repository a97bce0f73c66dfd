package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/blocpress/blocpress/libs/httpx"
)

// filePrefix marks an image block's media as a photo part of the same
// multipart request: "file:<part name>".
const filePrefix = "file:"

// decodeMultipartArticle reads a multipart create: a part "article" with
// the JSON and photo parts, each stored and announced exactly as POST
// …/media does (it runs handleUploadMedia on the part), after which every
// "file:<part>" media reference is replaced by the photo's id. Parts are
// read in one pass without buffering photos in memory; a photo that fails
// (too large, not an image) answers with that problem, its field renamed to
// the part. Returns false when it has answered.
func (s *service) decodeMultipartArticle(w http.ResponseWriter, r *http.Request, c *caller, req *articleRequest) bool {
	// Whole-body bound: the JSON plus the most photos an article may show,
	// each at most MaxMediaBytes; handleUploadMedia bounds each photo.
	limit := s.cfg.MaxBodyBytes + int64(s.cfg.MaxImages)*(s.cfg.MaxMediaBytes+multipartOverhead)
	if r.ContentLength > limit {
		httpx.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is over the %d-byte limit", limit),
			httpx.FieldError{Field: "body", Message: fmt.Sprintf("must be at most %d bytes", limit), Limit: limit})
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, "reading multipart body: "+err.Error())
		return false
	}
	var articleJSON []byte
	photos := map[string]string{} // part name → media id
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				httpx.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is over the %d-byte limit", limit),
					httpx.FieldError{Field: "body", Message: fmt.Sprintf("must be at most %d bytes", limit), Limit: limit})
				return false
			}
			httpx.Error(w, http.StatusBadRequest, "reading multipart body: "+err.Error())
			return false
		}
		name := p.FormName()
		switch {
		case name == "article":
			if articleJSON != nil {
				httpx.Error(w, http.StatusBadRequest, `the multipart body has two parts named "article"`, httpx.FieldError{Field: "article", Message: "must appear once"})
				return false
			}
			b, err := io.ReadAll(io.LimitReader(p, s.cfg.MaxBodyBytes+1))
			if err != nil {
				httpx.Error(w, http.StatusBadRequest, "reading the article part: "+err.Error())
				return false
			}
			if int64(len(b)) > s.cfg.MaxBodyBytes {
				httpx.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the article part is over the %d-byte limit", s.cfg.MaxBodyBytes),
					httpx.FieldError{Field: "article", Message: fmt.Sprintf("must be at most %d bytes", s.cfg.MaxBodyBytes), Limit: s.cfg.MaxBodyBytes})
				return false
			}
			articleJSON = b
		case name == "":
			if _, err := io.Copy(io.Discard, p); err != nil {
				httpx.Error(w, http.StatusBadRequest, "reading multipart body: "+err.Error())
				return false
			}
		default:
			if _, dup := photos[name]; dup {
				httpx.Error(w, http.StatusBadRequest, "two photo parts are named "+strconv.Quote(name), httpx.FieldError{Field: name, Message: "part names must be unique"})
				return false
			}
			if len(photos) == s.cfg.MaxImages {
				httpx.Error(w, http.StatusUnprocessableEntity, fmt.Sprintf("at most %d photos per article", s.cfg.MaxImages),
					httpx.FieldError{Field: name, Message: fmt.Sprintf("is one photo too many: at most %d", s.cfg.MaxImages), Limit: s.cfg.MaxImages})
				return false
			}
			id, ok := s.uploadPart(w, r, c, name, p)
			if !ok {
				return false
			}
			photos[name] = id
		}
	}
	if articleJSON == nil {
		httpx.Error(w, http.StatusBadRequest, `the multipart body has no part named "article" (the article's JSON)`,
			httpx.FieldError{Field: "article", Message: "is required"})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(articleJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		httpx.Error(w, http.StatusBadRequest, "the article part is not valid JSON: "+err.Error(), httpx.FieldError{Field: "article", Message: err.Error()})
		return false
	}
	var errs []httpx.FieldError
	for i := range req.Body {
		m := strings.TrimSpace(req.Body[i].Media)
		name, ok := strings.CutPrefix(m, filePrefix)
		if !ok {
			continue
		}
		id, found := photos[name]
		if !found {
			errs = append(errs, httpx.FieldError{Field: "body[" + strconv.Itoa(i) + "].media",
				Message: fmt.Sprintf("refers to a part %q that the request does not have", name)})
			continue
		}
		req.Body[i].Media = id
	}
	if len(errs) > 0 {
		httpx.Error(w, http.StatusUnprocessableEntity, fmt.Sprintf("the article has %d problem(s); nothing was stored", len(errs)), errs...)
		return false
	}
	return true
}

// uploadPart stores one photo part through handleUploadMedia, so the
// photo is checked, stored and announced by the very code of POST …/media.
func (s *service) uploadPart(w http.ResponseWriter, r *http.Request, c *caller, name string, part io.Reader) (string, bool) {
	sub := r.Clone(r.Context())
	sub.Body = io.NopCloser(part)
	sub.ContentLength = -1
	sub.Header = sub.Header.Clone()
	sub.Header.Set("Content-Type", "application/octet-stream")
	rec := &recorder{header: http.Header{}}
	s.handleUploadMedia(rec, sub, c)
	if rec.code == http.StatusCreated {
		var up uploadResponse
		if err := json.Unmarshal(rec.body.Bytes(), &up); err == nil && mediaIDPattern.MatchString(up.ID) {
			return up.ID, true
		}
		s.unavailable(w, r, "storing photo part "+name, fmt.Errorf("unexpected upload answer %s", rec.body.String()))
		return "", false
	}
	var p httpx.Problem
	if err := json.Unmarshal(rec.body.Bytes(), &p); err != nil {
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		_, _ = w.Write(rec.body.Bytes())
		return "", false
	}
	for i := range p.Errors {
		if p.Errors[i].Field == "file" {
			p.Errors[i].Field = name
		}
	}
	if ra := rec.header.Get("Retry-After"); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	httpx.Error(w, rec.code, "photo part "+strconv.Quote(name)+": "+p.Detail, p.Errors...)
	return "", false
}

// recorder keeps what a handler answered, for uploadPart.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}
