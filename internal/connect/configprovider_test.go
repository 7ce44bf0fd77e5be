package connect

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// testProviders are the file and env providers over a fixed environment.
func testProviders(t *testing.T, fileParams map[string]string) *ConfigProviders {
	t.Helper()
	fp, err := newFileProvider(fileParams)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := newEnvProvider(nil, []string{"DB_PASSWORD=s3cr=et", "DB_HOST=db.internal", "EMPTY="})
	if err != nil {
		t.Fatal(err)
	}
	return &ConfigProviders{byAlias: map[string]configProvider{"file": fp, "env": ep}}
}

func TestConfigProvidersResolve(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "db.properties")
	if err := os.WriteFile(secrets, []byte("# secrets\nuser=app\npassword = p:a\\:ss\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.properties")
	// A malformed escape: the parser's message would quote the line.
	malformed := filepath.Join(dir, "malformed.properties")
	if err := os.WriteFile(malformed, []byte("password=s3cr=et\\uZZZZ\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	p := testProviders(t, nil)
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"env", "${env:DB_PASSWORD}", "s3cr=et", ""},
		{"file", "${file:" + secrets + ":password}", "p:a:ss", ""},
		{"text around", "jdbc://${env:DB_HOST}:3306/${file:" + secrets + ":user}?x", "jdbc://db.internal:3306/app?x", ""},
		{"two in a row", "${env:DB_HOST}${env:DB_HOST}", "db.internal" + "db.internal", ""},
		{"empty value", "[${env:EMPTY}]", "[]", ""},
		{"no placeholder", "plain", "plain", ""},
		{"not a provider pattern", "${topic}-${timestamp}", "${topic}-${timestamp}", ""},
		{"unknown provider is text", "${vault:secret/db:password}", "${vault:secret/db:password}", ""},
		{"missing env", "${env:NOPE}", "", "${env:NOPE}: environment variable NOPE is not set"},
		{"env with a path", "${env:/x:DB_HOST}", "", "path is not supported for EnvVarConfigProvider, invalid value '/x'"},
		{"missing key", "${file:" + secrets + ":nope}", "", `no key "nope"`},
		{"missing file", "${file:" + missing + ":password}", "", "could not read properties from file " + missing + ": no such file or directory"},
		{"malformed file", "${file:" + malformed + ":password}", "", "could not read properties from file " + malformed + ": not a valid properties file"},
		{"a directory", "${file:" + dir + ":password}", "", "could not read properties from file " + dir + ": not a regular file"},
		{"a FIFO, without waiting for a writer", "${file:" + fifo + ":password}", "", "could not read properties from file " + fifo + ": not a regular file"},
		{"a device", "${file:/dev/zero:password}", "", "could not read properties from file /dev/zero: not a regular file"},
		{"file without path", "${file:password}", "", "the file provider needs a path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := p.Resolve(map[string]string{"k": tc.in, "other": "x"})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "configuration k: ") {
					t.Fatalf("err = %v, want one about k containing %q", err, tc.err)
				}
				for _, secret := range []string{"s3cr=et", "p:a:ss", "db.internal"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error %q reveals %q", err, secret)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Config["k"] != tc.want || res.Config["other"] != "x" {
				t.Fatalf("resolved = %q, want k=%q other=x", res.Config, tc.want)
			}
		})
	}
}

