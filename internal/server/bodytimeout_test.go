package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

// bodyTimeout is the -read-body-timeout of these tests: short, so that a
// body that never comes is cut quickly.
const bodyTimeout = 300 * time.Millisecond

// startBodyLimited starts an in-memory server with both APIs, the short
// body timeout and, when tlsOn, a self-signed certificate.
func startBodyLimited(t *testing.T, tlsOn bool) *Server {
	t.Helper()
	return startOnLoopback(t, Config{TLS: TLSConfig{SelfSigned: tlsOn}, HTTP: HTTPConfig{ReadBodyTimeout: bodyTimeout}})
}

// slowRequest is a request whose body starts and then stops.
type slowRequest struct {
	api, path  string
	header     map[string]string
	wantBody   string // what the timeout answer must contain
	addr       func(*Server) string
	http2Ports bool // whether the port serves HTTP/2 without TLS
}

var slowRequests = []slowRequest{
	{api: "kinesis", path: "/", addr: (*Server).Addr, http2Ports: true,
		header: map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.ListStreams"},
		// AWS's JSON error for a request that took too long to arrive.
		wantBody: `"__type":"RequestTimeoutException"`},
	{api: "connect", path: "/connectors", addr: (*Server).ConnectAddr,
		header:   map[string]string{"Content-Type": "application/json"},
		wantBody: `{"error_code":408,"message":"Request body was not received within the timeout period"}`},
}

// TestSlowBodyCut sends each API the headers of a request and the first
// byte of its body, and then nothing, over HTTP/1.1 and HTTP/2, with and
// without TLS. The server answers 408 with the API's error once the body
// timeout passes, closes the connection (HTTP/1.1) or the stream, and its
// goroutines return to what they were.
func TestSlowBodyCut(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := startBodyLimited(t, tlsOn)
		for _, rq := range slowRequests {
			for _, proto := range []int{1, 2} {
				if proto == 2 && !tlsOn && !rq.http2Ports {
					continue // the Connect port speaks HTTP/2 only over TLS, as Kafka's does
				}
				t.Run(fmt.Sprintf("%s/tls=%v/HTTP%d", rq.api, tlsOn, proto), func(t *testing.T) {
					baseline := runtime.NumGoroutine()
					if proto == 1 {
						slowHTTP1(t, rq.addr(s), tlsOn, rq)
					} else {
						slowHTTP2(t, rq.addr(s), tlsOn, rq)
					}
					waitGoroutines(t, baseline)
				})
			}
		}
	}
}

// slowHTTP1 sends the request on a raw connection, reads the answer and
// waits for the server to close the connection.
func slowHTTP1(t *testing.T, addr string, tlsOn bool, rq slowRequest) {
	var c net.Conn
	var err error
	if tlsOn {
		c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	var req strings.Builder
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: tributary\r\nContent-Length: 1000\r\n", rq.path)
	for k, v := range rq.header {
		fmt.Fprintf(&req, "%s: %s\r\n", k, v)
	}
	req.WriteString("\r\n{")
	if _, err := io.WriteString(c, req.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	checkTimeoutAnswer(t, resp, rq)
	waitClosed(t, c, "connection with a stalled body")
}

// slowHTTP2 sends the request through net/http's HTTP/2 client, with a
// body that stops after its first byte.
func slowHTTP2(t *testing.T, addr string, tlsOn bool, rq slowRequest) {
	var protocols http.Protocols
	tr := &http.Transport{Protocols: &protocols}
	scheme := "http"
	if tlsOn {
		protocols.SetHTTP2(true)
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		scheme = "https"
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	defer tr.CloseIdleConnections()
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = pw.Write([]byte("{")) }()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, scheme+"://"+addr+rq.path, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 1000
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	if resp.ProtoMajor != 2 {
		t.Fatalf("answered over HTTP/%d", resp.ProtoMajor)
	}
	checkTimeoutAnswer(t, resp, rq)
}

func checkTimeoutAnswer(t *testing.T, resp *http.Response, rq slowRequest) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), rq.wantBody) {
		t.Fatalf("stalled body: %s %s, want 408 with %s", resp.Status, b, rq.wantBody)
	}
}

// TestSubscribeOutlivesBodyTimeout checks that the body timeout covers
// the body only: a SubscribeToShard that lasts many times the timeout,
// over HTTP/1.1, cleartext HTTP/2 and HTTP/2 over TLS, still delivers a
// record put after the timeout has passed.
func TestSubscribeOutlivesBodyTimeout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tlsOn bool
		// proto makes the client's transport; nil keeps the SDK's own
		// client, which speaks HTTP/1.1 to an http:// endpoint. (A
		// transport limited to HTTP/1.1 by http.Protocols sometimes
		// closes a streaming response's connection on its own, client
		// side, with or without this server's body timeout.)
		proto func(*http.Protocols)
	}{
		{"HTTP1", false, nil},
		{"h2c", false, func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }},
		{"TLS HTTP2", true, func(p *http.Protocols) { p.SetHTTP2(true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startBodyLimited(t, tc.tlsOn)
			scheme := "http://"
			if tc.tlsOn {
				scheme = "https://"
			}
			var opts []func(*kinesis.Options)
			if tc.proto != nil {
				var protocols http.Protocols
				tc.proto(&protocols)
				tr := &http.Transport{Protocols: &protocols, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
				defer tr.CloseIdleConnections()
				opts = append(opts, func(o *kinesis.Options) { o.HTTPClient = &http.Client{Transport: tr} })
			}
			subscribeAfterTimeout(t, testserver.NewClient(scheme+s.Addr(), opts...))
		})
	}
}

func subscribeAfterTimeout(t *testing.T, c *kinesis.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if err := kinesis.NewStreamExistsWaiter(c).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("s")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: d.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("slow")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN,
		ShardId: aws.String("shardId-000000000000"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	if err != nil {
		t.Fatal(err)
	}
	stream := sub.GetStream()
	defer stream.Close()
	// Not a timed assertion: the wait only makes sure that a deadline
	// left on the connection or the stream would have passed.
	time.Sleep(3 * bodyTimeout)
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	for ev := range stream.Events() {
		if e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok && len(e.Value.Records) > 0 {
			if got := string(e.Value.Records[0].Data); got != "late" {
				t.Fatalf("got record %q", got)
			}
			return
		}
	}
	t.Fatalf("the subscription ended without the record put after the body timeout: %v", stream.Err())
}
