package properties

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fileSource is in the style of Kafka's config/connect-file-source.properties:
// a license header in comments, blank lines, plain key=value lines.
const fileSource = `# Licensed to the Apache Software Foundation (ASF) under one or more
# contributor license agreements.  See the NOTICE file distributed with
# this work for additional information regarding copyright ownership.
#
#    http://www.apache.org/licenses/LICENSE-2.0

name=local-file-source
connector.class=FileStreamSource
tasks.max=1
file=test.txt
topic=connect-test
`

// worker is in the style of Kafka's config/connect-standalone.properties.
const worker = `# These are defaults. This file just demonstrates how to override some settings.
bootstrap.servers=localhost:9092

# The converters specify the format of data in Kafka and how to translate it into Connect data.
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true

offset.storage.file.filename=/tmp/connect.offsets
# Flush much faster than normal, which is useful for testing/debugging
offset.flush.interval.ms=10000

# plugin.path=/usr/local/share/java,/usr/local/share/kafka/plugins,/opt/connectors,
#plugin.path=
`

func TestPropertiesParse(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"kafka file source", fileSource, map[string]string{
			"name": "local-file-source", "connector.class": "FileStreamSource", "tasks.max": "1",
			"file": "test.txt", "topic": "connect-test",
		}},
		{"kafka standalone worker", worker, map[string]string{
			"bootstrap.servers":              "localhost:9092",
			"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
			"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
			"key.converter.schemas.enable":   "true",
			"value.converter.schemas.enable": "true",
			"offset.storage.file.filename":   "/tmp/connect.offsets",
			"offset.flush.interval.ms":       "10000",
		}},
		{"empty", "", map[string]string{}},
		{"only comments and blanks", "# a\n! b\n   \n\t# c\n", map[string]string{}},
		{"separators", "a=1\nb: 2\nc 3\nd\t4\ne\f5\n", map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}},
		{"white space around separator", "  key   =   value\n", map[string]string{"key": "value"}},
		{"space then separator", "key  :  value", map[string]string{"key": "value"}},
		{"only one separator consumed", "a==b\nc = = d\ne:=f\n", map[string]string{"a": "=b", "c": "= d", "e": "=f"}},
		{"trailing white space kept", "k=v  \n", map[string]string{"k": "v  "}},
		{"key without value", "lonely\nempty=\nspaced   \n", map[string]string{"lonely": "", "empty": "", "spaced": ""}},
		{"colon and equals in value", "url=jdbc:postgresql://db:5432/x?a=b\n", map[string]string{"url": "jdbc:postgresql://db:5432/x?a=b"}},
		{"comment markers inside values", "a=b # not a comment\nc=!d\n", map[string]string{"a": "b # not a comment", "c": "!d"}},
		{"continuation", "fruits = apple, banana, \\\n         pear, \\\n    cantaloupe\n", map[string]string{"fruits": "apple, banana, pear, cantaloupe"}},
		{"continuation line starting with #", "a=1\\\n  # 2\n", map[string]string{"a": "1# 2"}},
		{"comment does not continue", "# comment \\\nk=v\n", map[string]string{"k": "v"}},
		{"blank line ends continuation", "a=1\\\n\nb=2\n", map[string]string{"a": "1", "b": "2"}},
		{"escaped backslash does not continue", "a=c:\\\\\nb=2\n", map[string]string{"a": `c:\`, "b": "2"}},
		{"three backslashes continue", "a=x\\\\\\\n  y\n", map[string]string{"a": `x\y`}},
		{"backslash at end of input dropped", "a=b\\", map[string]string{"a": "b"}},
		{"escapes", `a=tab\there\nnl\rcr\fff\\bs\q`, map[string]string{"a": "tab\there\nnl\rcr\fff\\bsq"}},
		{"escaped separators in key", `key\=with\:seps\ and\ spaces = v`, map[string]string{"key=with:seps and spaces": "v"}},
		{"escaped leading space in value", `k=\  v`, map[string]string{"k": "  v"}},
		{"unicode escapes", `greeting=caf\u00e9 \u4E2D`, map[string]string{"greeting": "café 中"}},
		{"surrogate pair", `smile=\uD83D\uDE00!`, map[string]string{"smile": "😀!"}},
		{"utf-8 passes through", "name=café\n", map[string]string{"name": "café"}},
		{"latin-1 input", "name=caf\xe9\n", map[string]string{"name": "café"}},
		{"crlf and cr line ends", "a=1\r\nb=2\rc=3\r\n", map[string]string{"a": "1", "b": "2", "c": "3"}},
		{"crlf continuation", "a=1,\\\r\n   2\r\n", map[string]string{"a": "1,2"}},
		{"last one wins", "k=1\nk=2\n", map[string]string{"k": "2"}},
		{"regex values", `transforms.route.regex=([^.]+)\\.([^.]+)\\.([^.]+)`, map[string]string{"transforms.route.regex": `([^.]+)\.([^.]+)\.([^.]+)`}},
		{"json-ish value", `schema={"type":"struct"}`, map[string]string{"schema": `{"type":"struct"}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPropertiesMalformedUnicode(t *testing.T) {
	for _, in := range []string{`a=\u12`, `a=\uZZZZ`, "ok=1\nb\\u00=2\n"} {
		if m, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q) = %q, want an error", in, m)
		}
	}
	_, err := Parse(strings.NewReader("ok=1\nb=\\u00g0\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error = %v, want one naming line 2", err)
	}
}

func TestPropertiesParseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connect-file-source.properties")
	if err := os.WriteFile(path, []byte(fileSource), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got["name"] != "local-file-source" || len(got) != 5 {
		t.Errorf("ParseFile = %q", got)
	}
	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing.properties")); err == nil {
		t.Error("ParseFile of a missing file succeeded")
	}
}
