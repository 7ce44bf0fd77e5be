package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at build time:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=abc1234" ./cmd/tributary
//
// `make build` fills them in from git describe and git rev-parse.
var (
	version string
	commit  string
)

// Filled in by `git archive` (.gitattributes marks this file
// export-subst), so a build from a source archive, which has no .git for
// make or Go's VCS stamping to read, still knows what it was built from.
const (
	archiveVersion = "$Format:%(describe:tags=true)$"
	archiveCommit  = "$Format:%H$"
)

// buildVersion is the version to report.
func buildVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return pickVersion(version, archiveVersion, bi)
}

// buildCommit is the revision to report.
func buildCommit() string {
	bi, _ := debug.ReadBuildInfo()
	return pickCommit(commit, archiveCommit, bi)
}

// pickVersion chooses, in order: the -ldflags value, the one git archive
// wrote, the module version Go recorded (`go install ...@v1.2.3`), and
// "(devel)".
func pickVersion(ldflags, archive string, bi *debug.BuildInfo) string {
	switch {
	case ldflags != "":
		return ldflags
	case substituted(archive):
		return archive
	case bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)":
		return bi.Main.Version
	}
	return "(devel)"
}

// pickCommit chooses, in order: the -ldflags value, the one git archive
// wrote, the VCS revision Go stamped (with "-dirty" for uncommitted
// changes), and "unknown".
func pickCommit(ldflags, archive string, bi *debug.BuildInfo) string {
	switch {
	case ldflags != "":
		return ldflags
	case substituted(archive):
		return archive
	}
	if bi != nil {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return rev
		}
	}
	return "unknown"
}

// substituted reports whether git archive replaced a placeholder above
// with a value. (The prefix is split so git does not substitute it too.)
func substituted(s string) bool { return s != "" && !strings.HasPrefix(s, "$"+"Format:") }

// versionLine is what `tributary version` and `--version` print.
func versionLine() string {
	return fmt.Sprintf("tributary %s (commit %s, %s)", buildVersion(), buildCommit(), runtime.Version())
}
