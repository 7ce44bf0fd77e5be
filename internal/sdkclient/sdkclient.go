// Package sdkclient builds the aws-sdk-go-v2 Kinesis clients that
// Tributary's own tools (tests, the benchmark) use against an endpoint.
package sdkclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// New returns a Kinesis client for endpoint with static credentials. The
// SDK's default retries apply unless optFns change them.
func New(endpoint, region, accessKey string, optFns ...func(*kinesis.Options)) *kinesis.Client {
	opts := kinesis.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, "secret", ""),
		HTTPClient:   Stable(awshttp.NewBuildableClient()),
	}
	return kinesis.New(opts, optFns...)
}

const (
	// dummyKey is the access key id and secret that sign requests to an
	// endpoint other than AWS's when the AWS chain has no credentials. A
	// Tributary server that does not check signatures takes them (as its
	// default account); AWS would not.
	dummyKey = "tributary"
	// credentialProbe bounds the look for credentials in the chain, which
	// ends at the EC2 instance metadata service: on other hosts that
	// answers only by timing out.
	credentialProbe = 5 * time.Second
)

// FromConfig returns a Kinesis client built from an AWS configuration,
// keeping its credential chain, TLS roots (AWS_CA_BUNDLE) and proxies,
// and with Stable's fix. A non-empty endpoint replaces AWS's; requests to
// it are signed with dummy credentials when the chain yields none, so
// that a local Tributary server works without any AWS setup. optFns
// change the client's options after these.
func FromConfig(ctx context.Context, cfg aws.Config, endpoint string, optFns ...func(*kinesis.Options)) *kinesis.Client {
	if endpoint != "" && !hasCredentials(ctx, cfg.Credentials) {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(dummyKey, dummyKey, "")
	}
	httpClient := Stable(cfg.HTTPClient)
	return kinesis.NewFromConfig(cfg, append([]func(*kinesis.Options){func(o *kinesis.Options) {
		o.HTTPClient = httpClient
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}}, optFns...)...)
}

// hasCredentials reports whether the credential chain yields credentials
// within credentialProbe. Those it finds stay cached in the provider for
// the client's first requests.
func hasCredentials(ctx context.Context, p aws.CredentialsProvider) bool {
	if p == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, credentialProbe)
	defer cancel()
	c, err := p.Retrieve(ctx)
	return err == nil && c.HasKeys()
}

// stableBodyClient works around a client-side race in aws-sdk-go-v2
// (aws/aws-sdk-go-v2#1825, #2737). The SDK closes a request's body as soon
// as the response arrives, but net/http's write loop may still read that
// body once more, to check it holds no more than Content-Length bytes. If
// the close wins, the read fails, and the transport closes the connection
// under the response being read: the call fails with "use of closed network
// connection" although the server answered. A server as fast as a local
// one makes the race frequent. The SDK only retries such failures, which
// can duplicate a PutRecords; handing the transport a body that survives
// Close removes the race instead.
type stableBodyClient struct{ next aws.HTTPClient }

// Stable wraps an SDK HTTP client (the one an AWS configuration built,
// with its TLS roots and proxies; nil for the SDK's default) with the
// fix for that race.
func Stable(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	return stableBodyClient{next: c}
}

func (c stableBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return c.next.Do(r)
}
