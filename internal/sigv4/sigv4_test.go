package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	exampleKey    = "AKIDEXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	exampleAcct   = "111122223333"
)

// suiteTime is the date of AWS's published SigV4 test suite.
var suiteTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

func newVerifier(t *testing.T, service string, now time.Time) *Verifier {
	t.Helper()
	v, err := New([]Credential{
		{AccessKeyID: exampleKey, SecretAccessKey: exampleSecret, Account: exampleAcct},
		{AccessKeyID: "AKIDOTHER", SecretAccessKey: "other-secret", Account: "444455556666"},
	}, Options{Service: service, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if e.Code != code || (msg != "" && e.Message != msg) {
		t.Fatalf("got %s: %q\nwant %s: %q", e.Code, e.Message, code, msg)
	}
}

// TestSigningKey is the derivation example from AWS's SigV4 documentation.
func TestSigningKey(t *testing.T) {
	got := hex.EncodeToString(SigningKey(exampleSecret, "20120215", "us-east-1", "iam"))
	if want := "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"; got != want {
		t.Fatalf("signing key = %s, want %s", got, want)
	}
}

// TestAWSSuite checks requests from AWS's published SigV4 test suite
// (aws-sig-v4-test-suite), whose signatures were computed by AWS.
func TestAWSSuite(t *testing.T) {
	v := newVerifier(t, "service", suiteTime)
	cases := []struct {
		name, method, target, body, sig string
		headers                         map[string]string
		signed                          string
	}{
		{"get-vanilla", "GET", "/", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", nil, "host;x-amz-date"},
		{"post-vanilla", "POST", "/", "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b", nil, "host;x-amz-date"},
		{"get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1", "", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", nil, "host;x-amz-date"},
		{"post-x-www-form-urlencoded", "POST", "/", "Param1=value1", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "content-type;host;x-amz-date"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
			r.Host = "example.amazonaws.com"
			r.Header.Set("X-Amz-Date", "20150830T123600Z")
			for k, val := range c.headers {
				r.Header.Set(k, val)
			}
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="+c.signed+", Signature="+c.sig)
			id, err := v.Verify(r, []byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if id != (Identity{AccessKeyID: exampleKey, Account: exampleAcct, Region: "us-east-1"}) {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
}

// TestSDKSigner sends requests signed by aws-sdk-go-v2's signer through a
// real HTTP server, so the verifier sees what net/http hands a handler.
func TestSDKSigner(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	v := newVerifier(t, "kinesis", now)
	var got error
	var gotID Identity
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		gotID, got = v.Verify(r, body)
	}))
	defer srv.Close()
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: exampleKey, SecretAccessKey: exampleSecret}
	cases := []struct {
		name, method, path, body string
		headers                  map[string][]string
		presign                  bool
	}{
		{name: "kinesis json", method: "POST", path: "/", body: `{"StreamName":"s"}`,
			headers: map[string][]string{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"Kinesis_20131202.ListStreams"}}},
		{name: "empty body", method: "POST", path: "/"},
		{name: "query and odd path", method: "GET", path: "/a%20b/c~d/?b=2&a=x%2Fy&a=1&empty=&sp=a%20b", body: ""},
		{name: "spaces and repeated header", method: "POST", path: "/", body: "x",
			headers: map[string][]string{"X-Custom": {"  a   b  ", "c"}, "X-Amz-Content-Sha256": {sha("x")}}},
		{name: "presigned", method: "POST", path: "/", body: `{}`, presign: true,
			headers: map[string][]string{"X-Amz-Target": {"Kinesis_20131202.ListStreams"}}},
		{name: "presigned with query", method: "GET", path: "/?z=1&a=2", presign: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, srv.URL+c.path, bytes.NewReader([]byte(c.body)))
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range c.headers {
				req.Header[k] = vs
			}
			if c.presign {
				u, hdr, err := signer.PresignHTTP(context.Background(), creds, req, sha(c.body), "kinesis", "eu-west-1", now)
				if err != nil {
					t.Fatal(err)
				}
				req, _ = http.NewRequest(c.method, u, bytes.NewReader([]byte(c.body)))
				req.Header = hdr
			} else if err := signer.SignHTTP(context.Background(), creds, req, sha(c.body), "kinesis", "eu-west-1", now); err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got != nil {
				t.Fatalf("verify: %v", got)
			}
			if gotID.Region != "eu-west-1" || gotID.Account != exampleAcct {
				t.Fatalf("identity = %+v", gotID)
			}
		})
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// signed returns a Kinesis request signed by the SDK signer at signTime.
func signed(t *testing.T, body, key, secret string, signTime time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Host = "localhost:4567"
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, sha(body), "kinesis", "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestErrors(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := newVerifier(t, "kinesis", now)
	const mismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

	t.Run("good", func(t *testing.T) {
		if _, err := v.Verify(signed(t, "{}", exampleKey, exampleSecret, now), []byte("{}")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/", nil)
		_, err := v.Verify(r, nil)
		wantErr(t, err, MissingAuthenticationToken, "Missing Authentication Token")
	})
	t.Run("both", func(t *testing.T) {
		r := signed(t, "{}", exampleKey, exampleSecret, now)
		r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
		_, err := v.Verify(r, []byte("{}"))
		wantErr(t, err, InvalidSignature, "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	})
	t.Run("incomplete header", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 ")
		_, err := v.Verify(r, nil)
		wantErr(t, err, IncompleteSignature, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 ")
	})
	t.Run("incomplete header signature only", func(t *testing.T) {
		r := signed(t, "{}", exampleKey, exampleSecret, now)
		auth := r.Header.Get("Authorization")
		auth = auth[:strings.Index(auth, ", Signature=")]
		r.Header.Set("Authorization", auth)
		_, err := v.Verify(r, []byte("{}"))
		wantErr(t, err, IncompleteSignature, "Authorization header requires 'Signature' parameter. Authorization="+auth)
	})
	t.Run("incomplete query", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/?X-Amz-Credential=a", nil)
		_, err := v.Verify(r, nil)
		wantErr(t, err, IncompleteSignature, "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.")
	})
	header := func(cred, signedHeaders string) *http.Request {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-Amz-Date", now.Format(amzDateFormat))
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+cred+", SignedHeaders="+signedHeaders+", Signature=00")
		return r
	}
	day := now.Format("20060102")
	for _, c := range []struct{ name, cred, signed, code, msg string }{
		{"short credential", "AKIDEXAMPLE/" + day, "host", IncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/" + day + "'"},
		{"terminator", "AKIDEXAMPLE/" + day + "/us-east-1/kinesis/aws5", "host", InvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5'. "},
		{"service", "AKIDEXAMPLE/" + day + "/us-east-1/s3/aws4_request", "host", InvalidSignature, "Credential should be scoped to correct service: 'kinesis'. "},
		{"region", "AKIDEXAMPLE/" + day + "/US_EAST/kinesis/aws4_request", "host", InvalidSignature, "Credential should be scoped to a valid region, not 'US_EAST'. "},
		{"host unsigned", "AKIDEXAMPLE/" + day + "/us-east-1/kinesis/aws4_request", "x-amz-date", InvalidSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"scope date", "AKIDEXAMPLE/20250101/us-east-1/kinesis/aws4_request", "host", InvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20250101' != '" + day + "', from '" + now.Format(amzDateFormat) + "'."},
		{"unknown key", "AKIDNOBODY/" + day + "/us-east-1/kinesis/aws4_request", "host", UnrecognizedClient, "The security token included in the request is invalid."},
		{"bad signature", "AKIDEXAMPLE/" + day + "/us-east-1/kinesis/aws4_request", "host", InvalidSignature, mismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Verify(header(c.cred, c.signed), nil)
			wantErr(t, err, c.code, c.msg)
		})
	}
	t.Run("bad date", func(t *testing.T) {
		r := signed(t, "{}", exampleKey, exampleSecret, now)
		r.Header.Set("X-Amz-Date", "yesterday")
		_, err := v.Verify(r, []byte("{}"))
		wantErr(t, err, IncompleteSignature, "Date must be in ISO-8601 'basic format'. Got 'yesterday'. See http://en.wikipedia.org/wiki/ISO_8601")
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := v.Verify(signed(t, "{}", exampleKey, "not-the-secret", now), []byte("{}"))
		wantErr(t, err, InvalidSignature, mismatch)
	})
	t.Run("other key's secret", func(t *testing.T) {
		_, err := v.Verify(signed(t, "{}", "AKIDOTHER", exampleSecret, now), []byte("{}"))
		wantErr(t, err, InvalidSignature, mismatch)
	})
	t.Run("tampered body", func(t *testing.T) {
		_, err := v.Verify(signed(t, `{"Limit":1}`, exampleKey, exampleSecret, now), []byte(`{"Limit":2}`))
		wantErr(t, err, InvalidSignature, mismatch)
	})
	t.Run("tampered signed header", func(t *testing.T) {
		r := signed(t, "{}", exampleKey, exampleSecret, now)
		r.Header.Set("X-Amz-Target", "Kinesis_20131202.DeleteStream")
		_, err := v.Verify(r, []byte("{}"))
		wantErr(t, err, InvalidSignature, mismatch)
	})
	t.Run("unsigned header added", func(t *testing.T) {
		r := signed(t, "{}", exampleKey, exampleSecret, now)
		r.Header.Set("X-Extra", "1")
		if _, err := v.Verify(r, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("content sha mismatch", func(t *testing.T) {
		r := signed(t, "{}", exampleKey, exampleSecret, now)
		r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		_, err := v.Verify(r, []byte("{}"))
		wantErr(t, err, InvalidSignature, mismatch)
	})
	t.Run("session token", func(t *testing.T) {
		r := signed(t, "{}", exampleKey, exampleSecret, now)
		r.Header.Set("X-Amz-Security-Token", "tok")
		_, err := v.Verify(r, []byte("{}"))
		wantErr(t, err, UnrecognizedClient, "The security token included in the request is invalid.")
	})
	t.Run("expired", func(t *testing.T) {
		_, err := v.Verify(signed(t, "{}", exampleKey, exampleSecret, now.Add(-20*time.Minute)), []byte("{}"))
		wantErr(t, err, InvalidSignature, "Signature expired: 20260102T024405Z is now earlier than 20260102T024905Z (20260102T030405Z - 15 min.)")
	})
	t.Run("within skew", func(t *testing.T) {
		for _, d := range []time.Duration{-15 * time.Minute, 15 * time.Minute} {
			if _, err := v.Verify(signed(t, "{}", exampleKey, exampleSecret, now.Add(d)), []byte("{}")); err != nil {
				t.Fatalf("%v: %v", d, err)
			}
		}
	})
	t.Run("not yet current", func(t *testing.T) {
		_, err := v.Verify(signed(t, "{}", exampleKey, exampleSecret, now.Add(16*time.Minute)), []byte("{}"))
		wantErr(t, err, InvalidSignature, "Signature not yet current: 20260102T032005Z is still later than 20260102T031905Z (20260102T030405Z + 15 min.)")
	})
	t.Run("date header", func(t *testing.T) {
		// A client signing with the Date header instead of X-Amz-Date.
		r := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
		r.Host = "localhost"
		r.Header.Set("Date", now.Format(http.TimeFormat))
		creq := "POST\n/\n\ndate:" + now.Format(http.TimeFormat) + "\nhost:localhost\n\ndate;host\n" + sha("{}")
		scope := day + "/us-east-1/kinesis/aws4_request"
		sts := Algorithm + "\n" + now.Format(amzDateFormat) + "\n" + scope + "\n" + sha(creq)
		sig := hex.EncodeToString(hmacSHA256(SigningKey(exampleSecret, day, "us-east-1", "kinesis"), sts))
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+scope+", SignedHeaders=date;host, Signature="+sig)
		if _, err := v.Verify(r, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("presigned expiry", func(t *testing.T) {
		req, _ := http.NewRequest("POST", "http://localhost/?X-Amz-Expires=60", nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: exampleKey, SecretAccessKey: exampleSecret},
			req, sha(""), "kinesis", "us-east-1", now.Add(-2*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("POST", u, nil)
		_, err = v.Verify(r, nil)
		wantErr(t, err, InvalidSignature, "Signature expired: 20260102T030205Z is now earlier than 20260102T030305Z (20260102T030405Z - 60 sec.)")
	})
}

func TestNewRejectsDuplicates(t *testing.T) {
	_, err := New([]Credential{{"a", "s", "111111111111"}, {"a", "t", "222222222222"}}, Options{})
	if err == nil {
		t.Fatal("duplicate access key accepted")
	}
}
