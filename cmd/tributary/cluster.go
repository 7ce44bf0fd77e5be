package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/tributary-data/tributary/internal/server"
)

const clusterUsage = `Usage: tributary cluster <command> [flags] [arguments]

Look at and operate a Tributary cluster through any of its nodes.

Commands:
  status [-o table|json]        the nodes (address, current/offline, last seen, lag), the
                                JetStream meta leader, and every log (shard log or metadata)
                                with its leader and replicas; under-replicated logs are flagged
  remove-node NAME              remove a node that is gone for good (it must be stopped);
                                JetStream moves its replicas elsewhere, or onto a new node
                                when one joins
  stepdown [-log NAME]          have the JetStream meta leader (or a log's leader) hand its
                                leadership to another node, e.g. before restarting its node

Every command takes -endpoint, a node's Kinesis API URL (default $TRIBUTARY_ENDPOINT, else
http://127.0.0.1:4567), and -region. Requests are SigV4-signed with the usual AWS
credentials when there are any (a server started with -credentials requires it).
See docs/operations.md.
`

// clusterTimeout bounds one cluster command's request.
const clusterTimeout = 60 * time.Second

// clusterCommand runs "tributary cluster <sub> args...".
func clusterCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, clusterUsage)
		return nil
	case "":
		fmt.Fprint(stderr, clusterUsage)
		return usageError{errors.New("cluster: missing command")}
	case "status", "remove-node", "stepdown":
	default:
		fmt.Fprint(stderr, clusterUsage)
		return usageError{fmt.Errorf("cluster: unknown command %q", sub)}
	}
	fs := flag.NewFlagSet("cluster "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultEndpoint(), "a node's Kinesis API `URL` (env TRIBUTARY_ENDPOINT)")
	region := fs.String("region", "", "`region` to sign requests for (default $AWS_REGION or the AWS config's, else us-east-1)")
	var output, log string
	switch sub {
	case "status":
		fs.StringVar(&output, "o", "table", "output `format`: table or json")
		fs.StringVar(&output, "output", "table", "same as -o")
	case "stepdown":
		fs.StringVar(&log, "log", "", "the log (JetStream stream, as status lists it) whose leader steps down; default the meta leader")
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{fmt.Errorf("cluster %s: %w", sub, err)}
	}
	if err := checkClusterArgs(sub, pos, *endpoint, output); err != nil {
		return usageError{fmt.Errorf("cluster %s: %w", sub, err)}
	}
	c, err := newClusterClient(ctx, *endpoint, *region)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	switch sub {
	case "status":
		var st server.ClusterStatus
		if err := c.do(ctx, http.MethodGet, "/cluster/status", nil, &st); err != nil {
			return err
		}
		if output == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(st)
		}
		printClusterStatus(stdout, &st)
	case "remove-node":
		if err := c.do(ctx, http.MethodPost, "/cluster/remove-node", url.Values{"node": {pos[0]}}, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s from the cluster; its replicas move to other nodes, or onto a new node when one joins\n", pos[0])
	case "stepdown":
		var res struct{ Leader string }
		q := url.Values{}
		if log != "" {
			q.Set("log", log)
		}
		if err := c.do(ctx, http.MethodPost, "/cluster/stepdown", q, &res); err != nil {
			return err
		}
		what := "meta leader"
		if log != "" {
			what = "leader of " + log
		}
		fmt.Fprintf(stdout, "new %s: %s\n", what, res.Leader)
	}
	return nil
}

// checkClusterArgs checks what the flag package cannot.
func checkClusterArgs(sub string, pos []string, endpoint, output string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-endpoint: %q is not an http:// or https:// URL", endpoint)
	}
	want := 0
	if sub == "remove-node" {
		want = 1
	}
	switch {
	case len(pos) < want:
		return errors.New("missing node name")
	case len(pos) > want:
		return fmt.Errorf("unexpected argument %q", pos[want])
	case sub == "status" && output != "table" && output != "json":
		return fmt.Errorf("-o: %q is not table or json", output)
	}
	return nil
}

// clusterClient calls a node's /cluster endpoints.
type clusterClient struct {
	endpoint string
	hc       aws.HTTPClient
	creds    aws.CredentialsProvider // nil: unsigned
	region   string
}

