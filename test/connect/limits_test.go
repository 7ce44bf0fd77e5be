package connect

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// configBody is a body creating a valid connector, reading file, of
// about n bytes.
func configBody(file string, n int) string {
	return `{"name":"big","config":{"connector.class":"FileStreamSource","topic":"big","file":"` + file +
		`","padding":"` + strings.Repeat("x", n) + `"}}`
}

// TestConnectHostileBodies sends oversized and malformed bodies to the
// Connect REST API. Oversized ones get 413 with Kafka's error JSON,
// malformed ones the status Kafka gives them; none is logged as an ERROR
// (a client's mistake is not the server's fault, and must not flood the
// log), and the worker works afterwards.
func TestConnectHostileBodies(t *testing.T) {
	srv := start(t)
	in := writeFile(t, "in.txt", "")
	const tooLarge = `{"error_code":413,"message":"Request body is larger than 1048576 bytes"}`
	for _, tc := range []struct {
		name, method, path, body string
		code                     int
		want                     string // the whole body, when set
	}{
		{"30 MB config", "POST", "/connectors", configBody(in, 30_000_000), 413, tooLarge},
		{"config over 1 MiB", "PUT", "/connectors/big/config", `{"padding":"` + strings.Repeat("x", 1<<20) + `"}`, 413, tooLarge},
		{"chunked config over 1 MiB", "PUT", "/connectors/big/config", "chunked", 413, tooLarge},
		{"validate over 1 MiB", "PUT", "/connector-plugins/FileStreamSource/config/validate", configBody(in, 2<<20), 413, tooLarge},
		{"offsets over 1 MiB", "PATCH", "/connectors/big/offsets", configBody(in, 2<<20), 413, tooLarge},
		{"truncated JSON", "POST", "/connectors", `{"name":`, 500, ""},
		{"not an object", "PUT", "/connectors/x/config", `[]`, 500, ""},
		{"empty body", "POST", "/connectors", " ", 500, ""},
		{"unknown member", "POST", "/connectors", `{"nam":"x","config":{}}`, 500, ""},
		{"wrong type", "PUT", "/connectors/x/config", `{"a":{}}`, 500, ""},
		{"bad logger level", "PUT", "/admin/loggers/root", `{"level":7}`, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.body == "chunked" {
				body = io.MultiReader(strings.NewReader(`{"padding":"`+strings.Repeat("x", 2<<20)), strings.NewReader(`"}`))
			}
			req, err := http.NewRequest(tc.method, srv.ConnectURL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || tc.want != "" && string(b) != tc.want {
				t.Fatalf("%s %s: %d %.300s, want %d %s", tc.method, tc.path, resp.StatusCode, b, tc.code, tc.want)
			}
			if !strings.HasPrefix(string(b), `{"error_code":`) {
				t.Errorf("body is not Kafka's error JSON: %.300s", b)
			}
		})
	}
	a := api{t, srv.ConnectURL}
	if code, _, list := a.do("GET", "/connectors", nil); code != 200 || len(list.([]any)) != 0 {
		t.Fatalf("GET /connectors after hostile bodies: %d %v", code, list)
	}
	srv.Stop()
	if strings.Contains(srv.Log(), "level=ERROR") {
		t.Fatalf("client errors logged as ERROR:\n%s", srv.Log())
	}
}
