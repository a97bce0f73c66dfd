package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/blocpress/blocpress/deploy/internal/client"
	"github.com/blocpress/blocpress/deploy/internal/legacy"
)

const importHelp = `Usage: blocpress import --ingest URL --tenant T --key ADMIN_KEY [flags] FILE|DIR…

Turns text dumps of legacy article pages (one article per .txt file; a DIR
is searched for *.txt) into articles of tenant T, through ingest's API
(POST /v1/tenants/T/articles). The page's category, title, publication date
and time (Asia/Ho_Chi_Minh unless the page gives a zone), view count, lead,
paragraphs, photo captions and credits, author, source and keywords (tags)
are kept; menus, banners, related-article lists, widgets and footers are
dropped. The old
view count becomes the article's starting count (initial_views) and the
old date its publication date (published_at); both need an admin key.

Re-importing is safe: each dump is sent with Idempotency-Key = hex SHA-256
of "<tenant>\n<dump in NFC>", so the same dump gives the same article and
no new revision. A file that cannot be read or is not an article (no title,
no text) is reported with the reason and the run goes on; the exit status
is 1 when any file failed.

Categories: the page's section name is mapped to one of the tenant's
categories (GET /v1/tenants/T): --category-map first, then the category
whose name or slug matches the section name folded to ASCII (đ→d, accents
and case ignored), else --category (default: the tenant's first category),
with a warning.

Photos: dumps hold the captions, not the image files. Without --photos each
caption is kept as a paragraph "caption (Ảnh: credit)", so nothing is lost.
With --photos DIR, the files DIR/<dump name>-1.jpg, -2.jpg … (.jpeg, .png,
.webp also) are uploaded and attached to the dump's captions in order;
captions without a file stay paragraphs.

Flags:
`

// importOptions are the flags of import.
type importOptions struct {
	ingest, tenant, key, category, photos string
	categoryMap                           map[string]string
	dryRun, jsonOut                       bool
	// retryDelay is the first wait after a refusal that may pass (429,
	// 502–504); it doubles up to maxRetryDelay.
	retryDelay time.Duration
}

type mapFlag map[string]string

func (m mapFlag) String() string { return "" }
func (m mapFlag) Set(v string) error {
	name, slug, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(name) == "" || strings.TrimSpace(slug) == "" {
		return fmt.Errorf("want \"page section name=slug\", got %q", v)
	}
	m[strings.TrimSpace(name)] = strings.TrimSpace(slug)
	return nil
}

// fileResult is one file's line in the final report (and in --json).
type fileResult struct {
	File        string   `json:"file"`
	ID          string   `json:"id,omitempty"`
	Revision    int64    `json:"revision,omitempty"`
	Title       string   `json:"title,omitempty"`
	Category    string   `json:"category,omitempty"`
	PublishedAt string   `json:"published_at,omitempty"`
	Views       int64    `json:"views"`
	Found       []string `json:"found,omitempty"`
	Warnings    []string `json:"warnings,omitempty"`
	Error       string   `json:"error,omitempty"`
	// Article is the request sent (or, in a dry run, that would be sent).
	Article map[string]any `json:"article,omitempty"`
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer, terminal bool) int {
	return runImportWith(ctx, args, stdout, stderr, terminal, time.Second)
}

