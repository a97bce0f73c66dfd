package main

import (
	"crypto/rand"
	"net/http"

	"github.com/blocpress/blocpress/libs/httpx"
	"github.com/blocpress/blocpress/libs/websession"
	"github.com/blocpress/blocpress/services/ingest/internal/editor"
)

// mountEditor adds the editor web app under /editor/ and the read-only
// tenant route its forms need. The app calls the API through mux itself,
// in-process, with the signed-in editor's key.
func (s *service) mountEditor(mux *http.ServeMux) {
	// Any key of the tenant may read its name and categories (the write
	// form's category list) and learn its own role (reviewers sign in to
	// the editor read-only); the admin-only GET /v1/admin/… holds the rest.
	mux.HandleFunc("GET /v1/tenants/{tenant}", s.tenantAPI(s.handleTenantInfo))

	app, err := s.newEditor(mux)
	if err != nil {
		s.log.Error("the editor web app is not available", "err", err)
		mux.HandleFunc(editor.Path, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "Trang soạn bài tạm thời không hoạt động (cấu hình chưa đúng). Vui lòng báo quản trị viên.", http.StatusServiceUnavailable)
		})
		return
	}
	mux.Handle(editor.Path, app.Handler())
}

func (s *service) newEditor(api http.Handler) (*editor.App, error) {
	secret := []byte(s.cfg.SessionSecret)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails
		s.log.Warn(envPrefix + "SESSION_SECRET is not set: editor sign-ins end when this process stops and are not shared with other replicas")
	}
	sessions, err := websession.New(websession.Options{
		Secret: secret, Cookie: "bp_editor", LoginCookie: "bp_editor_login", Path: editor.Path,
		TTL: s.cfg.SessionTTL, Secure: s.cfg.CookieSecure,
	})
	if err != nil {
		return nil, err
	}
	return editor.New(editor.Options{
		API: api, Sessions: sessions, RenderURL: s.cfg.RenderURL, SiteURL: s.cfg.SiteURL,
		MaxMediaBytes: s.cfg.MaxMediaBytes, Logger: s.log,
	})
}

// tenantInfo is GET /v1/tenants/{t}: what any key holder of the tenant may
// read of it.
type tenantInfo struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Categories []categoryInfo `json:"categories"`
	Role       string         `json:"role"`
}

type categoryInfo struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

func (s *service) handleTenantInfo(w http.ResponseWriter, _ *http.Request, c *caller) {
	v := tenantInfo{ID: c.tenant.ID, Name: c.tenant.Name, Role: c.role, Categories: []categoryInfo{}}
	for _, cat := range c.tenant.Categories {
		v.Categories = append(v.Categories, categoryInfo{Slug: cat.Slug, Name: cat.Name})
	}
	httpx.JSON(w, http.StatusOK, v)
}
