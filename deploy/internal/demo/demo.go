// Package demo sets up the demo tenants and imports the sample articles made
// from the seeds (demo/articles), through ingest's public API — exactly as an
// operator and an editor would.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blocpress/blocpress/deploy/internal/client"
)

// Credentials are written to <data dir>/credentials.json on the first run and
// reused afterwards. They are local demo secrets, shown to the operator.
type Credentials struct {
	AdminToken  string                `json:"admin_token"`
	ReaderSalt  string                `json:"reader_salt"`
	DeskSecret  string                `json:"desk_secret"`
	S3AccessKey string                `json:"s3_access_key"`
	S3SecretKey string                `json:"s3_secret_key"`
	Tenants     map[string]TenantKeys `json:"tenants"`
	// Imported maps a demo article file to the article id it became.
	Imported map[string]string `json:"imported"`
}

// TenantKeys are one tenant's API keys.
type TenantKeys struct {
	Admin    string `json:"admin_key"`
	Editor   string `json:"editor_key"`
	Reviewer string `json:"reviewer_key"`
}

// LoadCredentials reads path, or makes new secrets when it does not exist.
func LoadCredentials(path string) (*Credentials, error) {
	c := &Credentials{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.AdminToken, c.S3AccessKey, c.S3SecretKey = "op_"+randomHex(16), "blocpress", randomHex(16)
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, c); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
	}
	if c.ReaderSalt == "" {
		c.ReaderSalt = randomHex(16)
	}
	if c.DeskSecret == "" {
		c.DeskSecret = randomHex(24)
	}
	if c.Tenants == nil {
		c.Tenants = map[string]TenantKeys{}
	}
	if c.Imported == nil {
		c.Imported = map[string]string{}
	}
	return c, nil
}

// Save writes the credentials, readable by the owner only.
func (c *Credentials) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Article is the demo file format (see demo/README.md).
type Article struct {
	Tenant       string            `json:"tenant"`
	Category     string            `json:"category"`
	CategoryName string            `json:"category_name"`
	Title        string            `json:"title"`
	Lead         string            `json:"lead"`
	PublishedAt  string            `json:"published_at"`
	InitialViews int64             `json:"initial_views"`
	Body         []json.RawMessage `json:"body"`
	Author       string            `json:"author"`
	Source       struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"source"`
}

// Setup stores the tenants, makes their keys if credentials lack them, and
// imports every demo article not imported before. It saves the credentials
// after each step so that an interrupted run resumes. It returns the ids of
// the imported articles by tenant.
func Setup(ctx context.Context, ingestURL string, creds *Credentials, credPath, demoDir, photosDir string, log io.Writer) (map[string][]string, error) {
	admin := client.New(ingestURL, creds.AdminToken)
	var tenants []json.RawMessage
	if err := readJSON(filepath.Join(demoDir, "tenants.json"), &tenants); err != nil {
		return nil, err
	}
	for _, raw := range tenants {
		var head struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(raw, &head)
		if err := admin.Do(ctx, http.MethodPut, "/v1/admin/tenants/"+head.ID, nil, raw, nil); err != nil {
			return nil, fmt.Errorf("storing tenant %s: %w", head.ID, err)
		}
		keys := creds.Tenants[head.ID]
		for role, dst := range map[string]*string{"admin": &keys.Admin, "editor": &keys.Editor, "reviewer": &keys.Reviewer} {
			if *dst != "" {
				continue
			}
			var out struct {
				Key string `json:"key"`
			}
			if err := admin.Do(ctx, http.MethodPost, "/v1/admin/tenants/"+head.ID+"/keys", nil,
				map[string]string{"role": role}, &out); err != nil {
				return nil, fmt.Errorf("creating %s key for %s: %w", role, head.ID, err)
			}
			*dst = out.Key
		}
		creds.Tenants[head.ID] = keys
		if err := creds.Save(credPath); err != nil {
			return nil, err
		}
	}

	files, err := filepath.Glob(filepath.Join(demoDir, "articles", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	imported := map[string][]string{}
	photoIDs := map[string]map[string]string{} // tenant → "photo:N" → media id
	for _, f := range files {
		name := filepath.Base(f)
		var a Article
		if err := readJSON(f, &a); err != nil {
			return nil, err
		}
		if id, ok := creds.Imported[name]; ok {
			imported[a.Tenant] = append(imported[a.Tenant], id)
			continue
		}
		keys, ok := creds.Tenants[a.Tenant]
		if !ok {
			return nil, fmt.Errorf("%s: tenant %s is not in tenants.json", name, a.Tenant)
		}
		c := client.New(ingestURL, keys.Admin)
		body := make([]map[string]any, 0, len(a.Body))
		for _, raw := range a.Body {
			var blk map[string]any
			if err := json.Unmarshal(raw, &blk); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if ref, _ := blk["media"].(string); strings.HasPrefix(ref, "photo:") {
				if photoIDs[a.Tenant] == nil {
					photoIDs[a.Tenant] = map[string]string{}
				}
				id, ok := photoIDs[a.Tenant][ref]
				if !ok {
					img, err := os.ReadFile(filepath.Join(photosDir, "photo"+strings.TrimPrefix(ref, "photo:")+".jpg"))
					if err != nil {
						return nil, fmt.Errorf("%s: %w", name, err)
					}
					if id, err = c.UploadMedia(ctx, a.Tenant, img); err != nil {
						return nil, fmt.Errorf("%s: uploading %s: %w", name, ref, err)
					}
					photoIDs[a.Tenant][ref] = id
				}
				blk["media"] = id
			}
			body = append(body, blk)
		}
		req := map[string]any{
			"category": a.Category, "title": a.Title, "lead": a.Lead, "body": body, "author": a.Author,
			"source": a.Source, "published_at": a.PublishedAt, "initial_views": a.InitialViews,
		}
		sub, err := c.SubmitArticle(ctx, a.Tenant, req, "demo:"+name)
		if err != nil {
			return nil, fmt.Errorf("%s: submitting: %w", name, err)
		}
		fmt.Fprintf(log, "imported %s as %s/%s\n", name, a.Tenant, sub.ID)
		creds.Imported[name] = sub.ID
		if err := creds.Save(credPath); err != nil {
			return nil, err
		}
		imported[a.Tenant] = append(imported[a.Tenant], sub.ID)
	}
	return imported, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}