// newClusterClient takes the HTTP client (AWS_CA_BUNDLE), credentials
// and region of the AWS configuration, as the streams commands do.
func newClusterClient(ctx context.Context, endpoint, region string) (*clusterClient, error) {
	load := []func(*config.LoadOptions) error{config.WithEC2IMDSClientEnableState(imds.ClientDisabled)}
	if region != "" {
		load = append(load, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	c := &clusterClient{endpoint: strings.TrimRight(endpoint, "/"), hc: cfg.HTTPClient, region: cfg.Region}
	if c.region == "" {
		c.region = streamsRegion
	}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if cfg.Credentials != nil {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cr, err := cfg.Credentials.Retrieve(pctx)
		cancel()
		if err == nil && cr.HasKeys() {
			c.creds = cfg.Credentials
		}
	}
	return c, nil
}

// do makes a request and decodes a JSON answer into out; an error
// answer becomes an error with the server's message.
func (c *clusterClient) do(ctx context.Context, method, path string, q url.Values, out any) error {
	u := c.endpoint + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	if c.creds != nil {
		cr, err := c.creds.Retrieve(ctx)
		if err != nil {
			return fmt.Errorf("AWS credentials: %w", err)
		}
		empty := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(ctx, cr, req, hex.EncodeToString(empty[:]), "kinesis", c.region, time.Now()); err != nil {
			return fmt.Errorf("sign the request: %w", err)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the Tributary node at %s: %w", c.endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", c.endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error, Message string }
		if json.Unmarshal(body, &e) == nil && e.Message != "" && e.Error != "" {
			return fmt.Errorf("error: %s (%s)", e.Message, e.Error)
		}
		msg := strings.TrimSpace(string(body))
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			msg = "no cluster operations at this endpoint (is it a Tributary node's Kinesis API, of a version that has them?)"
		}
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, msg)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: not a cluster status: %w", method, u, err)
	}
	return nil
}

// printClusterStatus prints the status as two tables, nodes and logs,
// and a summary of what is wrong.
func printClusterStatus(w io.Writer, st *server.ClusterStatus) {
	if !st.Clustered {
		fmt.Fprintf(w, "not clustered: node %s alone, every log has one replica\n\n", st.Node)
	} else {
		leader := st.MetaLeader
		if leader == "" {
			leader = "NONE (no quorum: no stream can be created, deleted or resharded)"
		}
		fmt.Fprintf(w, "cluster %s, seen from %s; meta leader: %s; replicas per log: %d\n\n", st.Cluster, st.Node, leader, st.Replicas)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDRESS\tSTATE\tLAST SEEN\tLAG")
	for _, n := range st.Nodes {
		state := "lagging"
		switch {
		case n.Offline:
			state = "offline"
		case n.Current:
			state = "current"
		}
		if n.MetaLeader {
			state += " (meta leader)"
		}
		seen := "-" // the meta leader itself, or a node not heard from since the leader was elected
		if n.LastSeen > 0 {
			seen = n.LastSeen.Round(time.Millisecond).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", n.Name, orDash(n.Address), state, seen, n.Lag)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOG\tHOLDS\tLEADER\tCURRENT\tREPLICAS")
	under, unavailable := 0, 0
	for _, l := range st.Logs {
		if l.UnderReplicated {
			under++
		}
		if l.Leader == "" && st.Clustered {
			unavailable++
		}
		var peers []string
		for _, p := range l.Peers {
			peers = append(peers, p.Node+":"+p.State())
		}
		if l.Error != "" {
			peers = append(peers, l.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\n", l.Name, logHolds(l), orDash(l.Leader), l.Current, l.Replicas, strings.Join(peers, " "))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d log(s), %d under-replicated, %d without a leader\n", len(st.Logs), under, unavailable)
	for _, warn := range st.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
}

// logHolds says what a log holds: the metadata, or a stream's shards.
func logHolds(l server.LogStatus) string {
	switch l.Holds {
	case "metadata":
		return "(metadata)"
	case "shards":
		if n := len(l.Shards); n > 1 {
			return fmt.Sprintf("%s %s..%s (%d shards)", l.Stream, l.Shards[0], l.Shards[n-1], n)
		}
		return l.Stream + " " + strings.Join(l.Shards, ",")
	}
	return "-"
}
