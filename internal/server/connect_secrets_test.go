package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/store"
)

const dbPassword = "pw-7f3e9a1c-secret"

// debezium is a MySQL connector whose database does not answer: it
// fails to start, which is enough to store and show its configuration.
func debezium() map[string]string {
	return map[string]string{
		"connector.class":       "io.debezium.connector.mysql.MySqlConnector",
		"database.hostname":     "127.0.0.1",
		"database.port":         "1",
		"database.user":         "repl",
		"database.password":     dbPassword,
		"database.server.id":    "184054",
		"topic.prefix":          "shop",
		"database.include.list": "shop",
	}
}

// TestConnectValidateHidesPasswords checks validate's reply over HTTP:
// the value of a PASSWORD setting is "[hidden]", as Kafka's
// ConfigDef.convertToString renders a Password, while GET
// /connectors/{name}/config returns the configuration as written, as
// Kafka's does (config providers are how a secret stays out of it).
func TestConnectValidateHidesPasswords(t *testing.T) {
	s := connectServer(t, "", nil)
	code, body := call(t, s, "PUT", "/connector-plugins/MySqlConnector/config/validate", debezium())
	if code != 200 {
		t.Fatalf("validate = %d %s", code, body)
	}
	if bytes.Contains(body, []byte(dbPassword)) {
		t.Fatalf("validate shows the password at %d", bytes.Index(body, []byte(dbPassword)))
	}
	var v struct {
		Configs []struct {
			Value struct {
				Name  string  `json:"name"`
				Value *string `json:"value"`
			} `json:"value"`
		} `json:"configs"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range v.Configs {
		if c.Value.Name == "database.password" {
			found = true
			if c.Value.Value == nil || *c.Value.Value != "[hidden]" {
				t.Fatalf("validate database.password value = %v, want [hidden]", c.Value.Value)
			}
		}
		if c.Value.Name == "database.user" && (c.Value.Value == nil || *c.Value.Value != "repl") {
			t.Fatalf("validate database.user value = %v, want repl", c.Value.Value)
		}
	}
	if !found {
		t.Fatalf("validate lists no database.password: %s", body)
	}

	if code, body := call(t, s, "POST", "/connectors", map[string]any{"name": "shop", "config": debezium()}); code != 201 {
		t.Fatalf("create = %d %s", code, body)
	}
	code, body = call(t, s, "GET", "/connectors/shop/config", nil)
	var cfg map[string]string
	if err := json.Unmarshal(body, &cfg); err != nil || code != 200 || cfg["database.password"] != dbPassword {
		t.Fatalf("GET config = %d %s: want the password as written, as Kafka Connect returns it", code, body)
	}
}

// TestConnectConfigsEncryptedAtRest creates a connector with a password
// and looks for it in the metadata bucket's raw values and in every file
// of the data directory: it is in neither. After a restart the
// connector's configuration reads back whole.
func TestConnectConfigsEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, stop := stoppableServer(t, dir, nil)
	if code, body := call(t, s, "POST", "/connectors", map[string]any{"name": "shop", "config": debezium()}); code != 201 {
		t.Fatalf("create = %d %s", code, body)
	}
	entries, err := s.store.List(ctx, ">")
	if err != nil {
		t.Fatal(err)
	}
	sawConfig := false
	for _, e := range entries {
		if bytes.Contains(e.Value, []byte(dbPassword)) {
			t.Errorf("metadata key %s holds the password in plain text: %q", e.Key, e.Value)
		}
		sawConfig = sawConfig || strings.HasPrefix(e.Key, "connect.config.")
	}
	if !sawConfig {
		t.Fatal("no connect.config. key in the metadata bucket")
	}
	stop()
	scanFiles(t, dir, dbPassword)

	s = connectServer(t, dir, nil)
	code, body := call(t, s, "GET", "/connectors/shop/config", nil)
	var cfg map[string]string
	if err := json.Unmarshal(body, &cfg); err != nil || code != 200 || cfg["database.password"] != dbPassword {
		t.Fatalf("GET config after a restart = %d %s", code, body)
	}
}

// scanFiles fails the test if any file under dir holds secret.
func scanFiles(t *testing.T, dir, secret string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the password in plain text", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no files under %s", dir)
	}
}

// TestConnectPlainConfigsMigrate writes connector records as earlier
// versions stored them, in plain JSON with the task configurations
// inline, and checks that the server loads them and stores them
// encrypted from then on, and that the running connector still runs,
// across a restart.
func TestConnectPlainConfigsMigrate(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Dir: dir, Durability: store.Interval, SyncInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg := debezium()
	cfg["name"] = "legacy"
	gen := datagen(2)
	gen["name"], gen["database.password"] = "gen", dbPassword
	records := map[string]map[string]any{
		"legacy": {"config": cfg, "target": "STOPPED", "tasks": nil},
		"gen":    {"config": gen, "target": "STARTED", "tasks": []map[string]string{gen, gen}},
	}
	for name, rec := range records {
		plain, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Create(ctx, "connect.config."+hex.EncodeToString([]byte(name)), plain); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	s, stop := stoppableServer(t, dir, nil)
	code, body := call(t, s, "GET", "/connectors/legacy/config", nil)
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil || code != 200 || got["database.password"] != dbPassword {
		t.Fatalf("GET config of a plain record = %d %s", code, body)
	}
	waitTasks(t, s, "gen", 2)
	for name := range records {
		key := "connect.config." + hex.EncodeToString([]byte(name))
		e, err := s.store.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(e.Value, []byte(dbPassword)) || bytes.HasPrefix(e.Value, []byte("{")) {
			t.Fatalf("the plain record %s was not encrypted at start: %q", name, e.Value)
		}
	}
	stop()

	s = connectServer(t, dir, nil)
	waitTasks(t, s, "gen", 2)
	code, body = call(t, s, "GET", "/connectors/gen/config", nil)
	if err := json.Unmarshal(body, &got); err != nil || code != 200 || got["database.password"] != dbPassword {
		t.Fatalf("GET config after a restart = %d %s", code, body)
	}
}

// TestConnectValidateDefersPlaceholders: a Debezium setting given as a
// config provider placeholder is checked when it is resolved, at start,
// not as the placeholder's own text, which no topic name can be.
func TestConnectValidateDefersPlaceholders(t *testing.T) {
	t.Setenv("TRIB_CFG_PREFIX", "shop")
	s := connectServer(t, "", map[string]string{
		"config.providers":                             "env",
		"config.providers.env.class":                   "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
		"config.providers.env.param.allowlist.pattern": "TRIB_CFG_.*",
	})
	cfg := debezium()
	cfg["name"], cfg["topic.prefix"] = "shop", "${env:TRIB_CFG_PREFIX}"
	code, body := call(t, s, "PUT", "/connector-plugins/MySqlConnector/config/validate", cfg)
	var infos connect.ConfigInfos
	if err := json.Unmarshal(body, &infos); code != 200 || err != nil {
		t.Fatalf("validate = %d %v %.300s", code, err, body)
	}
	if errs := infos.Errors(); len(errs) > 0 || infos.ErrorCount != 0 {
		t.Errorf("error_count %d: %q", infos.ErrorCount, errs)
	}
}
