package integration

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	tkinesis "github.com/tributary-data/tributary/internal/kinesis"
)

// TestAuthEveryAction: with -credentials no action, SubscribeToShard
// included, answers a request that is unsigned or signed with a wrong
// secret.
func TestAuthEveryAction(t *testing.T) {
	t.Parallel()
	p := authServer(t)
	names := tkinesis.ActionNames()
	if len(names) < 40 {
		t.Fatalf("only %d actions listed: %v", len(names), names)
	}
	for _, action := range names {
		t.Run(action, func(t *testing.T) {
			status, _, body := rawCall(t, p.Endpoint, action, "{}")
			if status != http.StatusBadRequest || !strings.Contains(string(body), "MissingAuthenticationTokenException") {
				t.Fatalf("unsigned %s = %d %s", action, status, body)
			}
			status, e := send(t, signedRequest(t, p.Endpoint, action, "{}", keyA, "wrong-secret", time.Now()))
			wantAuthError(t, status, e, "InvalidSignatureException", msgMismatch)
		})
	}
}

// TestAuthSubscribeToShard: an enhanced fan-out subscription needs a
// valid signature like every other action, through aws-sdk-go-v2.
func TestAuthSubscribeToShard(t *testing.T) {
	t.Parallel()
	p := authServer(t)
	a := p.Client(withKey(keyA, secretA))
	name := streamName(t)
	createStream(t, a, name, 1)
	ctx := ctxFor(t)
	sum, err := a.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := a.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: sum.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("c")})
	if err != nil {
		t.Fatal(err)
	}
	in := &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}}
	_, err = p.Client(withKey(keyA, "wrong-secret")).SubscribeToShard(ctx, in)
	wantAPIError(t, err, "InvalidSignatureException", msgMismatch)
	_, err = p.Client(withKey("AKIDNOBODY", secretA)).SubscribeToShard(ctx, in)
	wantAPIError(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")

	if _, err := a.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("signed")}); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	events, closeSub := subscribe(t, a, sctx, *reg.Consumer.ConsumerARN, "shardId-000000000000", *in.StartingPosition)
	defer closeSub()
	for ev := range events {
		if len(ev.Records) > 0 {
			if got := string(ev.Records[0].Data); got != "signed" {
				t.Fatalf("record = %q", got)
			}
			return
		}
	}
	t.Fatalf("the signed subscription ended without the record: %v", closeSub())
}

// TestAuthMetrics: with -credentials /metrics takes HTTP Basic
// credentials (what a Prometheus scrape config can send) or a SigV4
// signature, and refuses anything else with a Basic challenge.
func TestAuthMetrics(t *testing.T) {
	t.Parallel()
	p := authServer(t)
	get := func(t *testing.T, prep func(*http.Request)) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, p.Endpoint+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		prep(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	sign := func(secret string) func(*http.Request) {
		return func(r *http.Request) {
			creds := aws.Credentials{AccessKeyID: keyA, SecretAccessKey: secret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, sha256Hex(""), "kinesis", "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name string
		prep func(*http.Request)
		ok   bool
	}{
		{"no credentials", func(*http.Request) {}, false},
		{"basic, right", func(r *http.Request) { r.SetBasicAuth(keyA, secretA) }, true},
		{"basic, second key", func(r *http.Request) { r.SetBasicAuth(keyB, secretB) }, true},
		{"basic, wrong secret", func(r *http.Request) { r.SetBasicAuth(keyA, secretB) }, false},
		{"basic, unknown key", func(r *http.Request) { r.SetBasicAuth("AKIDNOBODY", secretA) }, false},
		{"basic, garbage", func(r *http.Request) {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(keyA)))
		}, false},
		{"sigv4, right", sign(secretA), true},
		{"sigv4, wrong secret", sign("wrong"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := get(t, tc.prep)
			if tc.ok {
				if status != http.StatusOK || !strings.Contains(body, "# TYPE ") {
					t.Fatalf("status %d: %.200s", status, body)
				}
				return
			}
			if status != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), `Basic realm="`) || strings.Contains(body, "# TYPE") {
				t.Fatalf("status %d, WWW-Authenticate %q: %.200s", status, h.Get("WWW-Authenticate"), body)
			}
		})
	}
}
