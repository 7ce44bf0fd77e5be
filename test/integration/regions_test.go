package integration

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestMalformedRegions: the region of an unsigned request's credential
// scope becomes part of metadata keys and ARNs, so one that is not a
// region name (dots, wildcards, spaces, thousands of tokens) is refused
// as a signed server refuses it, with AWS's InvalidSignatureException,
// instead of reading another region's streams or failing with 500. The
// store is unharmed: writes go on working.
func TestMalformedRegions(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	put := func() {
		t.Helper()
		if _, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name),
			PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
			t.Fatalf("PutRecord: %v", err)
		}
	}
	put()
	for _, region := range []string{"us-east-1.x", "*", ">", "US_EAST", "eu west", "名前",
		strings.Repeat("a.", 3000) + "a", strings.Repeat("r", 5000) + ".x"} {
		label := region
		if len(label) > 20 {
			label = label[:20] + "..."
		}
		for _, action := range []string{"CreateStream", "DescribeAccountSettings", "ListStreams"} {
			for _, via := range []string{"header", "query"} {
				req, err := http.NewRequest(http.MethodPost, shared.Endpoint+"/", strings.NewReader(`{"StreamName":"r","ShardCount":1}`))
				if err != nil {
					t.Fatal(err)
				}
				cred := "AKID/20260101/" + region + "/kinesis/aws4_request"
				if via == "header" {
					if strings.ContainsAny(region, " \t") {
						continue // not expressible in the header's syntax
					}
					req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+cred+", SignedHeaders=host, Signature=00")
				} else {
					req.URL.RawQuery = "X-Amz-Credential=" + url.QueryEscape(cred)
				}
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var e struct {
					Type    string `json:"__type"`
					Message string `json:"message"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&e)
				resp.Body.Close()
				want := "Credential should be scoped to a valid region, not '" + region + "'. "
				if resp.StatusCode != http.StatusBadRequest || e.Type != "InvalidSignatureException" || e.Message != want {
					t.Errorf("%s in the %s, region %q: %d %s %.80q", action, via, label, resp.StatusCode, e.Type, e.Message)
				}
			}
		}
		put()
	}
}
