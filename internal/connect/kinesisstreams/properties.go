package kinesisstreams

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/sdkclient"
)

// Worker properties FromProperties reads.
const (
	// PropEndpoint is the Kinesis API's base URL, such as
	// http://localhost:4567 for a local Tributary server. Empty means
	// AWS's own endpoint resolution (the region's Kinesis endpoint, or
	// AWS_ENDPOINT_URL_KINESIS and friends).
	PropEndpoint = "kinesis.endpoint"
	// PropRegion is the region to sign requests for. Empty means the
	// standard AWS chain (AWS_REGION, the shared config profile), and
	// us-east-1 when an endpoint is set and that chain has none.
	PropRegion = "kinesis.region"
)

const (
	// localRegion is the region used with an endpoint when nothing names
	// one; a Tributary server serves it by default.
	localRegion = "us-east-1"
	// credentialProbeTimeout bounds the look for credentials when an
	// endpoint is set. The chain ends at the EC2 instance metadata
	// service, which on other hosts answers only by timing out.
	credentialProbeTimeout = 5 * time.Second
	// dummyAccessKey and dummySecretKey sign requests to an endpoint when
	// no credentials are found. A Tributary server that does not check
	// signatures takes them (as its default account); AWS would not.
	dummyAccessKey = "tributary"
	dummySecretKey = "tributary"
)

// FromProperties builds Streams from a connect worker's properties
// (PropEndpoint, PropRegion), taking credentials from the standard AWS
// chain (environment, shared files, SSO, web identity, container and
// instance roles), so the same worker configuration works against AWS and
// against a Tributary server. When an endpoint is set and the chain has no
// credentials, it signs with static dummy ones, so that a local Tributary
// server works without any AWS setup. The SDK's default retries apply to
// each call; ctx bounds only the loading of the configuration. optFns
// change the client's options after these (a caller's own HTTP client,
// for instance).
func FromProperties(ctx context.Context, props map[string]string, optFns ...func(*kinesis.Options)) (*Streams, error) {
	endpoint := strings.TrimSpace(props[PropEndpoint])
	region := strings.TrimSpace(props[PropRegion])
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("kinesisstreams: %s %q is not an http(s) URL", PropEndpoint, endpoint)
		}
	}
	var loadOpts []func(*config.LoadOptions) error
	if region != "" {
		loadOpts = append(loadOpts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("kinesisstreams: load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if endpoint == "" {
			return nil, fmt.Errorf("kinesisstreams: no region: set %s, AWS_REGION or a region in the AWS config file", PropRegion)
		}
		cfg.Region = localRegion
	}
	if endpoint != "" && !hasCredentials(ctx, cfg.Credentials) {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(dummyAccessKey, dummySecretKey, "")
	}
	// The configuration's HTTP client keeps its TLS roots
	// (AWS_CA_BUNDLE) and proxies; sdkclient.Stable removes an SDK race
	// that fails, and on retry duplicates, requests.
	httpClient := sdkclient.Stable(cfg.HTTPClient)
	client := kinesis.NewFromConfig(cfg, append([]func(*kinesis.Options){func(o *kinesis.Options) {
		o.HTTPClient = httpClient
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}}, optFns...)...)
	return New(client), nil
}

// hasCredentials reports whether the credential chain yields credentials
// within credentialProbeTimeout. Those it finds stay cached in the
// provider for the client's first requests.
func hasCredentials(ctx context.Context, p aws.CredentialsProvider) bool {
	if p == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, credentialProbeTimeout)
	defer cancel()
	c, err := p.Retrieve(ctx)
	return err == nil && c.HasKeys()
}
