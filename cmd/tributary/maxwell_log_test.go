package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/logging"
	"github.com/tributary-data/tributary/internal/testmariadb"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

func TestLogFormatArg(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		wantFormat string
		wantRest   []string
		wantErr    bool
	}{
		{[]string{"--config", "c.properties"}, logging.Text, []string{"--config", "c.properties"}, false},
		{[]string{"--log-format", "json", "--config", "c"}, "json", []string{"--config", "c"}, false},
		{[]string{"--log_format=json"}, "json", nil, false},
		{[]string{"-log-format=text", "--log-level", "debug"}, "text", []string{"--log_level", "debug"}, false},
		{[]string{"--log-level=warn"}, logging.Text, []string{"--log_level=warn"}, false},
		{[]string{"--log-format"}, "", nil, true},
	} {
		format, rest, err := logFormatArg(tc.args)
		if (err != nil) != tc.wantErr || format != tc.wantFormat || !reflect.DeepEqual(rest, tc.wantRest) {
			t.Errorf("logFormatArg(%q) = %q, %q, %v; want %q, %q, error %v", tc.args, format, rest, err, tc.wantFormat, tc.wantRest, tc.wantErr)
		}
	}
}

// TestMaxwellLogFormatJSON runs the daemon against MariaDB with
// --log-format json until it has stored its position, and checks that
// every line it logged is a JSON record, and none shows the password.
func TestMaxwellLogFormatJSON(t *testing.T) {
	db := testmariadb.Start(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.properties")
	if err := os.WriteFile(config, []byte("producer=stdout\nhost="+db.Host+"\nport="+strconv.Itoa(db.Port)+
		"\nuser="+db.User+"\npassword="+db.Password+"\nreplica_server_id=5252\nclient_id=logs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout, stderr syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- maxwellCommand(ctx, []string{"--config", config, "--log-format", "json", "--log-level", "debug"}, &stdout, &stderr)
	}()
	waitFor(t, "the stored position", done, func() bool {
		c, err := db.Connect(context.Background())
		if err != nil {
			return false
		}
		defer c.Quit()
		r, err := c.Execute("SELECT COUNT(*) FROM maxwell.positions WHERE client_id = 'logs'")
		if err != nil {
			return false
		}
		n, _ := r.GetInt(0, 0)
		return n == 1
	})
	stop()
	if err := <-done; err != nil {
		t.Fatalf("maxwell: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("maxwell logged %d lines:\n%s", len(lines), stderr.String())
	}
	for _, line := range lines {
		if !json.Valid([]byte(line)) || !strings.HasPrefix(line, `{"time":"`) || !strings.Contains(line, `"level":"`) || !strings.Contains(line, `"msg":"`) {
			t.Errorf("not a JSON log record: %q", line)
		}
		if strings.Contains(line, db.Password) && db.Password != "" {
			t.Errorf("the log shows the password: %q", line)
		}
	}
}
