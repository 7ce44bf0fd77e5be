// Hostile input: thousands of malformed, oversized, mis-signed,
// truncated and random requests to each API of a real server, which must
// answer each with a client error, keep serving good requests, and give
// back the memory and goroutines the flood took.

package faults

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/testserver"
)

// hostileSeed seeds every hostile request: request i of an API is built
// from rand.NewPCG(hostileSeed, i), so a failure names the request that
// replays it.
const hostileSeed = 10

// hostileStream is the one stream hostile Kinesis requests name.
const hostileStream = "hostile"

// hostileReq is one hostile request: over HTTP, or raw bytes written to
// a socket (a truncated body) when raw is set.
type hostileReq struct {
	kind, method, path string
	header             map[string]string
	body               []byte
	raw                []byte
}

// kinesisTargets are operations hostile bodies are sent to. CreateStream
// is left out so that a body that happens to be valid cannot pile up
// streams.
var kinesisTargets = []string{"PutRecord", "PutRecords", "GetRecords", "GetShardIterator", "DescribeStream",
	"DescribeStreamSummary", "ListShards", "ListStreams", "AddTagsToStream", "SplitShard", "MergeShards",
	"RegisterStreamConsumer", "SubscribeToShard", "UpdateShardCount", "IncreaseStreamRetentionPeriod"}

// hostileKinesis builds the i-th hostile Kinesis request.
func hostileKinesis(rng *rand.Rand) hostileReq {
	target := "Kinesis_20131202." + kinesisTargets[rng.IntN(len(kinesisTargets))]
	jsonType := "application/x-amz-json-1.1"
	r := hostileReq{method: "POST", path: "/", header: map[string]string{"X-Amz-Target": target, "Content-Type": jsonType}}
	good := fmt.Sprintf(`{"StreamName":%q,"PartitionKey":"k","Data":"eA==","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`, hostileStream)
	switch kind := rng.IntN(11); kind {
	case 0:
		r.kind = "malformed JSON"
		r.body = []byte(good[:rng.IntN(len(good))])
	case 1:
		r.kind = "wrong types"
		vals := []string{`123`, `true`, `null`, `[]`, `{}`, `"x"`, `-1`, `1e999`, `"` + strings.Repeat("9", 40) + `"`}
		v := func() string { return vals[rng.IntN(len(vals))] }
		r.body = []byte(fmt.Sprintf(`{"StreamName":%s,"PartitionKey":%s,"Data":%s,"Records":%s,"ShardCount":%s,"Limit":%s,"ShardIterator":%s}`,
			v(), v(), v(), v(), v(), v(), v()))
	case 2:
		r.kind = "huge fields"
		n := 1 << (10 + rng.IntN(11)) // 1 KiB to 1 MiB
		field := []string{"StreamName", "PartitionKey", "ExplicitHashKey", "ShardIterator", "ShardId", "ConsumerName"}[rng.IntN(6)]
		r.body = []byte(fmt.Sprintf(`{"StreamName":%q,"PartitionKey":"k","Data":"eA==",%q:%q}`, hostileStream, field, strings.Repeat("a", n)))
		if rng.IntN(4) == 0 {
			r.body = []byte(fmt.Sprintf(`{"StreamName":%q,"PartitionKey":"k","Data":%q}`, hostileStream,
				base64.StdEncoding.EncodeToString(make([]byte, 1<<20+rng.IntN(1<<20)))))
		}
	case 3:
		r.kind = "invalid UTF-8"
		bad := string([]byte{0xff, 0xfe, byte(0x80 + rng.IntN(64)), 0xc0, 0xaf})
		r.body = []byte(`{"StreamName":"` + hostileStream + `","PartitionKey":"` + bad + `","Data":"eA=="}`)
		if rng.IntN(2) == 0 {
			r.body = []byte(`{"StreamName":"` + hostileStream + `","PartitionKey":"\ud800","Data":"eA=="}`)
		}
	case 4:
		r.kind = "bad target"
		targets := []string{"", "Kinesis_20131202.", "Kinesis_20131202.Nope", "Foo.PutRecord", strings.Repeat("T", 5000),
			"Kinesis_20131202.PutRecord;DROP", "kinesis_20131202.putrecord"}
		r.header["X-Amz-Target"] = targets[rng.IntN(len(targets))]
		r.body = []byte(good)
	case 5:
		r.kind = "bad signature"
		auths := []string{"AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=", "garbage",
			"AWS4-HMAC-SHA256 Credential=AKID/20260101/../kinesis/aws4_request, SignedHeaders=host, Signature=00",
			"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=, Signature=" + strings.Repeat("z", 64),
			"AWS4-HMAC-SHA256 Credential=" + strings.Repeat("/", 3000)}
		r.header["Authorization"] = auths[rng.IntN(len(auths))]
		r.header["X-Amz-Date"] = []string{"", "nonsense", "20260101T000000Z", "99999999T999999Z"}[rng.IntN(4)]
		r.body = []byte(good)
	case 6:
		r.kind = "random bytes"
		r.body = randomBytes(rng, rng.IntN(4096))
		r.header["Content-Type"] = []string{jsonType, "application/x-amz-cbor-1.1", "application/json", ""}[rng.IntN(4)]
	case 7:
		r.kind = "malformed CBOR"
		r.header["Content-Type"] = "application/x-amz-cbor-1.1"
		// A map header with more entries than follow, text strings
		// with lengths past the end, tags and indefinite lengths.
		prefixes := [][]byte{{0xbf}, {0xa3, 0x6a}, {0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0xa1, 0x62, 'h', 'i', 0xd8}, {0x9f, 0x9f, 0x9f}}
		r.body = append(prefixes[rng.IntN(len(prefixes))], randomBytes(rng, rng.IntN(64))...)
	case 8:
		r.kind = "truncated body"
		body := []byte(good)
		r.raw = []byte(fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
			target, jsonType, len(body)+1+rng.IntN(1000), body[:rng.IntN(len(body))]))
	case 9:
		r.kind = "bad method or path"
		r.method = []string{"GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"}[rng.IntN(6)]
		r.path = []string{"/", "/x", "/%zz", "/" + strings.Repeat("p", 4000), "/metrics/../"}[rng.IntN(5)]
		r.body = []byte(good)
	default:
		r.kind = "deep nesting"
		depth := 1000 + rng.IntN(100000)
		r.body = []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
	}
	return r
}

