package main

import (
	"errors"
	"fmt"

	"github.com/blocpress/blocpress/libs/config"
)

const (
	serviceName = "view-counter"
	envPrefix   = "VIEW_COUNTER_"
	// maxBatchSize keeps a fetched batch within the consumer's MaxAckPending
	// (1000, libs/bus), so one batch never starves another replica.
	maxBatchSize = 1000
)

// Config is read from VIEW_COUNTER_* variables plus the shared NATS_* ones.
type Config struct {
	config.Common
	HTTPAddr string `env:"HTTP_ADDR" default:":8083" help:"listen address for beacons and counts"`
	// RedisAddrs is one address for a single Redis, or several (comma
	// separated) seed nodes of a Redis Cluster; keys are Cluster-safe.
	RedisAddrs []string `env:"REDIS_ADDR" default:"127.0.0.1:6379" help:"Redis holding the counters; several addresses mean a Redis Cluster"`
	// ReaderSalt is mixed into the reader hash so that a hash cannot be
	// reversed into an IP by brute force. When unset a random salt is drawn at
	// each start: hashes then change across restarts and differ between
	// replicas, which is harmless for counting views but must be set (the same
	// value on every replica) before unique readers are counted.
	ReaderSalt string `env:"READER_SALT" secret:"true" help:"salt of the reader hash; random per process when unset"`
	BatchSize  int    `env:"BATCH_SIZE" default:"500" help:"views fetched and folded into Redis at once"`
}

func loadConfig(getenv func(string) string) (Config, error) {
	var cfg Config
	if err := config.Load(envPrefix, getenv, &cfg); err != nil {
		return Config{}, err
	}
	if cfg.BatchSize < 1 || cfg.BatchSize > maxBatchSize {
		return Config{}, fmt.Errorf("%sBATCH_SIZE must be between 1 and %d, got %d", envPrefix, maxBatchSize, cfg.BatchSize)
	}
	if len(cfg.RedisAddrs) == 0 {
		return Config{}, errors.New(envPrefix + "REDIS_ADDR is empty")
	}
	if cfg.ShutdownTimeout <= 0 {
		return Config{}, errors.New(envPrefix + "SHUTDOWN_TIMEOUT must be positive")
	}
	return cfg, nil
}
