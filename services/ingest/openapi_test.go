package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// routePattern finds the API routes registered in this package's source:
// mux.HandleFunc("METHOD /path", …) and mux.Handle("METHOD /path", …).
// Reading the source, not a list kept by hand, means a route added by
// anyone fails this test until it is documented.
var routePattern = regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+) (/[^"]*)"`)

// registeredRoutes returns "METHOD /path" for every literal route in the
// package's non-test files.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range routePattern.FindAllStringSubmatch(string(b), -1) {
			routes = append(routes, m[1]+" "+m[2])
		}
	}
	if len(routes) < 10 {
		t.Fatalf("found only %d routes in the source: %v", len(routes), routes)
	}
	return routes
}

// pathParam matches a path parameter, whatever its name, so that the
// document and the mux may name them differently.
var pathParam = regexp.MustCompile(`\{[^}]*\}`)

func normalizePath(p string) string { return pathParam.ReplaceAllString(p, "{}") }

type openAPIDoc struct {
	OpenAPI    string                               `yaml:"openapi"`
	Paths      map[string]map[string]yaml.Node      `yaml:"paths"`
	Components map[string]map[string]yaml.Node      `yaml:"components"`
	Security   []map[string][]string                `yaml:"security"`
	Info       struct{ Title, Version string }      `yaml:"info"`
	Tags       []struct{ Name, Description string } `yaml:"tags"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Title == "" || len(doc.Paths) == 0 || len(doc.Security) == 0 {
		t.Fatalf("openapi.yaml: version %q, title %q, %d paths, security %v", doc.OpenAPI, doc.Info.Title, len(doc.Paths), doc.Security)
	}
	return doc
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// TestOpenAPIDocumentsEveryRoute checks both ways: every route in the
// source is in openapi.yaml, and every documented operation reaches a
// registered handler of the real mux.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			if slices.Contains(httpMethods, m) {
				documented[strings.ToUpper(m)+" "+normalizePath(p)] = true
			}
		}
	}
	for _, r := range registeredRoutes(t) {
		method, p, _ := strings.Cut(r, " ")
		if !documented[method+" "+normalizePath(p)] {
			t.Errorf("route %s is registered but not in openapi.yaml", r)
		}
	}

	s := &service{log: slog.New(slog.NewTextHandler(io.Discard, nil)), cfg: Config{RatePerMinute: 600, RateBurst: 60}}
	mux, ok := s.routes().(*http.ServeMux)
	if !ok {
		t.Fatal("routes() is not a *http.ServeMux")
	}
	for op := range documented {
		method, p, _ := strings.Cut(op, " ")
		req := httptest.NewRequest(method, strings.ReplaceAll(p, "{}", "x1"), nil)
		if _, pattern := mux.Handler(req); pattern == "" {
			t.Errorf("openapi.yaml documents %s, but no route serves it", op)
		}
	}
}

// TestOpenAPIReferencesResolve checks that every $ref points at a
// component that exists, that every operation answers a problem for
// errors, and that Vietnamese examples are NFC text.
func TestOpenAPIReferencesResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, kind := range []string{"schemas", "responses", "parameters", "securitySchemes", "examples"} {
		if len(doc.Components[kind]) == 0 {
			t.Errorf("components.%s is empty", kind)
		}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(openAPI, &root); err != nil {
		t.Fatal(err)
	}
	refs := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "$ref" {
					refs++
					kind, name, ok := strings.Cut(strings.TrimPrefix(n.Content[i+1].Value, "#/components/"), "/")
					if _, found := doc.Components[kind][name]; !ok || !found {
						t.Errorf("line %d: $ref %q does not resolve", n.Content[i+1].Line, n.Content[i+1].Value)
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
	if refs < 50 {
		t.Errorf("only %d $refs", refs)
	}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			var o struct {
				OperationID string               `yaml:"operationId"`
				Responses   map[string]yaml.Node `yaml:"responses"`
			}
			if err := op.Decode(&o); err != nil {
				t.Fatalf("%s %s: %v", m, p, err)
			}
			if o.OperationID == "" || len(o.Responses) == 0 {
				t.Errorf("%s %s has no operationId or no responses", m, p)
			}
			if strings.HasPrefix(p, "/v1/tenants/") {
				for _, code := range []string{"401", "429"} {
					if _, ok := o.Responses[code]; !ok {
						t.Errorf("%s %s does not document %s", m, p, code)
					}
				}
			}
		}
	}
	if !strings.Contains(string(openAPI), "Phòng Tuyên giáo") {
		t.Error("the examples are not in Vietnamese")
	}
}

func TestServeOpenAPI(t *testing.T) {
	s := &service{log: slog.New(slog.NewTextHandler(io.Discard, nil)), cfg: Config{RatePerMinute: 600, RateBurst: 60}}
	rec := httptest.NewRecorder()
	s.routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/yaml") || rec.Body.String() != string(openAPI) {
		t.Errorf("GET /openapi.yaml without a key: %d %q, %d bytes", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
	}
}