// connectRoutes are the Connect REST API's paths, with a placeholder for
// a connector name.
var connectRoutes = []string{"/connectors", "/connectors/%s", "/connectors/%s/config", "/connectors/%s/status",
	"/connectors/%s/restart", "/connectors/%s/pause", "/connectors/%s/resume", "/connectors/%s/stop", "/connectors/%s/tasks",
	"/connectors/%s/tasks/0/restart", "/connectors/%s/offsets", "/connectors/%s/topics", "/connector-plugins",
	"/connector-plugins/%s/config/validate", "/admin/loggers/%s", "/"}

// hostileConnect builds the i-th hostile Connect REST request. Every
// connector configuration in it is invalid (tasks.max is), so that the
// flood creates no connector.
func hostileConnect(rng *rand.Rand) hostileReq {
	names := []string{"c", strings.Repeat("n", 2100), strings.Repeat("ü", 70000), "a/b", "..", "%2e%2e", "*", ">", "名前", "\x00", ""}
	name := names[rng.IntN(len(names))]
	route := connectRoutes[rng.IntN(len(connectRoutes))]
	path := route
	if strings.Contains(route, "%s") {
		path = fmt.Sprintf(route, urlEscape(name))
	}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "BREW"}
	r := hostileReq{method: methods[rng.IntN(len(methods))], path: path, header: map[string]string{"Content-Type": "application/json"}}
	tasksMax := []string{"-1", "abc", "100000000", "", "1e3", "0"}[rng.IntN(6)]
	config := fmt.Sprintf(`{"connector.class":%q,"tasks.max":%q,"file":"/etc/passwd","topic":"t"}`,
		[]string{"FileStreamSource", "com.amazonaws.mskdatagen.GeneratorSourceConnector", "no.such.Class", ""}[rng.IntN(4)], tasksMax)
	switch kind := rng.IntN(7); kind {
	case 0:
		r.kind = "malformed body"
		b := `{"name":"c","config":` + config + `}`
		r.body = []byte(b[:rng.IntN(len(b))])
	case 1:
		r.kind = "wrong types"
		r.body = []byte([]string{`{"name":5,"config":[]}`, `{"name":"c","config":{"tasks.max":7}}`, `[]`, `"x"`, `null`, `{"config":"x"}`}[rng.IntN(6)])
	case 2:
		r.kind = "huge name"
		r.method, r.path = "POST", "/connectors"
		r.body = []byte(fmt.Sprintf(`{"name":%q,"config":%s}`, strings.Repeat("N", 1<<(8+rng.IntN(12))), config))
	case 3:
		r.kind = "bad config"
		r.body = []byte(config)
		if rng.IntN(2) == 0 {
			r.method, r.path = "POST", "/connectors"
			r.body = []byte(fmt.Sprintf(`{"name":%q,"config":%s}`, name, config))
		}
	case 4:
		r.kind = "huge body"
		r.method, r.path = "POST", "/connectors"
		r.body = []byte(`{"name":"big","config":{"x":"` + strings.Repeat("v", 1<<20+rng.IntN(1<<20)) + `"}}`)
	case 5:
		r.kind = "unknown route"
		r.path = "/" + []string{"nope", "connectors/c/x/y/z", "connectors//", "admin", "connector-plugins/x/y"}[rng.IntN(5)]
	default:
		r.kind = "random bytes"
		r.body = randomBytes(rng, rng.IntN(4096))
	}
	return r
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestHostileKinesisRequests floods the Kinesis port.
func TestHostileKinesisRequests(t *testing.T) {
	p := startHostile(t)
	good := func(ctx context.Context) error {
		_, err := p.Client().PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(hostileStream), PartitionKey: aws.String("good"), Data: []byte("good")})
		return err
	}
	flood(t, p, "kinesis", p.Endpoint, hostileKinesis, good)
}

