package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/blocpress/blocpress/libs/tenant"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

func TestReviewChecksEveryTextField(t *testing.T) {
	tn := &tenant.Tenant{ID: "hung-yen", Categories: []tenant.Category{{Slug: "tin-tuc"}}, Blocklist: []string{"xấu"}}
	a := &eventsv1.Article{
		Title: "tin xấu", Lead: "xấu", Author: "xấu", Category: "tin-tuc",
		Source: &eventsv1.Source{Name: "báo xấu"},
		Body: []*eventsv1.Block{
			{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: "xấu"}}},
			{Kind: &eventsv1.Block_Image{Image: &eventsv1.Image{MediaId: "m", Caption: "xấu", Credit: "Ảnh: xấu"}}},
			{},
		},
	}
	want := []string{
		`blocked term "xấu" in title`, `blocked term "xấu" in lead`,
		`blocked term "xấu" in body[0] (paragraph)`, `blocked term "xấu" in body[1] (caption)`,
		`blocked term "xấu" in body[1] (credit)`, "body[2] is neither a paragraph nor an image",
		`blocked term "xấu" in author`, `blocked term "xấu" in source`,
	}
	if got := review(tn, a); !slices.Equal(got, want) {
		t.Errorf("review =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReviewBoundsReasons(t *testing.T) {
	tn := &tenant.Tenant{ID: "hung-yen", Categories: []tenant.Category{{Slug: "tin-tuc"}}, Blocklist: []string{"xấu"}}
	a := &eventsv1.Article{Title: "t", Category: "tin-tuc"}
	for range 50 {
		a.Body = append(a.Body, &eventsv1.Block{Kind: &eventsv1.Block_Paragraph{Paragraph: &eventsv1.Paragraph{Text: "xấu"}}})
	}
	got := review(tn, a)
	if len(got) != maxReasons+1 || got[maxReasons] != fmt.Sprintf("and %d more", 50-maxReasons) {
		t.Errorf("got %d reasons ending %q, want %d and a count of the rest", len(got), got[len(got)-1], maxReasons+1)
	}
}
