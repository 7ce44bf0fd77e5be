package main

import (
	"bytes"
	"context"
	"io"
	"runtime/debug"
	"strings"
	"testing"
)

func TestPickVersion(t *testing.T) {
	stamped := &debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "1111111111111111111111111111111111111111"}, {Key: "vcs.modified", Value: "true"}}}
	devel := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	for _, tc := range []struct {
		name                    string
		ldVersion, ldCommit     string
		archVersion, archCommit string
		bi                      *debug.BuildInfo
		wantVersion, wantCommit string
	}{
		{"ldflags win over everything", "v1.2.3", "abc1234", "v1.0.0", "2222", stamped, "v1.2.3", "abc1234"},
		{"source archive", "", "", "v1.0.0", "2222", devel, "v1.0.0", "2222"},
		{"unsubstituted archive falls through to build info", "", "", "$Format:%(describe:tags=true)$", "$Format:%H$", stamped,
			"v0.9.0", "1111111111111111111111111111111111111111-dirty"},
		{"nothing known", "", "", "$Format:%(describe:tags=true)$", "$Format:%H$", devel, "(devel)", "unknown"},
		{"no build info", "", "", "$Format:x$", "$Format:y$", nil, "(devel)", "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pickVersion(tc.ldVersion, tc.archVersion, tc.bi); got != tc.wantVersion {
				t.Errorf("version = %q, want %q", got, tc.wantVersion)
			}
			if got := pickCommit(tc.ldCommit, tc.archCommit, tc.bi); got != tc.wantCommit {
				t.Errorf("commit = %q, want %q", got, tc.wantCommit)
			}
		})
	}
}

// TestVersionCommand runs both spellings of the command with the
// variables -ldflags sets.
func TestVersionCommand(t *testing.T) {
	oldV, oldC := version, commit
	version, commit = "v7.7.7", "cafef00d"
	t.Cleanup(func() { version, commit = oldV, oldC })
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		var stdout bytes.Buffer
		if code := run(context.Background(), args, &stdout, io.Discard); code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		if got := stdout.String(); !strings.HasPrefix(got, "tributary v7.7.7 (commit cafef00d, go") {
			t.Errorf("%v printed %q", args, got)
		}
	}
}
