package testserver_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// TestServeArgs pins the flags test servers start with and that a test's
// own flags win.
func TestServeArgs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		want  []string
		not   []string
	}{
		{"defaults", nil,
			[]string{"-listen 127.0.0.1:0", "-in-memory", "-connect-listen 127.0.0.1:0", "-log-level warn"}, nil},
		{"data dir", []string{"-data-dir", "/d"}, []string{"-data-dir /d"}, []string{"-in-memory"}},
		{"data dir with =", []string{"--data-dir=/d"}, []string{"--data-dir=/d"}, []string{"-in-memory"}},
		{"connect off", []string{"-connect-listen", ""}, []string{"-connect-listen "}, []string{"-connect-listen 127.0.0.1:0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := testserver.ServeArgs("127.0.0.1:0", tc.flags)
			if !slices.Equal(args[len(args)-len(tc.flags):], tc.flags) {
				t.Errorf("args %q do not end with the test's flags %q", args, tc.flags)
			}
			line := strings.Join(args, " ")
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("args %q lack %q", line, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(line, n) {
					t.Errorf("args %q have %q", line, n)
				}
			}
		})
	}
}

// TestServersLeaveNoTempFiles starts each kind of server with its own
// temporary directory, ends it (a process by SIGKILL, which gives it no
// chance to clean up), and checks that once the test's cleanups have run
// nothing is left there but the built binary, which Main removes.
func TestServersLeaveNoTempFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, tc := range []struct {
		name  string
		start func(t testing.TB, flags ...string) *testserver.Proc
		end   func(p *testserver.Proc)
	}{
		{"process killed", testserver.Start, func(p *testserver.Proc) { p.Kill() }},
		{"process stopped", testserver.Start, func(p *testserver.Proc) { p.Stop() }},
		{"in-process stopped", inproc.Start, func(p *testserver.Proc) { p.Stop() }},
		{"in-process at the test's end", inproc.Start, func(p *testserver.Proc) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.start(t)
			ctx := testserver.Context(t, time.Minute)
			if _, err := p.Client().CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)}); err != nil {
				t.Fatal(err)
			}
			tc.end(p)
		})
		entries, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), "tributary-bin-") {
				t.Errorf("%s: left %s in the temporary directory", tc.name, e.Name())
				_ = os.RemoveAll(filepath.Join(tmp, e.Name())) // not to blame the next case
			}
		}
	}
}

// TestInProcessStopIsFinal: Stop shuts an in-process server down once,
// after which it no longer answers, and the cleanup at the test's end
// does not shut it down again.
func TestInProcessStopIsFinal(t *testing.T) {
	p := inproc.Start(t)
	ctx := testserver.Context(t, time.Minute)
	if _, err := p.Client().ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Fatal(err)
	}
	if p.ConnectURL == "" || p.Addr == "" || !strings.HasPrefix(p.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("addresses: %+v", p)
	}
	p.Stop()
	p.Stop()
	if _, err := p.Client().ListStreams(context.Background(), &kinesis.ListStreamsInput{}); err == nil {
		t.Fatal("a stopped server answered")
	}
}
