package testmariadb

import (
	"testing"
)

func TestStartDefaults(t *testing.T) {
	s := Start(t)
	s.Exec(t,
		"CREATE DATABASE d",
		"CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(10))",
		"BEGIN",
		"INSERT INTO d.t VALUES (1, 'a')",
		"COMMIT",
	)
	if got := s.QueryString(t, "SELECT v FROM d.t WHERE id = 1"); got != "a" {
		t.Fatalf("read back %q, want a", got)
	}
	for _, c := range []struct{ variable, want string }{
		{"@@log_bin", "1"},
		{"@@binlog_format", "ROW"},
		{"@@binlog_row_image", "FULL"},
		{"@@binlog_row_metadata", "FULL"},
		{"@@binlog_annotate_row_events", "1"},
		{"@@port", ""},
	} {
		got := s.QueryString(t, "SELECT "+c.variable)
		if c.variable == "@@port" {
			c.want = itoa(s.Port)
		}
		if got != c.want {
			t.Errorf("%s = %q, want %q", c.variable, got, c.want)
		}
	}
	if s.DSN() == "" || s.Addr() == "" {
		t.Fatal("empty DSN pieces")
	}
}

func TestStartOptions(t *testing.T) {
	cases := []struct {
		name     string
		opts     []Option
		variable string
		want     string
	}{
		{"no binlog", []Option{WithoutBinlog()}, "@@log_bin", "0"},
		{"statement format", []Option{WithBinlogFormat("STATEMENT")}, "@@binlog_format", "STATEMENT"},
		{"minimal image", []Option{WithRowImage("MINIMAL")}, "@@binlog_row_image", "MINIMAL"},
		{"minimal metadata", []Option{WithRowMetadata("MINIMAL")}, "@@binlog_row_metadata", "MINIMAL"},
		{"raw args", []Option{WithArgs("--gtid-domain-id=7")}, "@@gtid_domain_id", "7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := Start(t, c.opts...)
			if got := s.QueryString(t, "SELECT "+c.variable); got != c.want {
				t.Fatalf("%s = %q, want %q", c.variable, got, c.want)
			}
		})
	}
}

func TestCloseRemovesDirectory(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Connect(t.Context()); err == nil {
		t.Fatal("server still answers after Close")
	}
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