func runImportWith(ctx context.Context, args []string, stdout, stderr io.Writer, terminal bool, retryDelay time.Duration) int {
	opt := importOptions{categoryMap: map[string]string{}, retryDelay: retryDelay}
	fl := flag.NewFlagSet("blocpress import", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprint(stderr, importHelp)
		fl.PrintDefaults()
	}
	fl.StringVar(&opt.ingest, "ingest", "", "ingest's base URL, e.g. http://localhost:8081 (required unless --dry-run)")
	fl.StringVar(&opt.tenant, "tenant", "", "tenant id (required)")
	fl.StringVar(&opt.key, "key", "", "an admin API key of the tenant (required unless --dry-run; also read from $BLOCPRESS_KEY)")
	fl.StringVar(&opt.category, "category", "", "category slug for pages whose section is missing or unknown (default: the tenant's first category)")
	fl.Var(mapFlag(opt.categoryMap), "category-map", "`NAME=SLUG`: file pages whose section is NAME under category SLUG; repeatable")
	fl.StringVar(&opt.photos, "photos", "", "directory with the dumps' photos, named <dump name>-1.jpg, -2.jpg … in caption order")
	fl.BoolVar(&opt.dryRun, "dry-run", false, "parse and report only; send nothing")
	fl.BoolVar(&opt.jsonOut, "json", false, "print the report as JSON (with each article as sent) instead of a table")
	// Flags may follow the files: parse, take the files, parse the rest.
	var paths []string
	for rest := args; ; {
		if err := fl.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fl.NArg() == 0 {
			break
		}
		paths = append(paths, fl.Arg(0))
		rest = fl.Args()[1:]
	}
	if opt.key == "" {
		opt.key = os.Getenv("BLOCPRESS_KEY")
	}
	var missing []string
	if opt.tenant == "" {
		missing = append(missing, "--tenant")
	}
	if !opt.dryRun && opt.ingest == "" {
		missing = append(missing, "--ingest")
	}
	if !opt.dryRun && opt.key == "" {
		missing = append(missing, "--key")
	}
	if len(paths) == 0 {
		missing = append(missing, "FILE|DIR")
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "blocpress import: missing %s (see -h)\n", strings.Join(missing, ", "))
		return 2
	}
	files, err := dumpFiles(paths)
	if err != nil {
		fmt.Fprintln(stderr, "blocpress import:", err)
		return 1
	}
	vn, err := time.LoadLocation(legacy.Vietnam)
	if err != nil {
		fmt.Fprintln(stderr, "blocpress import:", err)
		return 1
	}

	var api *client.Client
	cats := legacy.Categories{Map: opt.categoryMap, Default: opt.category}
	if opt.ingest != "" {
		api = client.New(strings.TrimRight(opt.ingest, "/"), opt.key)
		var info struct {
			Categories []legacy.Category `json:"categories"`
		}
		if err := api.Do(ctx, http.MethodGet, "/v1/tenants/"+opt.tenant, nil, nil, &info); err != nil {
			if !opt.dryRun {
				fmt.Fprintf(stderr, "blocpress import: reading tenant %s: %s\n", opt.tenant, reason(err))
				return 1
			}
			fmt.Fprintf(stderr, "blocpress import: reading tenant %s: %s (dry run: categories are transliterated)\n", opt.tenant, reason(err))
		}
		cats.Tenant = info.Categories
	}

	prog := &progress{w: stderr, terminal: terminal, total: len(files)}
	results := make([]fileResult, 0, len(files))
	failed := 0
	for i, f := range files {
		if ctx.Err() != nil {
			break
		}
		prog.start(i, f)
		r := importFile(ctx, api, opt, cats, vn, f)
		if r.Error != "" {
			failed++
		}
		prog.done(i, r)
		results = append(results, r)
	}
	prog.finish()

	if opt.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(results)
	} else {
		printTable(stdout, results, opt.dryRun)
	}
	if failed > 0 || ctx.Err() != nil {
		return 1
	}
	return 0
}

// dumpFiles expands directories to the .txt files under them, sorted.
func dumpFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			// Reported per file, so that the run goes on.
			files = append(files, p)
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".txt") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", p, err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// maxLead is ingest's default lead limit; a longer first paragraph stays in
// the body.
const maxLead = 1000

