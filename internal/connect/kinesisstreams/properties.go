package kinesisstreams

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
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

// localRegion is the region used with an endpoint when nothing names
// one; a Tributary server serves it by default.
const localRegion = "us-east-1"

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
	return New(sdkclient.FromConfig(ctx, cfg, endpoint, optFns...)), nil
}
