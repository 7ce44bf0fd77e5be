// Package cdc runs the MySQL change-data-capture connectors inside a real
// `tributary serve` against a private MariaDB, and checks what arrives
// in the streams through aws-sdk-go-v2.
package cdc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testmariadb"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// post creates a connector through the Connect REST API.
func post(t testing.TB, base, name string, config map[string]string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "config": config})
	resp, err := http.Post(base+"/connectors", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("create %s: %d %s", name, resp.StatusCode, b)
	}
}

// debeziumConfig is a Debezium MySQL connector configuration for db.
func debeziumConfig(db *testmariadb.Server, prefix, include string, serverID int) map[string]string {
	return map[string]string{
		"connector.class":                "io.debezium.connector.mysql.MySqlConnector",
		"database.hostname":              db.Host,
		"database.port":                  strconv.Itoa(db.Port),
		"database.user":                  db.User,
		"database.password":              db.Password,
		"database.server.id":             strconv.Itoa(serverID),
		"topic.prefix":                   prefix,
		"database.include.list":          include,
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "false",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
}

// TestKillMidStream is acceptance 1's restart case end to end: a
// Debezium connector inside `tributary serve` captures a stream of
// updates while the server is killed (SIGKILL) and restarted. Every
// change arrives at least once and in commit order per key; a change
// arrives twice only in the one replay from the last committed
// transaction boundary after the crash.
func TestKillMidStream(t *testing.T) {
	db := testmariadb.Start(t)
	const keys, rounds = 20, 150
	db.Exec(t, "CREATE DATABASE shop", "CREATE TABLE shop.counters (id INT PRIMARY KEY, n INT NOT NULL)")
	for k := range keys {
		db.Exec(t, fmt.Sprintf("INSERT INTO shop.counters VALUES (%d, 0)", k))
	}
	data := t.TempDir()
	worker := filepath.Join(t.TempDir(), "worker.properties")
	if err := os.WriteFile(worker, []byte("offset.flush.interval.ms=1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	flags := []string{"-data-dir", data, "-connect-worker-config", worker}
	srv := testserver.Start(t, flags...)
	post(t, srv.ConnectURL, "shop", debeziumConfig(db, "kill", "shop", 7001))

	c := srv.Client()
	testserver.WaitUntil(t, "the snapshot", time.Minute, func() bool { return len(testserver.ReadStream(t, c, "kill.shop.counters")) >= keys })
	// Each round is one transaction that increments every counter, so
	// key k's changes carry n = 1, 2, 3, ... in commit order.
	var done atomic.Int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r := 1; r <= rounds; r++ {
			db.Exec(t, "BEGIN", "UPDATE shop.counters SET n = n + 1", "COMMIT")
			done.Store(int32(r))
			time.Sleep(10 * time.Millisecond)
		}
	}()
	testserver.WaitUntil(t, "a third of the rounds captured", time.Minute, func() bool {
		return len(testserver.ReadStream(t, c, "kill.shop.counters")) >= keys*(1+rounds/3)
	})
	srv.Kill()
	t.Logf("killed after %d of %d rounds were committed", done.Load(), rounds)
	srv = inproc.Start(t, flags...)
	wg.Wait()
	c = srv.Client()

	type change struct {
		Op    string         `json:"op"`
		After map[string]any `json:"after"`
	}
	var byKey map[int][]int
	testserver.WaitUntil(t, "every change captured", 2*time.Minute, func() bool {
		byKey = map[int][]int{}
		complete := 0
		for _, r := range testserver.ReadStream(t, c, "kill.shop.counters") {
			var ch change
			if err := json.Unmarshal(r.Data, &ch); err != nil || ch.After == nil {
				continue
			}
			k, n := int(ch.After["id"].(float64)), int(ch.After["n"].(float64))
			byKey[k] = append(byKey[k], n)
			if n == rounds {
				complete++
			}
		}
		return complete >= keys
	})
	for k := range keys {
		seq := byKey[k]
		seen := map[int]bool{}
		rewinds, dups := 0, 0
		for i, n := range seq {
			if seen[n] {
				dups++
			}
			seen[n] = true
			if i > 0 && n <= seq[i-1] {
				rewinds++ // the replay after the crash starts again
			}
		}
		for n := 0; n <= rounds; n++ {
			if !seen[n] {
				t.Fatalf("key %d: change n=%d never arrived (sequence %v)", k, n, seq)
			}
		}
		if rewinds > 1 {
			t.Fatalf("key %d: changes out of commit order beyond one replay: %v", k, seq)
		}
		if k == 0 {
			t.Logf("key 0: %d changes, %d delivered twice by the replay", len(seq), dups)
		}
	}
}
