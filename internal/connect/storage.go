package connect

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/tributary-data/tributary/internal/atomicfile"
	"github.com/tributary-data/tributary/internal/store"
)

// KV is where the runtime keeps connector configurations, target states,
// task configurations, status and offsets. Inside `tributary serve` it is
// the JetStream metadata bucket (MetaKV), so the state is durable and a
// NATS cluster shares it; connect-standalone keeps it in memory, with
// offsets in a file (FileKV).
type KV interface {
	// Get returns a key's value, or nil when the key does not exist.
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
	// List returns the keys under prefix with their values.
	List(ctx context.Context, prefix string) (map[string][]byte, error)
}

// Keys: a kind, then the connector name in hex, since names may hold any
// character and metadata keys may not.
const (
	kindConfig  = "connect.config."
	kindOffsets = "connect.offsets."
	kindTopics  = "connect.topics."
	kindMarks   = "connect.marks."
	kindStatus  = "connect.status."
)

func stateKey(kind, connector string) string { return kind + hex.EncodeToString([]byte(connector)) }

func nameOfKey(kind, key string) (string, bool) {
	b, err := hex.DecodeString(strings.TrimPrefix(key, kind))
	return string(b), err == nil && strings.HasPrefix(key, kind)
}

// MetaKV keeps the runtime's state in the server's metadata bucket.
// Writes are compare-and-set on the revision last seen, retried on
// conflict: a worker owns the keys of the connectors it runs.
type MetaKV struct{ st *store.Store }

// NewMetaKV returns a KV over the server's metadata store.
func NewMetaKV(st *store.Store) *MetaKV { return &MetaKV{st: st} }

// Get implements KV.
func (m *MetaKV) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := m.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return e.Value, err
}

// Put implements KV.
func (m *MetaKV) Put(ctx context.Context, key string, value []byte) error {
	for {
		e, err := m.st.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			_, err = m.st.Create(ctx, key, value)
		case err == nil:
			_, err = m.st.Update(ctx, key, value, e.Revision)
		}
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrExists) {
			return err
		}
	}
}

// Delete implements KV.
func (m *MetaKV) Delete(ctx context.Context, key string) error {
	for {
		e, err := m.st.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := m.st.Delete(ctx, key, e.Revision); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
}

// List implements KV.
func (m *MetaKV) List(ctx context.Context, prefix string) (map[string][]byte, error) {
	entries, err := m.st.List(ctx, prefix+">")
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(entries))
	for _, e := range entries {
		out[e.Key] = e.Value
	}
	return out, nil
}

// FileKV is an in-memory KV that writes the keys under persistPrefix to a
// JSON file on every change (written to a temporary file, synced and
// renamed, so a crash leaves the old or the new content). Standalone
// mode uses it with the offsets prefix: offsets survive restarts, while
// connector configurations come from the command line each time, as in
// connect-standalone.
type FileKV struct {
	mu      sync.Mutex
	path    string
	persist string
	m       map[string][]byte
}

// OpenFileKV loads path if it exists. An empty path keeps everything in
// memory.
func OpenFileKV(path string) (*FileKV, error) {
	f := &FileKV{path: path, persist: kindOffsets, m: map[string][]byte{}}
	if path == "" {
		return f, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("offsets file: %w", err)
	}
	var stored map[string]json.RawMessage
	if err := json.Unmarshal(b, &stored); err != nil {
		return nil, fmt.Errorf("offsets file %s: %w", path, err)
	}
	for k, v := range stored {
		f.m[k] = v
	}
	return f, nil
}

// Get implements KV.
func (f *FileKV) Get(_ context.Context, key string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[key], nil
}

// Put implements KV.
func (f *FileKV) Put(_ context.Context, key string, value []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[key] = append([]byte(nil), value...)
	return f.save(key)
}

// Delete implements KV.
func (f *FileKV) Delete(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
	return f.save(key)
}

// List implements KV.
func (f *FileKV) List(_ context.Context, prefix string) (map[string][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range f.m {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, nil
}

func (f *FileKV) save(changed string) error {
	if f.path == "" || !strings.HasPrefix(changed, f.persist) {
		return nil
	}
	out := map[string]json.RawMessage{}
	for k, v := range f.m {
		if strings.HasPrefix(k, f.persist) {
			out[k] = v
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.path, b, 0o644); err != nil {
		return fmt.Errorf("offsets file: %w", err)
	}
	return nil
}

// CASKV is a KV with compare-and-set on each key's revision, which the
// workers of a distributed Connect cluster need where two of them may
// write one key (the leader's lease, the assignment, heartbeats).
type CASKV interface {
	KV
	// GetRev returns a key's value and revision; nil and 0 when the key
	// does not exist.
	GetRev(ctx context.Context, key string) ([]byte, uint64, error)
	// PutRev writes value if the key is still at revision rev (0: if it
	// does not exist) and returns the new revision; store.ErrConflict
	// when another write came first.
	PutRev(ctx context.Context, key string, value []byte, rev uint64) (uint64, error)
	// DeleteRev removes a key if it is still at revision rev;
	// store.ErrConflict when it is not.
	DeleteRev(ctx context.Context, key string, rev uint64) error
}

// GetRev implements CASKV.
func (m *MetaKV) GetRev(ctx context.Context, key string) ([]byte, uint64, error) {
	e, err := m.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil
	}
	return e.Value, e.Revision, err
}

// PutRev implements CASKV.
func (m *MetaKV) PutRev(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	var (
		n   uint64
		err error
	)
	if rev == 0 {
		n, err = m.st.Create(ctx, key, value)
	} else {
		n, err = m.st.Update(ctx, key, value, rev)
	}
	if errors.Is(err, store.ErrExists) {
		err = fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return n, err
}

// DeleteRev implements CASKV.
func (m *MetaKV) DeleteRev(ctx context.Context, key string, rev uint64) error {
	return m.st.Delete(ctx, key, rev)
}
