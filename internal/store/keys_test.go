package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"testing"
)

func TestStoredKey(t *testing.T) {
	long := strings.Repeat("6e", 2100) // a 2,100-character connector name in hex
	for _, tc := range []struct {
		name, key string
		wildcards bool
		want      string // "" with wantHashed: check the shape only
		hashed    bool
		err       error
	}{
		{name: "stream key keeps its form", key: "stream.123456789012.us-east-1.6d79", want: "stream.123456789012.us-east-1.6d79"},
		{name: "server keys keep their form", key: "server.iterator-key", want: "server.iterator-key"},
		{name: "all allowed characters", key: "a-b/c_d=e.F9", want: "a-b/c_d=e.F9"},
		{name: "raw up to the budget", key: "k." + strings.Repeat("x", rawBudget-2), want: "k." + strings.Repeat("x", rawBudget-2)},
		{name: "one past the budget", key: "k." + strings.Repeat("x", rawBudget-1), want: "k." + hashToken(strings.Repeat("x", rawBudget-1)), hashed: true},
		{name: "long token", key: "connect.config." + long, want: "connect.config." + hashToken(long), hashed: true},
		{name: "tokens after a long one", key: "connect.offsets." + long + ".7b7d", want: "connect.offsets." + hashToken(long) + ".7b7d", hashed: true},
		{name: "space", key: "a.b c", want: "a." + hashToken("b c"), hashed: true},
		{name: "star in a key", key: "a.*", want: "a." + hashToken("*"), hashed: true},
		{name: "gt in a key", key: "a.>", want: "a." + hashToken(">"), hashed: true},
		{name: "star inside a token", key: "a.b*", want: "a." + hashToken("b*"), hashed: true},
		{name: "unicode", key: "a.名前", want: "a." + hashToken("名前"), hashed: true},
		{name: "leading mark", key: "=x.y", want: hashToken("=x") + ".y", hashed: true},
		{name: "empty tokens", key: "a..b.", want: "a." + hashToken("") + ".b." + hashToken(""), hashed: true},
		{name: "empty key", key: "", want: hashToken(""), hashed: true},
		{name: "filter keeps wildcards", key: "connect.config.>", wildcards: true, want: "connect.config.>"},
		{name: "filter star", key: "stream.*.us-east-1.>", wildcards: true, want: "stream.*.us-east-1.>"},
		{name: "filter gt only last", key: "a.>.b", wildcards: true, want: "a." + hashToken(">") + ".b", hashed: true},
		{name: "filter under a long prefix", key: "connect.offsets." + long + ".>", wildcards: true, want: "connect.offsets." + hashToken(long) + ".>", hashed: true},
		{name: "too many tokens", key: strings.Repeat("a.", 2000) + "a", err: ErrInvalidKey},
		{name: "too many long tokens", key: strings.Repeat(strings.Repeat("y", 100)+".", 120), err: ErrInvalidKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := storedKey(tc.key, tc.wildcards)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if got != tc.want {
				t.Errorf("storedKey = %q, want %q", got, tc.want)
			}
			if hashed(got) != tc.hashed {
				t.Errorf("hashed(%q) = %v", got, hashed(got))
			}
			if len(got) > maxKey {
				t.Errorf("stored key is %d bytes", len(got))
			}
		})
	}
}

// TestStoredKeyPrefix: a key under a prefix is stored under the prefix's
// stored form, whatever follows, so listing by prefix finds it.
func TestStoredKeyPrefix(t *testing.T) {
	for _, prefix := range []string{"connect.offsets.6e6e", "connect.offsets." + strings.Repeat("6e", 1400),
		"connect.offsets." + strings.Repeat("6e", 2100), "a b.c", "k." + strings.Repeat("z", rawBudget-3)} {
		filter, err := storedKey(prefix+".>", true)
		if err != nil {
			t.Fatal(err)
		}
		for _, rest := range []string{"x", strings.Repeat("7b", 1000), "x.y.z", "*", "名前"} {
			key, err := storedKey(prefix+"."+rest, false)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(key, strings.TrimSuffix(filter, ">")) {
				t.Errorf("key %.60q... is not under filter %.60q...", key, filter)
			}
		}
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{"plain.key", `{"a":1}`},
		{"a.b c", `{"a":1}`},
		{"a.b c", ""},
		{"connect.config." + strings.Repeat("6e", 2100), "v"},
	} {
		stored, err := storedKey(tc.key, false)
		if err != nil {
			t.Fatal(err)
		}
		b := wrap(tc.key, stored, []byte(tc.value))
		if !hashed(stored) && !bytes.Equal(b, []byte(tc.value)) {
			t.Errorf("%s: a raw key's value was changed", tc.key)
		}
		k, v, err := unwrap(stored, b)
		if err != nil || k != tc.key || string(v) != tc.value {
			t.Errorf("%.40s: unwrap = %.40q %q %v", tc.key, k, v, err)
		}
	}
	if _, _, err := unwrap("a."+hashToken("x"), []byte{0x7f, 'x'}); err == nil {
		t.Error("unwrap accepted a value shorter than its key")
	}
}

