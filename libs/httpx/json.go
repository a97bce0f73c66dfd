package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// JSON writes v with the status code.
func JSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// FieldError names the input field at fault and, when there is one, the limit.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Limit   any    `json:"limit,omitempty"`
}

// Problem is an RFC 9457 problem-details body.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
}

// Error writes an application/problem+json response.
func Error(w http.ResponseWriter, code int, detail string, fields ...FieldError) {
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(Problem{Type: "about:blank", Title: http.StatusText(code), Status: code, Detail: detail, Errors: fields})
}

// DecodeJSON reads one JSON value of at most limit bytes into v, refusing
// unknown fields. The error says what was wrong, for a 400 or 413.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) (int, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, fmt.Errorf("request body is over the %d-byte limit", limit)
		}
		return http.StatusBadRequest, fmt.Errorf("request body is not valid JSON: %w", err)
	}
	if dec.Decode(new(json.RawMessage)) != io.EOF {
		return http.StatusBadRequest, errors.New("request body must hold one JSON value")
	}
	return 0, nil
}
