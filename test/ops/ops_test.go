// Package ops checks how the real tributary binary behaves for an
// operator: one process per data directory, clear errors for busy
// ports, loopback by default, TLS on both APIs with a certificate that
// survives restarts, /health, the version, and one log format.
package ops

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/testserver"
)

// runBinary runs bin to completion (at most a minute) in cleanEnv and
// returns its output and exit code.
func runBinary(t *testing.T, bin string, args ...string) testserver.Result {
	t.Helper()
	return testserver.Run(t, cleanEnv(), bin, args...)
}

// run runs the tributary binary built from this module.
func run(t *testing.T, args ...string) testserver.Result {
	t.Helper()
	return runBinary(t, testserver.Binary(t), args...)
}

// cleanEnv is the environment without settings that would redirect the
// binary (AWS_*, TRIBUTARY_*), plus dummy AWS credentials.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "TRIBUTARY_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_ACCESS_KEY_ID=ops-test", "AWS_SECRET_ACCESS_KEY=ops-secret", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1")
}

// proc is a long-running tributary command other than serve.
type proc struct {
	cmd    *exec.Cmd
	stderr *bufio.Reader
	log    bytes.Buffer // what waitFor has read
	done   chan struct{}
}

// startProc starts the binary with args, killing it when the test ends.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(testserver.Binary(t), args...), done: make(chan struct{})}
	p.cmd.Env = cleanEnv()
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stderr = bufio.NewReader(pipe)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_, _ = io.Copy(io.Discard, p.stderr)
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", strings.Join(args, " "), p.log.String())
		}
	})
	return p
}

// waitFor reads the process's stderr until a line contains s; it fails
// the test if the process ends first.
func (p *proc) waitFor(t *testing.T, s string) {
	t.Helper()
	for {
		line, err := p.stderr.ReadString('\n')
		p.log.WriteString(line)
		if strings.Contains(line, s) {
			return
		}
		if err != nil {
			t.Fatalf("process ended (%v) before logging %q:\n%s", err, s, p.log.String())
		}
	}
}

func contains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

func pidText(pid int) string { return fmt.Sprintf("pid %d", pid) }