// TestKeysWrittenBeforeReadAsBefore: keys written before this scheme
// existed, straight through the KV bucket, are found by Get and List
// under their own names, unchanged.
func TestKeysWrittenBeforeReadAsBefore(t *testing.T) {
	ctx := context.Background()
	s := openMem(t)
	old := []string{
		"stream.123456789012.us-east-1." + hex.EncodeToString([]byte("orders")),
		"account.123456789012.eu-west-1",
		"server.iterator-key",
		"connect.config." + strings.Repeat("6e", 1500),
		"connect.offsets." + strings.Repeat("6e", 700) + "." + strings.Repeat("7b", 700),
	}
	for _, k := range old {
		if _, err := s.cur.Load().kv.Create(ctx, k, []byte(k[:8])); err != nil {
			t.Fatalf("raw create %.60s: %v", k, err)
		}
		e, err := s.Get(ctx, k)
		if err != nil || string(e.Value) != k[:8] {
			t.Fatalf("get %.60s = %q %v", k, e.Value, err)
		}
	}
	es, err := s.List(ctx, ">")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Key)
	}
	if strings.Join(sorted(got), "|") != strings.Join(sorted(old), "|") {
		t.Errorf("list = %.300q", got)
	}
}

func openMem(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestHostileKeys stores, reads, lists, updates and deletes keys of every
// shape through a real embedded server, and checks that none of them
// costs the connection.
func TestHostileKeys(t *testing.T) {
	ctx := context.Background()
	s := openMem(t)
	name := func(n string) string { return hex.EncodeToString([]byte(n)) }
	long := name(strings.Repeat("n", 2100))
	keys := []string{
		"connect.config." + name("plain"),
		"connect.config." + long,
		"connect.config.a b",
		"connect.config.*",
		"connect.config.>",
		"connect.config.名前",
		"connect.config.=x",
		"connect.config.dots.in.it",
		"connect.offsets." + long + "." + name(`{"filename":"/x"}`),
		"connect.offsets." + long + "." + strings.Repeat("7b", 3000),
	}
	for i, k := range keys {
		if _, err := s.Create(ctx, k, []byte{byte(i)}); err != nil {
			t.Fatalf("create %.60s: %v", k, err)
		}
		if _, err := s.Create(ctx, k, nil); !errors.Is(err, ErrExists) {
			t.Fatalf("create %.60s again = %v, want ErrExists", k, err)
		}
	}
	for i, k := range keys {
		e, err := s.Get(ctx, k)
		if err != nil || e.Key != k || !bytes.Equal(e.Value, []byte{byte(i)}) {
			t.Fatalf("get %.60s = %v %v", k, e, err)
		}
		if _, err := s.Update(ctx, k, []byte{byte(i), 1}, e.Revision); err != nil {
			t.Fatalf("update %.60s: %v", k, err)
		}
		if _, err := s.Update(ctx, k, nil, e.Revision); !errors.Is(err, ErrConflict) {
			t.Fatalf("stale update %.60s = %v, want ErrConflict", k, err)
		}
	}
	list := func(filter string) []string {
		t.Helper()
		es, err := s.List(ctx, filter)
		if err != nil {
			t.Fatalf("list %.60s: %v", filter, err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Key)
			if want := []byte{byte(indexOf(keys, e.Key)), 1}; !bytes.Equal(e.Value, want) {
				t.Errorf("list %.60s: %.60s = %v, want %v", filter, e.Key, e.Value, want)
			}
		}
		sort.Strings(out)
		return out
	}
	if got, want := list("connect.config.>"), sorted(keys[:8]); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("list configs = %.300q, want %.300q", got, want)
	}
	if got := list("connect.offsets." + long + ".>"); strings.Join(got, "|") != strings.Join(sorted(keys[8:]), "|") {
		t.Errorf("list offsets of the long name = %.300q", got)
	}
	if _, err := s.Get(ctx, strings.Repeat("a.", 3000)+"a"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("get of 3,001 tokens = %v, want ErrInvalidKey", err)
	}
	for _, k := range keys {
		e, err := s.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, k, e.Revision); err != nil {
			t.Fatalf("delete %.60s: %v", k, err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get %.60s after delete = %v", k, err)
		}
	}
	if got := list(">"); len(got) != 0 {
		t.Errorf("left after deletes: %.300q", got)
	}
	if c := s.cur.Load(); c.nc.IsClosed() || c.nc.LastError() != nil {
		t.Errorf("connection: closed %v, last error %v", c.nc.IsClosed(), c.nc.LastError())
	}
}

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

func sorted(l []string) []string {
	out := append([]string(nil), l...)
	sort.Strings(out)
	return out
}
