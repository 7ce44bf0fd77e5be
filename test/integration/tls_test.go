package integration

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// TestTLSSelfSigned round-trips records over HTTPS with a generated
// certificate and checks that HTTP/2 is offered through ALPN.
func TestTLSSelfSigned(t *testing.T) {
	t.Parallel()
	p := inproc.Start(t, "-tls-self-signed", "-log-level", "info")
	if !strings.HasPrefix(p.Endpoint, "https://") {
		t.Fatalf("endpoint %s is not https", p.Endpoint)
	}
	insecure := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // self-signed test server
	})
	c := p.Client(func(o *kinesis.Options) { o.HTTPClient = insecure })
	name := streamName(t)
	createStream(t, c, name, 1)
	ctx := ctxFor(t)
	put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("over tls")})
	if err != nil {
		t.Fatal(err)
	}
	it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if got := dataOf(readAll(t, c, it)); !equalStrings(got, []string{"over tls"}) {
		t.Fatalf("records = %q", got)
	}

	// A plain Go client negotiates h2 by ALPN.
	hc := testserver.InsecureHTTPClient()
	status, hdr, body := rawCallWith(t, hc, p.Endpoint, "ListStreams", "{}")
	if status != http.StatusOK || !strings.Contains(string(body), name) {
		t.Fatalf("ListStreams over h2: %d %s", status, body)
	}
	if hdr.proto != "HTTP/2.0" || hdr.alpn != "h2" {
		t.Fatalf("negotiated %s (ALPN %q), want HTTP/2.0 (h2)", hdr.proto, hdr.alpn)
	}
	// The certificate covers localhost and 127.0.0.1, and start-up logged
	// its fingerprint so users can pin it.
	if err := hdr.cert.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if err := hdr.cert.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	sum := sha256.Sum256(hdr.cert.Raw)
	fp := strings.ToUpper(hex.EncodeToString(sum[:]))
	var pairs []string
	for i := 0; i < len(fp); i += 2 {
		pairs = append(pairs, fp[i:i+2])
	}
	if want := "sha256=" + strings.Join(pairs, ":"); !strings.Contains(p.Log(), want) {
		t.Errorf("log lacks %s:\n%s", want, p.Log())
	}
	// HTTP/1.1 still works when the client offers only it.
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test server
	status, hdr, _ = rawCallWith(t, h1, p.Endpoint, "ListStreams", "{}")
	if status != http.StatusOK || hdr.proto != "HTTP/1.1" {
		t.Fatalf("HTTP/1.1 over TLS: %d %s", status, hdr.proto)
	}
	// Plaintext HTTP to the TLS port is refused.
	if resp, err := http.Post("http://"+p.Addr+"/", "application/x-amz-json-1.1", strings.NewReader("{}")); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plaintext request to the TLS port succeeded")
		}
	}
}

type connInfo struct {
	proto, alpn string
	cert        *x509.Certificate
}

// rawCallWith is rawCall through a given client, reporting the protocol.
func rawCallWith(t *testing.T, hc *http.Client, endpoint, action, body string) (int, connInfo, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	info := connInfo{proto: resp.Proto}
	if resp.TLS != nil {
		info.alpn = resp.TLS.NegotiatedProtocol
		info.cert = resp.TLS.PeerCertificates[0]
	}
	return resp.StatusCode, info, b
}

// TestTLSWithCredentials checks signatures over HTTP/2: the host a client
// signs arrives as :authority, not as a Host header.
func TestTLSWithCredentials(t *testing.T) {
	t.Parallel()
	p := authServer(t, "-tls-self-signed")
	h2 := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // self-signed test server
		tr.ForceAttemptHTTP2 = true
	})
	ctx := ctxFor(t)
	c := p.Client(withKey(keyB, secretB), func(o *kinesis.Options) { o.HTTPClient = h2 })
	name := streamName(t)
	createStream(t, c, name, 1)
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *sum.StreamDescriptionSummary.StreamARN, arnOf("us-east-1", acctB, name); got != want {
		t.Fatalf("StreamARN = %s, want %s", got, want)
	}
	bad := p.Client(withKey(keyB, secretA), func(o *kinesis.Options) { o.HTTPClient = h2 })
	_, err = bad.ListStreams(ctx, &kinesis.ListStreamsInput{})
	wantAPIError(t, err, "InvalidSignatureException", msgMismatch)

	// A signed request that certainly travels over HTTP/2.
	req := signedRequest(t, p.Endpoint, "ListStreams", "{}", keyB, secretB, time.Now())
	resp, err := testserver.InsecureHTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("signed raw request over TLS: %d %s", resp.StatusCode, resp.Proto)
	}
}
