package tenant

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"hungyen", "nam-dinh", "a1", strings.Repeat("x", 32)} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("ValidateID(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "a.b", "a*", "a>", "a/b", "../x", "HungYen", "hưngyên", "a b",
		strings.Repeat("x", 33), "views.>", "a\nb"} {
		if err := ValidateID(bad); !errors.Is(err, ErrInvalidID) {
			t.Errorf("ValidateID(%q) = %v, want ErrInvalidID", bad, err)
		}
	}
}

func TestValidateTenant(t *testing.T) {
	good := Tenant{ID: "hungyen", Name: "Đảng bộ Khối", Categories: []Category{{Slug: "tin-tuc", Name: "Tin tức"}}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Categories = []Category{{Slug: "Tin Tức", Name: "x"}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "categories[0].slug") {
		t.Errorf("bad slug: %v", err)
	}
	if c, ok := good.Category("tin-tuc"); !ok || c.Name != "Tin tức" {
		t.Errorf("Category lookup = %v, %v", c, ok)
	}
}
