package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// The keys of the authenticated server. Key B's id is a 12-digit number
// on purpose: with -credentials the file decides the account, not the
// open mode's "a 12-digit key is an account" convention.
const (
	keyA     = "AKIDALICE"
	secretA  = "alice-secret/with+chars"
	keyA2    = "AKIDALICE2"
	secretA2 = "alice-second-key"
	acctA    = "111111111111"
	keyB     = "999988887777"
	secretB  = "bob-secret"
	acctB    = "222222222222"

	msgMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// authServer starts a server that requires signatures by the keys above,
// with any extra flags.
func authServer(t *testing.T, flags ...string) *testserver.Proc {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials")
	file := "# test keys\n" + keyA + " " + secretA + " " + acctA + "\n" +
		keyA2 + "\t" + secretA2 + "\t" + acctA + "\n\n" + keyB + " " + secretB + " " + acctB + "\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	return inproc.Start(t, append([]string{"-credentials", path}, flags...)...)
}

// withKey makes a client sign with the given access key and secret.
func withKey(id, secret string) func(*kinesis.Options) {
	return func(o *kinesis.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
	}
}

// signedRequest builds a raw Kinesis request signed by aws-sdk-go-v2's
// signer at the given time.
func signedRequest(t *testing.T, endpoint, action, body, key, secret string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex(body), "kinesis", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return req
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// awsError is a decoded JSON error response.
type awsError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// send performs req and returns its status and decoded error (if any).
func send(t *testing.T, req *http.Request) (int, awsError) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e awsError
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("status %d, body %q: %v", resp.StatusCode, b, err)
		}
		if got := resp.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
			t.Errorf("error Content-Type = %q", got)
		}
	}
	return resp.StatusCode, e
}

