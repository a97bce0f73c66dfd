package blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// defaultRegion is what a presigned URL is signed for when Config.Region is
// empty: MinIO's default. Signing needs a region, and asking the server for
// the bucket's would be a network call through the public endpoint.
const defaultRegion = "us-east-1"

// Presigner makes presigned URLs that name a public S3 endpoint: the one
// the uploader (an editor's browser) reaches, which may differ from the
// internal one the Store talks to. The endpoint's host is part of the
// signature, so the URL cannot simply be rewritten afterwards.
type Presigner struct {
	client *minio.Client
	bucket string
}

// Presigner returns a presigner for the same bucket and credentials reached
// at publicEndpoint (scheme://host[:port], no path). It never contacts the
// server.
func (s *Store) Presigner(publicEndpoint string) (*Presigner, error) {
	u, err := url.Parse(publicEndpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("public S3 endpoint %q must be http(s)://host[:port] without a path", publicEndpoint)
	}
	region := s.cfg.Region
	if region == "" {
		region = defaultRegion
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:     credentials.NewStaticV4(s.cfg.AccessKey, s.cfg.SecretKey, ""),
		Secure:    u.Scheme == "https",
		Region:    region,
		Transport: noNetwork{},
	})
	if err != nil {
		return nil, fmt.Errorf("creating presigning client for %s: %w", u.Host, err)
	}
	return &Presigner{client: c, bucket: s.bucket}, nil
}

// PresignedPut is a presigned upload: PUT the body to URL with Headers.
type PresignedPut struct {
	URL string
	// Headers must be sent exactly: they are signed, so S3 refuses a body of
	// another length or type.
	Headers http.Header
	Expires time.Time
}

// PresignPut lets whoever holds the answer PUT exactly size bytes of
// contentType under key until expiry (1 s … 7 days). Content-Length and
// Content-Type are signed headers: S3 answers 403 to a request whose
// length or type differs from the signed ones.
func (p *Presigner) PresignPut(ctx context.Context, key, contentType string, size int64, expiry time.Duration) (PresignedPut, error) {
	if size <= 0 || contentType == "" {
		return PresignedPut{}, errors.New("presigning a PUT needs a positive size and a content type")
	}
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	now := time.Now()
	u, err := p.client.PresignHeader(ctx, http.MethodPut, p.bucket, key, expiry, nil, h)
	if err != nil {
		return PresignedPut{}, fmt.Errorf("presigning PUT %s: %w", key, err)
	}
	return PresignedPut{URL: u.String(), Headers: h, Expires: now.Add(expiry).UTC().Truncate(time.Second)}, nil
}

// noNetwork is the presigning client's transport: presigning is local
// arithmetic, and a request through the public endpoint from inside the
// cluster would be a configuration error worth seeing.
type noNetwork struct{}

func (noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("the presigning client makes no requests (%s %s)", r.Method, r.URL.Host)
}
