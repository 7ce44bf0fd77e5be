package logging

import (
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		check   func(t *testing.T, line string)
	}{
		{nil, "", func(t *testing.T, line string) {
			if !strings.HasPrefix(line, "time=") || !strings.Contains(line, `msg=hello k=v`) {
				t.Errorf("text line %q", line)
			}
		}},
		{[]string{"-log-format", "json"}, "", func(t *testing.T, line string) {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("json line %q: %v", line, err)
			}
			for _, k := range []string{"time", "level", "msg", "k"} {
				if _, ok := m[k]; !ok {
					t.Errorf("json line %q lacks %s", line, k)
				}
			}
		}},
		{[]string{"-log-format", "JSON", "-log-level", "debug"}, "", func(t *testing.T, line string) {
			if !strings.HasPrefix(line, "{") {
				t.Errorf("line %q is not JSON", line)
			}
		}},
		{[]string{"-log-level", "error"}, "", func(t *testing.T, line string) {
			if line != "" {
				t.Errorf("info logged at level error: %q", line)
			}
		}},
		{[]string{"-log-format", "logfmt"}, `-log-format "logfmt"`, nil},
		{[]string{"-log-level", "loud"}, "-log-level", nil},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			f := Register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			lg, lv, err := f.Logger(&buf)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || lv == nil {
				t.Fatal(err)
			}
			lg.Info("hello", "k", "v")
			tc.check(t, strings.TrimSpace(buf.String()))
		})
	}
}