func importFile(ctx context.Context, api *client.Client, opt importOptions, cats legacy.Categories, vn *time.Location, file string) fileResult {
	r := fileResult{File: file}
	raw, err := os.ReadFile(file)
	if err != nil {
		r.Error = "cannot read: " + err.Error()
		return r
	}
	if !utf8.Valid(raw) {
		r.Error = "not UTF-8 text"
		return r
	}
	dump := norm.NFC.String(string(raw))
	a, err := legacy.Parse(dump, vn)
	if err != nil {
		r.Error = "not an article: " + err.Error()
		return r
	}
	r.Title, r.Views, r.Found, r.Warnings = a.Title, a.Views, a.Found(), a.Warnings
	slug, warn := cats.Resolve(a.Category)
	if warn != "" {
		r.Warnings = append(r.Warnings, warn)
	}
	r.Category = slug
	if !a.PublishedAt.IsZero() {
		r.PublishedAt = a.PublishedAt.Format(time.RFC3339)
	}

	var photos []string
	if opt.photos != "" {
		photos = photoFiles(opt.photos, file)
	}
	body := []map[string]any{}
	lead := a.Lead
	if utf8.RuneCountInString(lead) > maxLead {
		body = append(body, map[string]any{"type": "paragraph", "text": lead})
		lead = ""
		r.Warnings = append(r.Warnings, fmt.Sprintf("first paragraph longer than %d characters: kept in the body, no lead", maxLead))
	}
	used := 0
	for _, b := range a.Body {
		if !b.Caption {
			body = append(body, map[string]any{"type": "paragraph", "text": b.Text})
			continue
		}
		if used < len(photos) && !opt.dryRun {
			var id string
			err := retry(ctx, opt.retryDelay, func() error {
				var err error
				id, err = uploadPhoto(ctx, api, opt.tenant, photos[used])
				return err
			})
			if err != nil {
				r.Error = fmt.Sprintf("uploading %s: %s", photos[used], reason(err))
				return r
			}
			used++
			body = append(body, map[string]any{"type": "image", "media": id, "caption": b.Text, "credit": b.Credit})
			continue
		}
		body = append(body, map[string]any{"type": "paragraph", "text": b.CaptionText()})
	}
	if len(photos) > used && !opt.dryRun {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d photos without a caption to go with: not attached", len(photos)-used))
	}
	req := map[string]any{"category": slug, "title": a.Title, "lead": lead, "body": body, "author": a.Author}
	if a.Source != (legacy.Source{}) {
		req["source"] = map[string]string{"name": a.Source.Name, "url": a.Source.URL}
	}
	var tags []string // within ingest's default limits: 20 tags of 60 characters
	for _, tag := range a.Tags {
		if utf8.RuneCountInString(tag) <= 60 && len(tags) < 20 {
			tags = append(tags, tag)
		} else {
			r.Warnings = append(r.Warnings, fmt.Sprintf("keyword %q left out (more than 20, or longer than 60 characters)", shorten(tag, 40)))
		}
	}
	if len(tags) > 0 {
		req["tags"] = tags
	}
	if r.PublishedAt != "" {
		req["published_at"] = r.PublishedAt
	}
	if a.Views > 0 {
		req["initial_views"] = a.Views
	}
	r.Article = req
	if opt.dryRun {
		return r
	}
	var sub client.Submitted
	err = retry(ctx, opt.retryDelay, func() error {
		var err error
		sub, err = api.SubmitArticle(ctx, opt.tenant, req, IdempotencyKey(opt.tenant, dump))
		return err
	})
	if err != nil {
		r.Error = reason(err)
		return r
	}
	r.ID, r.Revision = sub.ID, sub.Revision
	return r
}

// maxRetryDelay bounds the doubling wait between retries.
const maxRetryDelay = 30 * time.Second

// retry calls fn again while ingest answers 429 (the key's request rate: an
// archive of thousands of pages goes faster than the default 600 a minute),
// 502–504 or cannot be reached, up to 8 times. Repeating is safe: articles
// carry their Idempotency-Key and photos are stored by content hash.
func retry(ctx context.Context, delay time.Duration, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || attempt == 8 || ctx.Err() != nil {
			return err
		}
		var se *client.StatusError
		if errors.As(err, &se) && se.Code != http.StatusTooManyRequests && se.Code != http.StatusBadGateway &&
			se.Code != http.StatusServiceUnavailable && se.Code != http.StatusGatewayTimeout {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRetryDelay)
	}
}

