package server

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tributary-data/tributary/internal/connect"
)

// FilesDir is the directory, inside the data directory, that connectors
// created through the REST API may read and write files under when
// -connect-allowed-paths is not given.
const FilesDir = "files"

// connectAllowedPaths is the file policy of the server's connectors: the
// directories of -connect-allowed-paths, else <data-dir>/files (created
// here), else, in memory or with no data directory (-nats-url), none.
func connectAllowedPaths(cfg Config) (*connect.AllowedPaths, error) {
	dirs := cfg.Connect.AllowedPaths
	if dirs == nil && !cfg.Store.InMemory && cfg.Store.Dir != "" {
		d := filepath.Join(cfg.Store.Dir, FilesDir)
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("connect: creating %s for file connectors: %w", d, err)
		}
		dirs = []string{d}
	}
	p, err := connect.NewAllowedPaths(dirs)
	if err != nil {
		return nil, fmt.Errorf("-connect-allowed-paths: %w", err)
	}
	return p, nil
}
