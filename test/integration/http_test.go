package integration

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// These tests speak HTTP directly, without the SDK, to pin the protocol
// edges of AWS JSON 1.1 that SDKs and hand-written clients rely on.

const jsonType = "application/x-amz-json-1.1"

type rawRequest struct {
	method, contentType, target, body string
}

func doRaw(t *testing.T, hc *http.Client, r rawRequest) (*http.Response, []byte) {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, shared.Endpoint+"/", strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.target != "" {
		req.Header.Set("X-Amz-Target", r.target)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// checkRequestIDs fails unless the response carries AWS's request id
// headers: a UUID x-amzn-RequestId and a base64 x-amz-id-2.
func checkRequestIDs(t *testing.T, h http.Header) {
	t.Helper()
	if id := h.Get("x-amzn-RequestId"); !uuidRE.MatchString(id) {
		t.Errorf("x-amzn-RequestId = %q, want a UUID", id)
	}
	id2, err := base64.StdEncoding.DecodeString(h.Get("x-amz-id-2"))
	if err != nil || len(id2) < 64 || len(id2) > 80 {
		t.Errorf("x-amz-id-2 = %q, want base64 of 64-80 bytes", h.Get("x-amz-id-2"))
	}
}

// TestProtocolResponses pins the status, content type and exact body of
// the protocol-level answers: success, unknown operations, bad content
// types, methods other than POST, serialization failures (with their
// capital-M "Message") and bodies that are not JSON objects; and that every
// one of them carries x-amzn-RequestId and x-amz-id-2.
func TestProtocolResponses(t *testing.T) {
	t.Parallel()
	const (
		accessDenied = "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n"
		bareSer      = `{"__type":"SerializationException"}`
		unknownOp    = `{"__type":"UnknownOperationException"}`
	)
	ser := func(msg string) string {
		b, _ := json.Marshal(map[string]string{"__type": "SerializationException", "Message": msg})
		return string(b)
	}
	tests := []struct {
		name       string
		req        rawRequest
		wantStatus int
		wantType   string // Content-Type; "" means none
		wantBody   string // exact; "" means check wantBodyRE
		wantBodyRE string
	}{
		{"success", rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStreams", body: `{"Limit":1}`},
			200, jsonType, "", `^\{"StreamNames":\[.*\],"HasMoreStreams":(true|false),"StreamSummaries":\[.*\]`},
		{"success with empty body", rawRequest{contentType: jsonType, target: "Kinesis_20131202.AddTagsToStream",
			body: `{"StreamName":"` + "http-protocol" + `","Tags":{"k":"v"}}`}, 200, jsonType, "", ""},
		{"unknown operation", rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStream", body: `{}`}, 400, jsonType, unknownOp, ""},
		{"empty operation", rawRequest{contentType: jsonType, target: "Kinesis_20131202.", body: `{}`}, 400, jsonType, unknownOp, ""},
		{"other service", rawRequest{contentType: jsonType, target: "DynamoDB_20120810.ListTables", body: `{}`}, 400, jsonType, unknownOp, ""},
		{"no target", rawRequest{contentType: jsonType, body: `{}`}, 400, jsonType, unknownOp, ""},
		{"bad content type", rawRequest{contentType: "text/plain", target: "Kinesis_20131202.ListStreams", body: `{}`}, 404, "", "<UnknownOperationException/>\n", ""},
		{"JSON 1.0 content type", rawRequest{contentType: "application/x-amz-json-1.0", target: "Kinesis_20131202.ListStreams", body: `{}`}, 404, "", "<UnknownOperationException/>\n", ""},
		{"no content type", rawRequest{target: "Kinesis_20131202.ListStreams", body: `{}`}, 404, "", "<UnknownOperationException/>\n", ""},
		{"bad content type without target", rawRequest{contentType: "text/plain", body: `{}`}, 403, "", accessDenied, ""},
		{"GET", rawRequest{method: http.MethodGet, target: "Kinesis_20131202.ListStreams"}, 403, "", accessDenied, ""},
		{"PUT", rawRequest{method: http.MethodPut, contentType: jsonType, target: "Kinesis_20131202.ListStreams", body: `{}`}, 403, "", accessDenied, ""},
		{"application/json", rawRequest{contentType: "application/json", target: "Kinesis_20131202.ListStreams", body: `{}`}, 404, "application/json",
			`{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException"},"Version":"1.0"}`, ""},
		{"application/json not an object", rawRequest{contentType: "application/json", target: "Kinesis_20131202.ListStreams", body: `hello`}, 400, "application/json",
			`{"Output":{"__type":"com.amazon.coral.service#SerializationException"},"Version":"1.0"}`, ""},

		// Wrong JSON types.
		{"ShardCount as a string", rawRequest{contentType: jsonType, target: "Kinesis_20131202.CreateStream", body: `{"StreamName":"s","ShardCount":"1"}`},
			400, jsonType, ser("class java.lang.String can not be converted to an Integer"), ""},
		{"StreamName as a number", rawRequest{contentType: jsonType, target: "Kinesis_20131202.DescribeStream", body: `{"StreamName":12}`},
			400, jsonType, ser("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"), ""},
		{"StreamName as a boolean", rawRequest{contentType: jsonType, target: "Kinesis_20131202.DescribeStream", body: `{"StreamName":true}`},
			400, jsonType, ser("class java.lang.Boolean can not be converted to an String"), ""},
		{"StreamName as a list", rawRequest{contentType: jsonType, target: "Kinesis_20131202.DescribeStream", body: `{"StreamName":[]}`},
			400, jsonType, ser("Start of list found where not expected"), ""},
		{"StreamName as an object", rawRequest{contentType: jsonType, target: "Kinesis_20131202.DescribeStream", body: `{"StreamName":{}}`},
			400, jsonType, ser("Start of structure or map found where not expected."), ""},
		{"Data not a multiple of 4", rawRequest{contentType: jsonType, target: "Kinesis_20131202.PutRecord", body: `{"StreamName":"s","PartitionKey":"k","Data":"abc"}`},
			400, jsonType, ser("'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"), ""},
		{"Data with an invalid character", rawRequest{contentType: jsonType, target: "Kinesis_20131202.PutRecord", body: `{"StreamName":"s","PartitionKey":"k","Data":"=+/="}`},
			400, jsonType, ser("'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"), ""},
		{"Data with a non-canonical end", rawRequest{contentType: jsonType, target: "Kinesis_20131202.PutRecord", body: `{"StreamName":"s","PartitionKey":"k","Data":"+/+="}`},
			400, jsonType, ser("'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"), ""},
		{"Data as a number", rawRequest{contentType: jsonType, target: "Kinesis_20131202.PutRecord", body: `{"StreamName":"s","PartitionKey":"k","Data":1}`},
			400, jsonType, ser("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob"), ""},
		{"Boolean as a string", rawRequest{contentType: jsonType, target: "Kinesis_20131202.DeleteStream", body: `{"StreamName":"s","EnforceConsumerDeletion":"yes"}`},
			400, jsonType, ser("'YES' can not be converted to an Boolean"), ""},
		{"Records as a string", rawRequest{contentType: jsonType, target: "Kinesis_20131202.PutRecords", body: `{"StreamName":"s","Records":"x"}`},
			400, jsonType, ser("Expected list or null"), ""},
		{"record as a string", rawRequest{contentType: jsonType, target: "Kinesis_20131202.PutRecords", body: `{"StreamName":"s","Records":["x"]}`},
			400, jsonType, ser("Expected null"), ""},
		{"Tags as a list", rawRequest{contentType: jsonType, target: "Kinesis_20131202.AddTagsToStream", body: `{"StreamName":"s","Tags":[]}`},
			400, jsonType, ser("Start of list found where not expected"), ""},
		{"Timestamp as a string", rawRequest{contentType: jsonType, target: "Kinesis_20131202.GetShardIterator",
			body: `{"StreamName":"s","ShardId":"0","ShardIteratorType":"AT_TIMESTAMP","Timestamp":"2020"}`},
			400, jsonType, ser("class java.lang.String can not be converted to milliseconds since epoch"), ""},

		// Bodies that are not a JSON object.
		{"empty body", rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStreams"}, 400, jsonType, bareSer, ""},
		{"empty body, unknown operation", rawRequest{contentType: jsonType, target: "Kinesis_20131202.Nope"}, 400, jsonType, unknownOp, ""},
		{"not JSON", rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStreams", body: `hello`}, 400, jsonType, bareSer, ""},
		{"malformed JSON", rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStreams", body: `{"Limit":`}, 400, jsonType, bareSer, ""},
		{"JSON null", rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStreams", body: `null`}, 400, jsonType, bareSer, ""},
		{"JSON number", rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStreams", body: `123`}, 400, jsonType, bareSer, ""},
		{"JSON string", rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStreams", body: `"x"`}, 400, jsonType, bareSer, ""},
		{"JSON true", rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStreams", body: `true`}, 400, jsonType, bareSer, ""},

		// Unknown and null members are ignored.
		{"unknown and null members", rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStreams", body: `{"Whatever":1,"Limit":null}`},
			200, jsonType, "", `^\{"StreamNames":`},
	}
	if _, err := client().CreateStream(ctxFor(t), &kinesis.CreateStreamInput{StreamName: aws.String("http-protocol"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, client(), "http-protocol", "ACTIVE")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := doRaw(t, http.DefaultClient, tc.req)
			checkRequestIDs(t, resp.Header)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", resp.StatusCode, tc.wantStatus, body)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tc.wantType)
			}
			if resp.ContentLength != int64(len(body)) {
				t.Errorf("Content-Length = %d for a %d-byte body", resp.ContentLength, len(body))
			}
			switch {
			case tc.wantBody != "":
				if string(body) != tc.wantBody {
					t.Errorf("body\n got: %q\nwant: %q", body, tc.wantBody)
				}
			case tc.wantBodyRE != "":
				if !regexp.MustCompile(tc.wantBodyRE).Match(body) {
					t.Errorf("body %q does not match %s", body, tc.wantBodyRE)
				}
			default:
				if len(body) != 0 {
					t.Errorf("body = %q, want empty", body)
				}
			}
		})
	}
}

// TestErrorBodyKeys pins that ordinary errors spell "message" in lower
// case and name the error in both __type and x-amzn-ErrorType.
func TestErrorBodyKeys(t *testing.T) {
	t.Parallel()
	resp, body := doRaw(t, http.DefaultClient, rawRequest{contentType: jsonType, target: "Kinesis_20131202.DescribeStream", body: `{"StreamName":"http-no-such-stream"}`})
	checkRequestIDs(t, resp.Header)
	want := `{"__type":"ResourceNotFoundException","message":"Stream http-no-such-stream under account 000000000000 not found."}`
	if resp.StatusCode != 400 || string(body) != want {
		t.Errorf("got %d %s, want 400 %s", resp.StatusCode, body, want)
	}
	if got := resp.Header.Get("x-amzn-ErrorType"); got != "ResourceNotFoundException" {
		t.Errorf("x-amzn-ErrorType = %q", got)
	}
}

// maxBody is the documented request size limit (docs/configuration.md).
const maxBody = 14 << 20

// putRecordBody is a PutRecord request body of exactly n bytes.
func putRecordBody(n int) string {
	head, tail := `{"StreamName":"s","PartitionKey":"k","Data":"`, `"}`
	return head + strings.Repeat("A", n-len(head)-len(tail)) + tail
}

// TestHugeBody pins that a request body over the documented 14 MiB limit
// is refused with AWS's bare 413, whether or not its length is declared,
// and that the server goes on serving.
func TestHugeBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		size    int
		chunked bool
	}{
		{"one byte over", maxBody + 1, false},
		{"one byte over, chunked", maxBody + 1, true},
		{"15 MB", 15_000_000, false},
		{"17 MiB, chunked", 17 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := putRecordBody(tc.size)
			var rd io.Reader = strings.NewReader(body)
			if tc.chunked {
				rd = io.MultiReader(rd) // hides the length: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, shared.Endpoint+"/", rd)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", jsonType)
			req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecord")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%d-byte request: %v", tc.size, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || len(b) != 0 {
				t.Errorf("%d bytes: got %d %.200q, want a bare 413", tc.size, resp.StatusCode, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "" {
				t.Errorf("413 Content-Type = %q, want none", ct)
			}
			checkRequestIDs(t, resp.Header)
			if _, err := client().ListStreams(ctxFor(t), &kinesis.ListStreamsInput{}); err != nil {
				t.Fatalf("server after a huge body: %v", err)
			}
		})
	}
}

// TestLargestBody pins that the limit leaves room for the largest request
// AWS accepts: a record of 10 MiB of data and partition key, the key
// written entirely in \u escapes.
func TestLargestBody(t *testing.T) {
	t.Parallel()
	c := client(fixedEndpoint(shared.Endpoint))
	name := streamName(t)
	createStream(t, c, name, 1)
	if _, err := c.UpdateMaxRecordSize(ctxFor(t), &kinesis.UpdateMaxRecordSizeInput{StreamARN: summary(t, c, name).StreamARN, MaxRecordSizeInKiB: aws.Int32(10240)}); err != nil {
		t.Fatal(err)
	}
	pk := strings.Repeat(`\u0001`, 256)
	data := base64.StdEncoding.EncodeToString(make([]byte, 10<<20-256))
	body := `{"StreamName":"` + name + `","PartitionKey":"` + pk + `","Data":"` + data + `"}`
	code, _, resp := rawCall(t, shared.Endpoint, "PutRecord", body)
	if code != http.StatusOK {
		t.Fatalf("%d-byte PutRecord: %d %s", len(body), code, resp)
	}
}

// TestHTTP2Cleartext pins that the endpoint speaks HTTP/2 over cleartext
// with prior knowledge (as the JS SDK v3 and KCL 2.x do), both for a raw
// request and for the SDK with an HTTP/2-only transport.
func TestHTTP2Cleartext(t *testing.T) {
	t.Parallel()
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protocols}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	resp, body := doRaw(t, hc, rawRequest{contentType: jsonType, target: "Kinesis_20131202.ListStreams", body: `{}`})
	if resp.ProtoMajor != 2 {
		t.Fatalf("protocol = %s, want HTTP/2", resp.Proto)
	}
	if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte(`{"StreamNames":[`)) {
		t.Fatalf("ListStreams over h2c: %d %s", resp.StatusCode, body)
	}
	checkRequestIDs(t, resp.Header)

	c := client(func(o *kinesis.Options) { o.HTTPClient = hc })
	ctx := ctxFor(t)
	name := streamName(t)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String(name[:len(name)-1])})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range out.StreamNames {
		found = found || n == name
	}
	if !found {
		t.Errorf("ListStreams over h2c did not list %s: %v", name, out.StreamNames)
	}
}
