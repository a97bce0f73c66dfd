// Package blob stores objects in S3-compatible storage (MinIO locally) through
// minio-go. Keys are derived by callers from content hashes and ids, never
// from user-supplied names.
package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ErrNotFound is returned when a key does not exist.
var ErrNotFound = errors.New("blob not found")

// Config is how to reach the bucket.
type Config struct {
	// Endpoint is host:port, without scheme.
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	UseTLS    bool
	Region    string
}

// Info describes a stored object.
type Info struct {
	Size         int64
	ContentType  string
	ETag         string
	LastModified time.Time
}

// Store is a bucket.
type Store struct {
	client *minio.Client
	bucket string
	cfg    Config // for presigning with another endpoint (presign.go)
}

// New returns a store; it does not contact the server (see EnsureBucket, Ready).
func New(cfg Config) (*Store, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseTLS,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("creating s3 client for %s: %w", cfg.Endpoint, err)
	}
	if cfg.Bucket == "" {
		return nil, errors.New("blob: bucket name is required")
	}
	return &Store{client: c, bucket: cfg.Bucket, cfg: cfg}, nil
}

// EnsureBucket creates the bucket if it does not exist, retrying until ctx
// ends so a service may start before its storage.
func (s *Store) EnsureBucket(ctx context.Context) error {
	var err error
	for attempt := 0; ; attempt++ {
		var ok bool
		ok, err = s.client.BucketExists(ctx, s.bucket)
		if err == nil && ok {
			return nil
		}
		if err == nil {
			err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{})
			if err == nil {
				return nil
			}
			if resp := minio.ToErrorResponse(err); resp.Code == "BucketAlreadyOwnedByYou" || resp.Code == "BucketAlreadyExists" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ensuring bucket %s: %w (last error: %v)", s.bucket, ctx.Err(), err)
		case <-time.After(min(250*time.Millisecond<<min(attempt, 4), 4*time.Second)):
		}
	}
}

// Ready checks that the bucket is reachable.
func (s *Store) Ready(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3: %w", err)
	}
	if !ok {
		return fmt.Errorf("s3: bucket %s missing", s.bucket)
	}
	return nil
}

// Put stores size bytes from r under key. S3 writes are atomic: a reader sees
// the old object or the new one, never half of it.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	_, err := s.client.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("storing %s: %w", key, err)
	}
	return nil
}

// PutBytes stores b under key.
func (s *Store) PutBytes(ctx context.Context, key string, b []byte, contentType string) error {
	return s.Put(ctx, key, bytes.NewReader(b), int64(len(b)), contentType)
}

// Get opens an object; the caller closes it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, fmt.Errorf("reading %s: %w", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return nil, Info{}, wrapNotFound(key, err)
	}
	return obj, infoOf(st), nil
}

// GetBytes reads a whole object, refusing one larger than limit bytes.
func (s *Store) GetBytes(ctx context.Context, key string, limit int64) ([]byte, error) {
	rc, info, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if info.Size > limit {
		return nil, fmt.Errorf("reading %s: %d bytes is over the %d-byte limit", key, info.Size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	return b, nil
}

// Stat describes an object without reading it.
func (s *Store) Stat(ctx context.Context, key string) (Info, error) {
	st, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, wrapNotFound(key, err)
	}
	return infoOf(st), nil
}

// Delete removes an object; deleting a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	return nil
}

// List returns the keys under prefix.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("listing %s: %w", prefix, obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys, nil
}

func infoOf(st minio.ObjectInfo) Info {
	return Info{Size: st.Size, ContentType: st.ContentType, ETag: st.ETag, LastModified: st.LastModified}
}

func wrapNotFound(key string, err error) error {
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("reading %s: %w", key, err)
}