// IdempotencyKey is the key a dump is imported with: the same tenant and the
// same text (in NFC, so an editor's re-save in another normal form does not
// count as a change) give the same article.
func IdempotencyKey(tenant, dump string) string {
	sum := sha256.Sum256([]byte(tenant + "\n" + norm.NFC.String(dump)))
	return hex.EncodeToString(sum[:])
}

// photoFiles are DIR/<dump name>-N.<ext> for N = 1, 2, … until one is
// missing.
func photoFiles(dir, dump string) []string {
	base := strings.TrimSuffix(filepath.Base(dump), filepath.Ext(dump))
	var out []string
	for n := 1; ; n++ {
		found := ""
		for _, ext := range []string{".jpg", ".jpeg", ".png", ".webp", ".JPG", ".JPEG", ".PNG"} {
			p := filepath.Join(dir, fmt.Sprintf("%s-%d%s", base, n, ext))
			if _, err := os.Stat(p); err == nil {
				found = p
				break
			}
		}
		if found == "" {
			return out
		}
		out = append(out, found)
	}
}

func uploadPhoto(ctx context.Context, api *client.Client, tenant, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return api.UploadMedia(ctx, tenant, b)
}

// reason makes an API error readable: the problem's detail and its field
// errors, not the raw JSON.
func reason(err error) string {
	var se *client.StatusError
	if !errors.As(err, &se) {
		return err.Error()
	}
	var p struct {
		Detail string `json:"detail"`
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal([]byte(se.Body), &p) != nil || p.Detail == "" {
		return fmt.Sprintf("HTTP %d: %.200s", se.Code, se.Body)
	}
	s := fmt.Sprintf("HTTP %d: %s", se.Code, p.Detail)
	for _, e := range p.Errors {
		s += fmt.Sprintf("; %s %s", e.Field, e.Message)
	}
	return s
}

// progress shows a bar redrawn in place on a terminal, one line per file
// elsewhere (CI logs, pipes).
type progress struct {
	w        io.Writer
	terminal bool
	total    int
}

func (p *progress) start(i int, file string) {
	if p.terminal {
		const width = 30
		done := width * i / max(p.total, 1)
		fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d %s", strings.Repeat("#", done), strings.Repeat(".", width-done), i, p.total, shorten(filepath.Base(file), 40))
	}
}

func (p *progress) done(i int, r fileResult) {
	if p.terminal {
		if r.Error != "" { // failures stay on screen above the bar
			fmt.Fprintf(p.w, "\r\033[K%s: %s\n", r.File, r.Error)
		}
		return
	}
	status := "ok " + r.ID
	switch {
	case r.Error != "":
		status = "FAILED: " + r.Error
	case r.ID == "":
		status = "parsed"
	}
	fmt.Fprintf(p.w, "[%d/%d] %s: %s\n", i+1, p.total, r.File, status)
}

func (p *progress) finish() {
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K[%s] %d/%d\n", strings.Repeat("#", 30), p.total, p.total)
	}
}

func printTable(w io.Writer, results []fileResult, dryRun bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tID\tTITLE\tDATE\tVIEWS\tFOUND\tWARNINGS")
	ok, failed := 0, 0
	for _, r := range results {
		id := r.ID
		switch {
		case r.Error != "":
			id = "FAILED"
			failed++
		case dryRun:
			id = "(dry run)"
			ok++
		default:
			ok++
		}
		date := "-"
		if r.PublishedAt != "" {
			if t, err := time.Parse(time.RFC3339, r.PublishedAt); err == nil {
				date = t.Format("2006-01-02 15:04")
			}
		}
		warn := strings.Join(r.Warnings, "; ")
		if r.Error != "" {
			warn = r.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", filepath.Base(r.File), id, shorten(r.Title, 40), date, r.Views,
			strings.Join(r.Found, ", "), warn)
	}
	_ = tw.Flush()
	verb := "imported"
	if dryRun {
		verb = "parsed"
	}
	fmt.Fprintf(w, "%d %s, %d failed\n", ok, verb, failed)
}

// shorten cuts s to n characters with an ellipsis.
func shorten(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
