package main

import (
	_ "embed"
	"net/http"
)

// openAPI is the machine-readable form of docs/ingest-api.md, built into
// the binary so the description served always belongs to the code serving it.
//
//go:embed openapi.yaml
var openAPI []byte

// handleOpenAPI serves the API description. It needs no key: it describes
// routes, not data, and client generators fetch it anonymously.
func (s *service) handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPI)
}
