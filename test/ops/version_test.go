package ops

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionLdflags builds the binary as `make build` does, with the
// version and commit given by -ldflags, and checks that both spellings of
// the command print them.
func TestVersionLdflags(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "tributary")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X main.version=v9.8.7-ops -X main.commit=0123456789abcdef", "./cmd/tributary")
	build.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	for _, arg := range []string{"version", "--version"} {
		res := runBinary(t, bin, arg)
		if res.Code != 0 || !strings.HasPrefix(res.Stdout, "tributary v9.8.7-ops (commit 0123456789abcdef, go") {
			t.Errorf("tributary %s: exit %d, %q", arg, res.Code, res.Stdout)
		}
	}
	// Without -ldflags the binary still prints a version line.
	res := run(t, "--version")
	if res.Code != 0 || !strings.HasPrefix(res.Stdout, "tributary ") || !strings.Contains(res.Stdout, "(commit ") {
		t.Errorf("tributary --version: exit %d, %q", res.Code, res.Stdout)
	}
}
