package connect

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// AllowedPaths is the set of directories that connectors may read and
// write files under. A server's REST API is reachable by more people than
// the operator, so a FileStreamSource created through it must not read
// /etc/shadow into a stream, nor a sink overwrite ~/.ssh/authorized_keys.
// A nil *AllowedPaths allows everything: `tributary connect standalone`
// runs the user's own connector files with the user's own rights.
type AllowedPaths struct {
	// dirs are absolute, cleaned and free of symlinks.
	dirs []string
}

// NewAllowedPaths checks that each directory exists and returns the
// policy allowing files under them. No directories allows no files.
func NewAllowedPaths(dirs []string) (*AllowedPaths, error) {
	p := &AllowedPaths{}
	for _, d := range dirs {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("allowed path %s: %w", d, err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("allowed path %s: %w", d, err)
		}
		fi, err := os.Stat(real)
		if err != nil {
			return nil, fmt.Errorf("allowed path %s: %w", d, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("allowed path %s is not a directory", d)
		}
		p.dirs = append(p.dirs, real)
	}
	return p, nil
}

// Dirs lists the allowed directories, symlinks resolved.
func (p *AllowedPaths) Dirs() []string { return append([]string(nil), p.dirs...) }

// errNoFile refuses standard input and output, which a file connector
// uses when it names no file: on a server they are the server's own.
var errNoFile = errors.New("a file is required: standard input and output are available to `tributary connect standalone` only")

// Check returns nil when path lies inside an allowed directory once made
// absolute, ".." removed and every existing symlink along it resolved;
// otherwise an error that says which directories are allowed. It never
// quotes path, so that callers decide whether the path may be shown.
func (p *AllowedPaths) Check(path string) error {
	if p == nil {
		return nil
	}
	_, _, err := p.locate(path)
	return err
}

// locate is Check, returning the allowed directory that holds path and
// path's resolved form relative to it.
func (p *AllowedPaths) locate(path string) (dir, rel string, err error) {
	// Judged as connectors read it: Kafka trims string settings, and
	// " /etc/passwd" must not pass as a name relative to the working
	// directory.
	path = strings.TrimSpace(path)
	if path == "" {
		return "", "", errNoFile
	}
	if len(p.dirs) == 0 {
		return "", "", errors.New("this server allows connectors no files; its operator can allow directories with -connect-allowed-paths")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", fmt.Errorf("not a usable path: %w", err)
	}
	real, err := resolveExisting(abs)
	if err != nil {
		return "", "", fmt.Errorf("not a usable path: %w", err)
	}
	for _, d := range p.dirs {
		if within(real, d) {
			rel, err := filepath.Rel(d, real)
			if err != nil {
				return "", "", fmt.Errorf("not a usable path: %w", err)
			}
			return d, rel, nil
		}
	}
	return "", "", fmt.Errorf("the path is outside the directories this server allows connectors to use (%s); its operator sets them with -connect-allowed-paths",
		strings.Join(p.dirs, ", "))
}

// OpenFile opens name as os.OpenFile does, but only inside the allowed
// directories: name is checked as Check does, then opened beneath its
// directory through an os.Root, which refuses any symlink or ".." that
// leads out. So a symlink put in place after validation, or after the
// check (a source waits for its file to appear), cannot make a connector
// read or write elsewhere. A nil *AllowedPaths opens any file.
func (p *AllowedPaths) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if p == nil {
		return os.OpenFile(name, flag, perm)
	}
	dir, rel, err := p.locate(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening allowed directory %s: %w", dir, err)
	}
	// Files opened through root stay open after it closes.
	defer root.Close()
	f, err := root.OpenFile(rel, flag, perm)
	if err != nil {
		// Named as the caller wrote it, not as resolved.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
		}
		return nil, err
	}
	return f, nil
}

type allowedPathsKey struct{}

// withAllowedPaths returns ctx carrying the worker's allowed paths, which
// the runtime gives every connector and task it starts.
func withAllowedPaths(ctx context.Context, p *AllowedPaths) context.Context {
	if p == nil {
		return ctx
	}
	return context.WithValue(ctx, allowedPathsKey{}, p)
}

// Files returns what a plugin opens the files its configuration names
// through (with OpenFile): the worker's allowed paths on a server, nil
// (any file) in `tributary connect standalone` or a plugin started by
// hand. The runtime checks those settings (FileSettings) before a start;
// opening through Files keeps the check true when the file is opened.
func Files(ctx context.Context) *AllowedPaths {
	p, _ := ctx.Value(allowedPathsKey{}).(*AllowedPaths)
	return p
}

// within reports whether path is dir or inside it; both are clean and
// absolute.
func within(path, dir string) bool {
	if path == dir {
		return true
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(path, dir)
}

// resolveExisting resolves the symlinks of the longest existing prefix of
// the clean absolute path abs and appends the rest, which does not exist
// yet (a sink creates its file). A symlink anywhere along the existing
// part, including the file itself, is followed to where it points.
func resolveExisting(abs string) (string, error) {
	rest := ""
	cur := abs
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		// A dangling symlink: where it points does not exist, but a sink
		// would create the file there, so judge the link's target.
		if target, lerr := os.Readlink(cur); lerr == nil {
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(cur), target)
			}
			return resolveExisting(filepath.Join(filepath.Clean(target), rest))
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return filepath.Join(cur, rest), nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}