func TestConfigProvidersRedactAndUnresolve(t *testing.T) {
	p := testProviders(t, nil)
	raw := map[string]string{"password": "${env:DB_PASSWORD}", "url": "http://${env:DB_HOST}/", "topic": "t"}
	res, err := p.Resolve(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Redact("login to db.internal with s3cr=et failed"); got != "login to [hidden] with [hidden] failed" {
		t.Fatalf("Redact = %q", got)
	}
	task := p.Unresolve(raw, map[string]string{"password": "s3cr=et", "url": "http://db.internal/", "topic": "t", "task.id": "0"})
	want := map[string]string{"password": "${env:DB_PASSWORD}", "url": "http://${env:DB_HOST}/", "topic": "t", "task.id": "0"}
	for k, v := range want {
		if task[k] != v {
			t.Errorf("task config %s = %q, want %q", k, task[k], v)
		}
	}
	var none *ConfigProviders
	if r, err := none.Resolve(raw); err != nil || r.Config["password"] != "${env:DB_PASSWORD}" {
		t.Fatalf("no providers: %v, %v", r, err)
	}
}

func TestConfigProvidersFromWorker(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		worker map[string]string
		err    string
	}{
		{"none", map[string]string{}, ""},
		{"kafka's two", map[string]string{"config.providers": "file, env",
			"config.providers.file.class": FileConfigProviderClass, "config.providers.env.class": EnvVarConfigProviderClass}, ""},
		{"missing class", map[string]string{"config.providers": "file"}, "config.providers.file.class: missing"},
		{"unknown class", map[string]string{"config.providers": "vault", "config.providers.vault.class": "io.example.Vault"}, "unknown config provider io.example.Vault"},
		{"relative allowed path", map[string]string{"config.providers": "file", "config.providers.file.class": FileConfigProviderClass,
			"config.providers.file.param.allowed.paths": "secrets"}, "should be absolute"},
		{"missing allowed path", map[string]string{"config.providers": "file", "config.providers.file.class": FileConfigProviderClass,
			"config.providers.file.param.allowed.paths": filepath.Join(dir, "nope")}, "should be absolute and exist"},
		{"bad allowlist", map[string]string{"config.providers": "env", "config.providers.env.class": EnvVarConfigProviderClass,
			"config.providers.env.param.allowlist.pattern": "("}, "allowlist.pattern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewConfigProviders(tc.worker)
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestConfigProvidersUnrestricted(t *testing.T) {
	dir := t.TempDir()
	base := map[string]string{"config.providers": "file,env",
		"config.providers.file.class": FileConfigProviderClass, "config.providers.env.class": EnvVarConfigProviderClass}
	with := func(kv ...string) map[string]string {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		worker map[string]string
		want   []string
	}{
		{"none configured", map[string]string{}, nil},
		{"both open", base, []string{"file", "env"}},
		{"file restricted", with("config.providers.file.param.allowed.paths", dir), []string{"env"}},
		{"env restricted", with("config.providers.env.param.allowlist.pattern", "SECRET_.*"), []string{"file"}},
		{"both restricted", with("config.providers.file.param.allowed.paths", dir,
			"config.providers.env.param.allowlist.pattern", "SECRET_.*"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewConfigProviders(tc.worker)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Unrestricted(); !slices.Equal(got, tc.want) {
				t.Fatalf("Unrestricted() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfigProvidersAllowedPaths(t *testing.T) {
	allowed, other := t.TempDir(), t.TempDir()
	in := filepath.Join(allowed, "ok.properties")
	out := filepath.Join(other, "no.properties")
	for _, f := range []string{in, out} {
		if err := os.WriteFile(f, []byte("k=v\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := testProviders(t, map[string]string{"allowed.paths": allowed})
	if res, err := p.Resolve(map[string]string{"a": "${file:" + in + ":k}"}); err != nil || res.Config["a"] != "v" {
		t.Fatalf("allowed file: %v, %v", res, err)
	}
	for _, path := range []string{out, allowed + "/../" + filepath.Base(other) + "/no.properties"} {
		if _, err := p.Resolve(map[string]string{"a": "${file:" + path + ":k}"}); err == nil || !strings.Contains(err.Error(), "not allowed by config.providers") {
			t.Fatalf("%s: err = %v", path, err)
		}
	}
	// The env allowlist hides what it does not match.
	ep, err := newEnvProvider(map[string]string{"allowlist.pattern": "DB_.*"}, []string{"DB_HOST=h", "AWS_SECRET_ACCESS_KEY=x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ep.get("", []string{"AWS_SECRET_ACCESS_KEY"}); err == nil {
		t.Fatal("allowlist.pattern let AWS_SECRET_ACCESS_KEY through")
	}
	if got, err := ep.get("", []string{"DB_HOST"}); err != nil || got["DB_HOST"] != "h" {
		t.Fatalf("DB_HOST: %v, %v", got, err)
	}
}

func TestAllowedPaths(t *testing.T) {
	root := t.TempDir()
	files := filepath.Join(root, "files")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{files, outside, filepath.Join(files, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"escape":     filepath.Join(outside, "secret"), // a file outside
		"escape-dir": outside,                          // a directory outside
		"dangling":   filepath.Join(outside, "new"),    // where a sink would create a file
		"inside":     filepath.Join(files, "sub"),      // stays inside
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(files, name)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := NewAllowedPaths([]string{files})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{filepath.Join(files, "in.txt"), true},
		{filepath.Join(files, "sub", "deeper", "new.txt"), true},
		{filepath.Join(files, "inside", "x.txt"), true},
		{files, true},
		{"/etc/passwd", false},
		{filepath.Join(files, "..", "outside", "secret"), false},
		{files + "/../../../../etc/passwd", false},
		{files + "x/evil", false}, // a sibling whose name starts like the directory
		{filepath.Join(files, "escape"), false},
		{filepath.Join(files, "escape-dir", "secret"), false},
		{filepath.Join(files, "escape-dir", "new", "file"), false},
		{filepath.Join(files, "dangling"), false},
		{"", false},
	} {
		err := p.Check(tc.path)
		if (err == nil) != tc.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tc.path, err, tc.ok)
		}
	}
	var open *AllowedPaths
	if err := open.Check("/etc/passwd"); err != nil {
		t.Errorf("nil policy refused: %v", err)
	}
	none, err := NewAllowedPaths(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := none.Check(filepath.Join(files, "in.txt")); err == nil || !strings.Contains(err.Error(), "-connect-allowed-paths") {
		t.Errorf("empty policy: %v", err)
	}
	if _, err := NewAllowedPaths([]string{filepath.Join(root, "missing")}); err == nil {
		t.Error("a missing directory was accepted")
	}
	if _, err := NewAllowedPaths([]string{filepath.Join(outside, "secret")}); err == nil {
		t.Error("a file was accepted as a directory")
	}
}
