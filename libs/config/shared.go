package config

import (
	"time"

	"github.com/blocpress/blocpress/libs/blob"
	"github.com/blocpress/blocpress/libs/bus"
)

// NATS is the bus configuration every service shares (unprefixed variables).
type NATS struct {
	URL      string `env:"NATS_URL" default:"nats://127.0.0.1:4222"`
	Replicas int    `env:"NATS_REPLICAS" default:"1" help:"stream and bucket replicas; 3 in a cluster"`
}

// S3 is the object-store configuration every service shares.
type S3 struct {
	Endpoint  string `env:"S3_ENDPOINT" default:"127.0.0.1:9000"`
	AccessKey string `env:"S3_ACCESS_KEY" default:"blocpress"`
	SecretKey string `env:"S3_SECRET_KEY" default:"blocpress-secret" secret:"true"`
	Bucket    string `env:"S3_BUCKET" default:"blocpress"`
	UseTLS    bool   `env:"S3_TLS" default:"false"`
	Region    string `env:"S3_REGION" default:"us-east-1"`
}

// Blob converts to the blob package's configuration.
func (s S3) Blob() blob.Config {
	return blob.Config{Endpoint: s.Endpoint, AccessKey: s.AccessKey, SecretKey: s.SecretKey,
		Bucket: s.Bucket, UseTLS: s.UseTLS, Region: s.Region}
}

// Bus converts to the bus package's configuration.
func (n NATS) Bus(name string) bus.Config {
	return bus.Config{URL: n.URL, Name: name, Replicas: n.Replicas}
}

// Common is what every service has: NATS, S3, an HTTP address and a
// shutdown bound.
type Common struct {
	NATS            NATS          `env:",shared"`
	S3              S3            `env:",shared"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" default:"20s"`
	LogLevel        string        `env:"LOG_LEVEL" default:"info"`
}