// wantAuthError fails unless the response is AWS's 400 JSON error.
func wantAuthError(t *testing.T, status int, e awsError, typ, msg string) {
	t.Helper()
	if status != http.StatusBadRequest || e.Type != typ || e.Message != msg {
		t.Fatalf("got %d %s: %q\nwant 400 %s: %q", status, e.Type, e.Message, typ, msg)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	p := authServer(t)
	a := p.Client(withKey(keyA, secretA))
	b := p.Client(withKey(keyB, secretB))

	t.Run("KeysActAsTheirAccounts", func(t *testing.T) {
		name := streamName(t)
		createStream(t, a, name, 1)
		ctx := ctxFor(t)
		sum, err := a.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := *sum.StreamDescriptionSummary.StreamARN, arnOf("us-east-1", acctA, name); got != want {
			t.Fatalf("StreamARN = %s, want %s", got, want)
		}
		put, err := a.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("hello")})
		if err != nil {
			t.Fatal(err)
		}
		// A second key of the same account sees the stream and the record.
		a2 := p.Client(withKey(keyA2, secretA2))
		it := iterator(t, a2, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if got := dataOf(readAll(t, a2, it)); !equalStrings(got, []string{"hello"}) {
			t.Fatalf("records = %q", got)
		}
		// Another account's key does not.
		_, err = b.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		wantAPIError(t, err, "ResourceNotFoundException", "Stream "+name+" under account "+acctB+" not found.")
		list, err := b.ListStreams(ctx, &kinesis.ListStreamsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(list.StreamNames, name) {
			t.Fatalf("account %s lists %s, a stream of account %s", acctB, name, acctA)
		}
		// The region still comes from the credential scope.
		_, err = p.Client(withKey(keyA, secretA), testserver.WithRegion("eu-west-1")).DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		wantAPIError(t, err, "ResourceNotFoundException", "Stream "+name+" under account "+acctA+" not found.")
	})

	t.Run("NoAuthentication", func(t *testing.T) {
		status, _, body := rawCall(t, p.Endpoint, "ListStreams", "{}")
		var e awsError
		_ = json.Unmarshal(body, &e)
		wantAuthError(t, status, e, "MissingAuthenticationTokenException", "Missing Authentication Token")
	})

	t.Run("IncompleteHeader", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, p.Endpoint+"/", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
		auth := "AWS4-HMAC-SHA256 Credential=" + keyA + "/20260101/us-east-1/kinesis/aws4_request"
		req.Header.Set("Authorization", auth)
		status, e := send(t, req)
		wantAuthError(t, status, e, "IncompleteSignatureException",
			"Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "+
				"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization="+auth)
	})

	t.Run("UnknownAccessKey", func(t *testing.T) {
		_, err := p.Client(withKey("AKIDNOBODY", secretA)).ListStreams(ctxFor(t), &kinesis.ListStreamsInput{})
		wantAPIError(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")
	})

	t.Run("WrongSecret", func(t *testing.T) {
		_, err := p.Client(withKey(keyA, secretB)).ListStreams(ctxFor(t), &kinesis.ListStreamsInput{})
		wantAPIError(t, err, "InvalidSignatureException", msgMismatch)
	})

	t.Run("TamperedBody", func(t *testing.T) {
		req := signedRequest(t, p.Endpoint, "ListStreams", `{"Limit":1}`, keyA, secretA, time.Now())
		req.Body = io.NopCloser(strings.NewReader(`{"Limit":2}`))
		status, e := send(t, req)
		wantAuthError(t, status, e, "InvalidSignatureException", msgMismatch)
		// The untampered twin passes.
		if status, e := send(t, signedRequest(t, p.Endpoint, "ListStreams", `{"Limit":1}`, keyA, secretA, time.Now())); status != http.StatusOK {
			t.Fatalf("signed request: %d %+v", status, e)
		}
	})

	t.Run("ExpiredDate", func(t *testing.T) {
		at := time.Now().Add(-20 * time.Minute).UTC()
		status, e := send(t, signedRequest(t, p.Endpoint, "ListStreams", "{}", keyA, secretA, at))
		if status != http.StatusBadRequest || e.Type != "InvalidSignatureException" {
			t.Fatalf("got %d %+v, want InvalidSignatureException", status, e)
		}
		m := regexp.MustCompile(`^Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) - 15 min\.\)$`).FindStringSubmatch(e.Message)
		if m == nil {
			t.Fatalf("message %q", e.Message)
		}
		limit, _ := time.Parse("20060102T150405Z", m[2])
		now, _ := time.Parse("20060102T150405Z", m[3])
		if m[1] != at.Format("20060102T150405Z") || now.Sub(limit) != 15*time.Minute {
			t.Fatalf("message %q for a request signed at %s", e.Message, at.Format(time.RFC3339))
		}
	})

	t.Run("Presigned", func(t *testing.T) {
		presign := func(body string) (string, http.Header) {
			req, _ := http.NewRequest(http.MethodPost, p.Endpoint+"/", nil)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
			u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyA, SecretAccessKey: secretA},
				req, sha256Hex(body), "kinesis", "us-east-1", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return u, hdr
		}
		do := func(u string, hdr http.Header, body string) (int, awsError) {
			req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
			req.Header = hdr.Clone()
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
			return send(t, req)
		}
		u, hdr := presign("{}")
		if status, e := do(u, hdr, "{}"); status != http.StatusOK {
			t.Fatalf("presigned request: %d %+v", status, e)
		}
		// A forged signature.
		pu, _ := url.Parse(u)
		q := pu.Query()
		q.Set("X-Amz-Signature", strings.Repeat("0", 64))
		pu.RawQuery = q.Encode()
		status, e := do(pu.String(), hdr, "{}")
		wantAuthError(t, status, e, "InvalidSignatureException", msgMismatch)
		// Parameters missing.
		q.Del("X-Amz-Signature")
		q.Del("X-Amz-Date")
		pu.RawQuery = q.Encode()
		status, e = do(pu.String(), hdr, "{}")
		wantAuthError(t, status, e, "IncompleteSignatureException",
			"AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.")
		// Both forms at once.
		req := signedRequest(t, p.Endpoint, "ListStreams", "{}", keyA, secretA, time.Now())
		req.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
		status, e = send(t, req)
		wantAuthError(t, status, e, "InvalidSignatureException", "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	})

	t.Run("FramingErrorsComeFirst", func(t *testing.T) {
		// As on AWS, an unknown operation is reported before missing auth.
		status, _, body := rawCall(t, p.Endpoint, "NoSuchAction", "{}")
		if status != http.StatusBadRequest || !bytes.Contains(body, []byte("UnknownOperationException")) {
			t.Fatalf("got %d %s", status, body)
		}
	})
}

// TestOpenModeAcceptsAnySignature pins that without -credentials nothing
// is verified: a wrong secret, or no signature at all, still works.
func TestOpenModeAcceptsAnySignature(t *testing.T) {
	t.Parallel()
	if _, err := client(withKey("whoever", "wrong")).ListStreams(ctxFor(t), &kinesis.ListStreamsInput{}); err != nil {
		t.Fatal(err)
	}
	if status, _, body := rawCall(t, shared.Endpoint, "ListStreams", "{}"); status != http.StatusOK {
		t.Fatalf("unsigned request: %d %s", status, body)
	}
}
