package sigv4

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	in := "# local keys\n\nAKIDA  secretA\t111122223333\n  # indented comment\nAKIDB secret/B+ 444455556666\n"
	got, err := ParseCredentials(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Credential{{"AKIDA", "secretA", "111122223333"}, {"AKIDB", "secret/B+", "444455556666"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{
		"", "# only a comment\n", "AKID secret\n", "AKID secret 1234\n", "AKID secret 11112222333x\n",
		"AKID s 111122223333 extra\n", "AKID s 111122223333\nAKID t 444455556666\n",
	} {
		if _, err := ParseCredentials(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	p := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(p, []byte("AKID secret 111122223333\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadCredentials(p); err != nil || len(c) != 1 {
		t.Fatalf("LoadCredentials = %v, %v", c, err)
	}
	if _, err := LoadCredentials(p + ".missing"); err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("missing file: %v", err)
	}
}
