package connect

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestAllowedPathsOpenFile: a file that passed validation is refused when
// opened if it has become a symlink leading out since (a source waits for
// its file, so the gap may be long), and nothing outside is read, created
// or truncated; files inside open, relative names too.
func TestAllowedPathsOpenFile(t *testing.T) {
	root := t.TempDir()
	files := filepath.Join(root, "files")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{files, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := NewAllowedPaths([]string{files})
	if err != nil {
		t.Fatal(err)
	}

	late := filepath.Join(files, "late.txt")
	if err := p.Check(late); err != nil {
		t.Fatalf("Check before the file exists: %v", err)
	}
	if err := os.Symlink(secret, late); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []int{os.O_RDONLY, os.O_WRONLY | os.O_CREATE | os.O_TRUNC} {
		if f, err := p.OpenFile(late, flag, 0o644); err == nil {
			f.Close()
			t.Errorf("OpenFile(%q, %#x) through a symlink leading out succeeded", late, flag)
		}
	}
	dangling := filepath.Join(files, "dangling")
	if err := os.Symlink(filepath.Join(outside, "new"), dangling); err != nil {
		t.Fatal(err)
	}
	if f, err := p.OpenFile(dangling, os.O_WRONLY|os.O_CREATE, 0o644); err == nil {
		f.Close()
		t.Error("OpenFile created a file outside through a dangling symlink")
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "secret" {
		t.Fatalf("the file outside changed: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file was created outside: %v", err)
	}

	f, err := p.OpenFile(filepath.Join(files, "in.txt"), os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("creating a file inside: %v", err)
	}
	f.Close()
	// An absolute symlink that stays inside is followed, as Check
	// follows it (os.Root alone refuses absolute links).
	if err := os.Mkdir(filepath.Join(files, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(files, "sub"), filepath.Join(files, "inside")); err != nil {
		t.Fatal(err)
	}
	f, err = p.OpenFile(filepath.Join(files, "inside", "new.txt"), os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("creating a file through a symlink inside: %v", err)
	}
	f.Close()
	if _, err := os.Stat(filepath.Join(files, "sub", "new.txt")); err != nil {
		t.Errorf("the file is not where the symlink leads: %v", err)
	}
	if _, err := p.OpenFile(filepath.Join(files, "missing"), os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file inside: %v, want fs.ErrNotExist", err)
	}
	t.Chdir(root)
	f, err = p.OpenFile(filepath.Join("files", "in.txt"), os.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("a relative name inside: %v", err)
	}
	f.Close()

	// Connectors trim their file settings: a leading space must not make
	// an absolute path pass as one relative to a working directory that
	// is allowed.
	t.Chdir(files)
	if err := p.Check(" " + secret); err == nil {
		t.Errorf("Check(%q) from inside the allowed directory passed", " "+secret)
	}
	if err := p.Check(" in.txt "); err != nil {
		t.Errorf("Check of a relative name with spaces: %v", err)
	}

	var open *AllowedPaths
	f, err = open.OpenFile(secret, os.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("nil policy refused: %v", err)
	}
	f.Close()
	if Files(context.Background()) != nil || Files(withAllowedPaths(context.Background(), p)) != p {
		t.Error("Files does not return the allowed paths the context carries")
	}
}
