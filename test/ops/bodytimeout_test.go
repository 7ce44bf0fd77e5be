package ops

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestReadBodyTimeoutFlag runs serve with -read-body-timeout: a request
// to either API that sends its headers and one byte of its body, and
// then nothing, is answered 408 with the API's error, and its connection
// is closed.
func TestReadBodyTimeoutFlag(t *testing.T) {
	t.Parallel()
	p := testserver.Start(t, "-read-body-timeout", "300ms")
	for _, tc := range []struct{ name, addr, head, want string }{
		{"kinesis", p.Addr, "POST / HTTP/1.1\r\nHost: tributary\r\nContent-Type: application/x-amz-json-1.1\r\n" +
			"X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 100\r\n\r\n{", `"__type":"RequestTimeoutException"`},
		{"connect", strings.TrimPrefix(p.ConnectURL, "http://"), "POST /connectors HTTP/1.1\r\nHost: tributary\r\n" +
			"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{", `"error_code":408`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := io.WriteString(c, tc.head); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer 20s after a body stalled with -read-body-timeout 300ms: %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), tc.want) {
				t.Fatalf("stalled body: %s %s, want 408 with %s", resp.Status, b, tc.want)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("connection not closed after the 408: %v", err)
			}
		})
	}
}