// TestHostileConnectRequests floods the Connect REST port.
func TestHostileConnectRequests(t *testing.T) {
	p := startHostile(t)
	good := func(ctx context.Context) error {
		return connectCall(ctx, "GET", p.ConnectURL+"/connectors", nil, http.StatusOK)
	}
	flood(t, p, "connect", p.ConnectURL, hostileConnect, good)
	resp, err := http.Get(p.ConnectURL + "/connectors")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "[]" {
		t.Fatalf("the flood created connectors: %s", b)
	}
}

// startHostile starts a server on a data directory with one stream.
func startHostile(t *testing.T) *testserver.Proc {
	t.Helper()
	p := testserver.Start(t, "-data-dir", t.TempDir())
	ctx := testserver.Context(t, time.Minute)
	if _, err := p.Client().CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(hostileStream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	return p
}

// flood sends hostileRequests requests built by gen to base from eight
// clients, while slowConnections connections to the same port send half
// their headers and stall; it checks that no answer is a 5xx,
// that good requests succeed during and after it, that the server is
// alive, and that its goroutines and resident memory come back near what
// they were before.
func flood(t *testing.T, p *testserver.Proc, api, base string, gen func(*rand.Rand) hostileReq, good func(context.Context) error) {
	ctx := testserver.Context(t, 20*time.Minute)
	for range 20 { // warm up: what a served client costs is in the baseline
		if err := good(ctx); err != nil {
			t.Fatal(err)
		}
	}
	baseG, baseRSS := serverLoad(t, p)

	slow := stall(t, strings.TrimPrefix(base, "http://"), slowConnections)

	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	var (
		mu       sync.Mutex
		byClass  = map[int]int{}
		byKind   = map[string]int{}
		failures []string
		wg       sync.WaitGroup
	)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := gen(rand.New(rand.NewPCG(hostileSeed, uint64(i))))
				status, answer, err := send(ctx, client, base, r)
				mu.Lock()
				byKind[r.kind]++
				byClass[status/100]++
				if protocol500(status, answer) {
					byClass[5]--
					byClass[-1]++
				} else if status >= 500 || (err != nil && r.raw == nil) {
					failures = append(failures, fmt.Sprintf("request %d (seed %d, %s %s %.80q): status %d %.200q, %v", i, hostileSeed, r.kind, r.method, r.path, status, answer, err))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range hostileRequests {
		next <- i
		if i%1000 == 999 {
			if err := good(ctx); err != nil {
				t.Errorf("a good request after %d hostile ones: %v", i+1, err)
			}
		}
	}
	close(next)
	wg.Wait()
	if err := good(ctx); err != nil {
		t.Fatalf("a good request with %d connections stalled in their headers: %v", len(slow), err)
	}
	for _, c := range slow {
		c.Close()
	}
	tr.CloseIdleConnections()
	if len(failures) > 0 {
		t.Errorf("%d hostile requests got a 5xx or no answer:\n%s", len(failures), strings.Join(failures[:min(len(failures), 20)], "\n"))
	}
	if err := syscallAlive(p.PID()); err != nil {
		t.Fatalf("server process: %v", err)
	}

	// The flood is over: poll until the server has let go of it.
	var g, rss int64
	deadline := time.Now().Add(2 * time.Minute)
	for {
		g, rss = serverLoad(t, p)
		if g <= baseG+50 && rss <= 2*baseRSS+64<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("2 minutes after the flood: %d goroutines (baseline %d), RSS %d MiB (baseline %d MiB)", g, baseG, rss>>20, baseRSS>>20)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("FIGURES hostile api=%s requests=%d slow_connections=%d 2xx=%d 3xx=%d 4xx=%d kafka_mapping_500=%d other_5xx=%d unanswered=%d goroutines=%d->%d rss_mib=%d->%d kinds=%v",
		api, hostileRequests, len(slow), byClass[2], byClass[3], byClass[4], byClass[-1], byClass[5], byClass[0], baseG, g, baseRSS>>20, rss>>20, byKind)
}

// protocol500 reports whether an answer is one of Kafka Connect's own
// 500s: Kafka's REST server answers a body Jackson cannot parse or map
// to the endpoint's type with error_code 500 and Jackson's message, and
// Tributary answers as Kafka does. Every other 5xx is a failure.
func protocol500(status int, answer []byte) bool {
	if status != http.StatusInternalServerError || !bytes.HasPrefix(answer, []byte(`{"error_code":500,"message":"`)) {
		return false
	}
	msg := answer[len(`{"error_code":500,"message":"`):]
	for _, jackson := range []string{"Unexpected character", "Cannot deserialize", "Unrecognized field", "Unexpected end-of-input",
		"No content to map due to end-of-input"} {
		if bytes.HasPrefix(msg, []byte(jackson)) {
			return true
		}
	}
	return false
}

// send sends one hostile request and returns its status and the start of
// its body; status 0 if it had none (a raw request is answered or closed;
// both are fine).
func send(ctx context.Context, client *http.Client, base string, r hostileReq) (int, []byte, error) {
	if r.raw != nil {
		code, err := sendRaw(base, r.raw)
		return code, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, bytes.NewReader(r.body))
	if err != nil {
		// A path Go cannot send as a URL: send it raw.
		code, err := sendRaw(base, []byte(fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", r.method, r.path, len(r.body), r.body)))
		return code, nil, err
	}
	for k, v := range r.header {
		req.Header[k] = []string{v}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer := make([]byte, 200)
	n, _ := io.ReadFull(resp.Body, answer)
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, answer[:n], nil
}

// sendRaw writes bytes to a new connection, closes its writing side, and
// reads the status line of the answer, if any.
func sendRaw(base string, raw []byte) (int, error) {
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(raw); err != nil {
		return 0, nil // the server closed first
	}
	_ = conn.(*net.TCPConn).CloseWrite()
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return 0, nil // closed without an answer
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return 0, fmt.Errorf("malformed status line %q", line)
	}
	code, err := strconv.Atoi(fields[1])
	return code, err
}

// stall opens n connections that send half of a request's headers.
func stall(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("open a slow connection: %v", err)
		}
		if _, err := c.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar")); err != nil {
			t.Fatalf("write to a slow connection: %v", err)
		}
		conns = append(conns, c)
	}
	return conns
}

// serverLoad reads the server's goroutines (go_goroutines on /metrics)
// and resident memory (VmRSS of its process).
func serverLoad(t *testing.T, p *testserver.Proc) (goroutines, rss int64) {
	t.Helper()
	resp, err := http.Get(p.Endpoint + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			goroutines, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		t.Fatalf("read the server's /proc status: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			rss = kb << 10
		}
	}
	if goroutines == 0 || rss == 0 {
		t.Fatalf("could not read the server's goroutines (%d) or RSS (%d)", goroutines, rss)
	}
	return goroutines, rss
}

// syscallAlive reports whether the process still runs.
func syscallAlive(pid int) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return fmt.Errorf("gone: %w", err)
	}
	if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
		return fmt.Errorf("exited")
	}
	return nil
}
