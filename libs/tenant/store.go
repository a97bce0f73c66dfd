package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrNotFound is returned for a tenant that does not exist.
var ErrNotFound = errors.New("tenant not found")

// Store reads tenant configurations from the "tenants" KV bucket. Services
// other than ingest only read; Put is for ingest, the bucket's one writer.
type Store struct {
	kv jetstream.KeyValue

	mu     sync.RWMutex
	cache  map[string]*Tenant
	cancel context.CancelFunc
	done   chan struct{}
}

// NewStore wraps the bucket. Call Watch to keep an in-memory copy current.
func NewStore(kv jetstream.KeyValue) *Store {
	return &Store{kv: kv}
}

// Get returns a tenant's configuration, from the watched copy when Watch is
// running, else from the bucket.
func (s *Store) Get(ctx context.Context, id string) (*Tenant, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	s.mu.RLock()
	if s.cache != nil {
		t, ok := s.cache[id]
		s.mu.RUnlock()
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return t, nil
	}
	s.mu.RUnlock()
	e, err := s.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading tenant %s: %w", id, err)
	}
	return decode(e.Value())
}

// All returns every tenant currently known to the watched copy, or from the bucket.
func (s *Store) All(ctx context.Context) ([]*Tenant, error) {
	s.mu.RLock()
	if s.cache != nil {
		out := make([]*Tenant, 0, len(s.cache))
		for _, t := range s.cache {
			out = append(out, t)
		}
		s.mu.RUnlock()
		return out, nil
	}
	s.mu.RUnlock()
	keys, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing tenants: %w", err)
	}
	var out []*Tenant
	for k := range keys.Keys() {
		t, err := s.Get(ctx, k)
		if err != nil {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// Put stores a validated configuration. Only ingest calls it.
func (s *Store) Put(ctx context.Context, t *Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding tenant: %w", err)
	}
	if _, err := s.kv.Put(ctx, t.ID, b); err != nil {
		return fmt.Errorf("storing tenant %s: %w", t.ID, err)
	}
	return nil
}

// Watch loads every tenant and keeps the copy current until Stop, so that a
// configuration change reaches readers without a restart. It returns once the
// initial values are loaded.
func (s *Store) Watch(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.Background())
	w, err := s.kv.WatchAll(wctx)
	if err != nil {
		cancel()
		return fmt.Errorf("watching tenants: %w", err)
	}
	cache := map[string]*Tenant{}
	ready := make(chan struct{})
	s.cancel = cancel
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		defer w.Stop() //nolint:errcheck // stopping on shutdown
		initial := true
		for {
			select {
			case <-wctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil { // end of initial values
					if initial {
						s.mu.Lock()
						s.cache = cache
						s.mu.Unlock()
						initial = false
						close(ready)
					}
					continue
				}
				s.mu.Lock()
				target := cache
				if !initial {
					target = s.cache
				}
				if e.Operation() != jetstream.KeyValuePut {
					delete(target, e.Key())
				} else if t, err := decode(e.Value()); err == nil {
					target[e.Key()] = t
				}
				s.mu.Unlock()
			}
		}
	}()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		s.Stop()
		return ctx.Err()
	}
}

// Stop ends Watch.
func (s *Store) Stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
}

func decode(b []byte) (*Tenant, error) {
	var t Tenant
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("decoding tenant: %w", err)
	}
	return &t, nil
}
