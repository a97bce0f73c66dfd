package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

type testConfig struct {
	Common
	Addr    string        `env:"HTTP_ADDR" default:":8081"`
	Token   string        `env:"ADMIN_TOKEN" required:"true" secret:"true"`
	Widths  []int         `env:"WIDTHS" default:"320,640"`
	Timeout time.Duration `env:"TIMEOUT" default:"3s"`
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadPrefixDefaultsAndShared(t *testing.T) {
	var c testConfig
	err := Load("INGEST_", env(map[string]string{
		"INGEST_ADMIN_TOKEN": "s3cret", "INGEST_WIDTHS": "100, 200,300", "NATS_URL": "nats://x:1",
		"INGEST_NATS_URL": "ignored", "S3_BUCKET": "b",
	}), &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8081" || c.Token != "s3cret" || c.Timeout != 3*time.Second || c.ShutdownTimeout != 20*time.Second {
		t.Errorf("loaded %+v", c)
	}
	if len(c.Widths) != 3 || c.Widths[2] != 300 {
		t.Errorf("widths %v", c.Widths)
	}
	if c.NATS.URL != "nats://x:1" || c.S3.Bucket != "b" {
		t.Errorf("shared settings must be read without the prefix: %+v %+v", c.NATS, c.S3)
	}
	var b strings.Builder
	for _, a := range LogAttrs("INGEST_", &c) {
		b.WriteString(a.(slog.Attr).String() + "\n")
	}
	s := b.String()
	if strings.Contains(s, "s3cret") || !strings.Contains(s, "INGEST_ADMIN_TOKEN=***") || !strings.Contains(s, "S3_SECRET_KEY=***") {
		t.Errorf("secrets not masked:\n%s", s)
	}
	if !strings.Contains(s, "NATS_URL=nats://x:1") {
		t.Errorf("shared names must be unprefixed:\n%s", s)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	var c testConfig
	err := Load("INGEST_", env(map[string]string{"INGEST_TIMEOUT": "soon", "INGEST_WIDTHS": "1,x"}), &c)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"INGEST_ADMIN_TOKEN is required", "INGEST_TIMEOUT", "INGEST_WIDTHS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
