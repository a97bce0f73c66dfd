// Package testkit starts real servers for integration tests — an embedded
// nats-server with JetStream in a temp dir, and real minio and redis-server
// processes on free loopback ports — and stops them when the test ends. A
// test whose server cannot start fails with a message saying how to install
// it; it never skips.
package testkit

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/localstack"
)

// NATS starts an embedded JetStream server; Restart on the result keeps its port.
func NATS(t testing.TB) *localstack.NATS {
	t.Helper()
	n, err := localstack.StartNATS(t.TempDir(), 0)
	if err != nil {
		t.Fatalf("testkit: starting embedded nats: %v", err)
	}
	t.Cleanup(n.Stop)
	return n
}

// MinIO starts a real minio server and returns a blob configuration for a
// fresh bucket on it.
func MinIO(t testing.TB) blob.Config {
	t.Helper()
	bin, err := localstack.FindBinary("minio", binDirs()...)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := localstack.StartMinIO(ctx, localstack.MinIOOptions{
		Binary: bin, Dir: t.TempDir(), AccessKey: "testkit", SecretKey: "testkit-secret",
	})
	if err != nil {
		t.Fatalf("testkit: starting minio: %v", err)
	}
	t.Cleanup(p.Stop)
	return blob.Config{Endpoint: p.Addr, AccessKey: "testkit", SecretKey: "testkit-secret", Bucket: "test"}
}

// Redis starts a real redis-server; Stop and Start on the result simulate an outage.
func Redis(t testing.TB) *localstack.Process {
	t.Helper()
	bin, err := localstack.FindBinary("redis-server", binDirs()...)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := localstack.StartRedis(ctx, localstack.RedisOptions{Binary: bin, Dir: t.TempDir(), AppendOnly: true})
	if err != nil {
		t.Fatalf("testkit: starting redis: %v", err)
	}
	t.Cleanup(p.Stop)
	return p
}

// RepoRoot is the directory holding go.work, found by walking up from the
// test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root := repoRoot()
	if root == "" {
		t.Fatalf("testkit: go.work not found above the working directory")
	}
	return root
}

func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// binDirs are where `make deps` installs tools: the repository's bin/.
func binDirs() []string {
	if root := repoRoot(); root != "" {
		return []string{filepath.Join(root, "bin")}
	}
	return nil
}

// Photo returns the bytes of a real photograph from testdata/photos (see
// LICENSE.md there), e.g. "photo1.jpg".
func Photo(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(t), "libs", "testkit", "testdata", "photos", name))
	if err != nil {
		t.Fatalf("testkit: reading photo: %v", err)
	}
	return b
}

// MeanAbsDiff is the mean absolute difference per 8-bit colour channel (alpha
// aside) of two same-sized images, 0 for identical pixels; images of
// different sizes differ by the most, 255. Tests compare a rendition with a
// reference made another way by it.
func MeanAbsDiff(a, b image.Image) float64 {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 255
	}
	var sum, n float64
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			r1, g1, b1, _ := a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				sum += float64(max(d, -d))
				n++
			}
		}
	}
	return sum / n
}
