package main

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/blocpress/blocpress/libs/tenant"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageTemplates are the few pages the site makes itself: the list of tenants
// at "/" and the error pages. Everything else is render's.
type pageTemplates struct {
	tenants, error *template.Template
}

func parseTemplates() (*pageTemplates, error) {
	parse := func(file string) (*template.Template, error) {
		t, err := template.New("layout").ParseFS(templateFS, "templates/layout.html", "templates/"+file)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", file, err)
		}
		return t, nil
	}
	var pt pageTemplates
	var err error
	if pt.tenants, err = parse("tenants.html"); err != nil {
		return nil, err
	}
	if pt.error, err = parse("error.html"); err != nil {
		return nil, err
	}
	return &pt, nil
}

func execute(t *template.Template, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (pt *pageTemplates) tenantList(all []*tenant.Tenant) ([]byte, error) {
	return execute(pt.tenants, struct {
		Title   string
		Tenants []*tenant.Tenant
	}{"Các trang tin", all})
}

// errorTexts are what a reader is told, in Vietnamese, per status.
var errorTexts = map[int][2]string{
	http.StatusNotFound:           {"Không tìm thấy trang", "Trang bạn tìm không tồn tại hoặc đã được chuyển đi."},
	http.StatusBadRequest:         {"Địa chỉ không hợp lệ", "Địa chỉ bạn nhập không đúng. Vui lòng kiểm tra lại."},
	http.StatusMethodNotAllowed:   {"Yêu cầu không được hỗ trợ", "Trang này chỉ để đọc."},
	http.StatusServiceUnavailable: {"Hệ thống tạm thời gián đoạn", "Xin vui lòng thử lại sau ít phút."},
}

func (pt *pageTemplates) errorPage(status int, home string) ([]byte, error) {
	text, ok := errorTexts[status]
	if !ok {
		text = [2]string{http.StatusText(status), ""}
	}
	return execute(pt.error, struct{ Title, Heading, Message, Home string }{text[0], text[0], text[1], home})
}
