package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/cdc/maxwell"
	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/kinesisstreams"
	"github.com/tributary-data/tributary/internal/connect/properties"
	"github.com/tributary-data/tributary/internal/sdkclient"
)

const maxwellUsage = `Usage:
  tributary maxwell [--config config.properties] [--key=value ...]
      Run Maxwell's daemon: read a MySQL/MariaDB binlog and write each row
      as Maxwell's JSON to the producer (stdout, file or kinesis). Settings
      are Maxwell's config.properties keys; a --key=value (or --key value,
      or --flag for true) on the command line overrides the file. Without
      --config, ./config.properties is read if it exists. For
      producer=kinesis, kinesis_endpoint and kinesis_region (or the Region
      and CustomEndpoint/Port of kinesis-producer-library.properties,
      found via kpl_properties, in the working directory, or next to the
      config file) say where the Kinesis API is. As with the KPL, a host
      in the KPL file means HTTPS (VerifyCertificate=false for a
      self-signed certificate) and records are KPL-aggregated unless
      AggregationEnabled=false; kinesis_endpoint=http://host:port reaches
      a plain-HTTP server.

  tributary maxwell bootstrap [--config config.properties] --database DB --table TABLE
                              [--where CLAUSE] [--comment TEXT] [--key=value ...]
      Request a bootstrap of DB.TABLE, as maxwell-bootstrap does: insert it
      into the schema database's bootstrap table, for the running daemon with
      the same client_id to carry out. Prints the request's id.

  The daemon also takes --log-format text|json, the format of its log on
  stderr (the level is Maxwell's --log_level). It keeps its position in
  MySQL (schema_database), not in local files.
`

// maxwellCommand runs `tributary maxwell`.
func maxwellCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "bootstrap" {
		return maxwellBootstrap(ctx, args[1:], stdout, stderr)
	}
	logFormat, args, err := logFormatArg(args)
	if err != nil {
		return err
	}
	configPath, opts, err := maxwellArgs(args, nil)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, maxwellUsage)
		}
		return err
	}
	props, err := maxwellProperties(configPath, opts)
	if err != nil {
		return err
	}
	cfg, err := maxwell.ParseConfig(props)
	if err != nil {
		return usageError{fmt.Errorf("maxwell: %w", err)}
	}
	lv := new(slog.LevelVar)
	lv.Set(cfg.LogLevel)
	log, err := maxwellLogger(stderr, logFormat, lv)
	if err != nil {
		return err
	}
	var streams connect.Streams
	if cfg.Producer == maxwell.ProducerKinesis {
		var opts []func(*kinesis.Options)
		if cfg.KinesisSkipVerify {
			opts = append(opts, skipVerify)
		}
		s, err := kinesisstreams.FromProperties(ctx, map[string]string{
			kinesisstreams.PropEndpoint: cfg.KinesisEndpoint,
			kinesisstreams.PropRegion:   cfg.KinesisRegion,
		}, opts...)
		if err != nil {
			return fmt.Errorf("maxwell: %w", err)
		}
		streams = s
	}
	return maxwell.Run(ctx, cfg, streams, stdout, log)
}

// skipVerify makes the Kinesis client accept any server certificate, as
// the KPL does with VerifyCertificate=false (for a server with a
// self-signed certificate, such as `tributary serve -tls-self-signed`).
func skipVerify(o *kinesis.Options) {
	client := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the user's VerifyCertificate=false
	})
	o.HTTPClient = sdkclient.Stable(client)
}

// maxwellBootstrap runs `tributary maxwell bootstrap`.
func maxwellBootstrap(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	extra := map[string]bool{"database": true, "table": true, "where": true, "comment": true}
	configPath, opts, err := maxwellArgs(args, extra)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, maxwellUsage)
		}
		return err
	}
	database, table, where, comment := opts["database"], opts["table"], opts["where"], opts["comment"]
	for k := range extra {
		delete(opts, k)
	}
	if database == "" {
		return usageError{errors.New("maxwell bootstrap: please specify a database (--database)")}
	}
	if table == "" {
		return usageError{errors.New("maxwell bootstrap: please specify a table (--table)")}
	}
	props, err := maxwellProperties(configPath, opts)
	if err != nil {
		return err
	}
	// Only the MySQL settings matter here, not the producer's.
	props["producer"] = maxwell.ProducerNone
	cfg, err := maxwell.ParseConfig(props)
	if err != nil {
		return usageError{fmt.Errorf("maxwell bootstrap: %w", err)}
	}
	id, err := maxwell.RequestBootstrap(ctx, cfg, database, table, where, comment)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bootstrap %d requested for %s.%s (client_id %s)\n", id, database, table, cfg.ClientID)
	return nil
}

// maxwellArgs reads Maxwell-style options: --key=value, --key value, and
// --key alone for a boolean setting. Keys are Maxwell's settings plus
// extra; anything else is an error, as in Maxwell.
func maxwellArgs(args []string, extra map[string]bool) (string, map[string]string, error) {
	opts := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			return "", nil, usageError{fmt.Errorf("maxwell: unexpected argument %q", a)}
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			return "", nil, flag.ErrHelp
		}
		if !extra[name] && !maxwell.KnownKey(name) {
			return "", nil, usageError{fmt.Errorf("maxwell: %s is not a recognized option", a)}
		}
		if !hasValue {
			next := ""
			if i+1 < len(args) {
				next = args[i+1]
			}
			switch {
			case maxwell.IsBooleanKey(name):
				value = "true"
				if l := strings.ToLower(next); l == "true" || l == "false" {
					value = next
					i++
				}
			case i+1 < len(args) && !strings.HasPrefix(next, "--"):
				value = next
				i++
			default:
				return "", nil, usageError{fmt.Errorf("maxwell: option %s requires a value", a)}
			}
		}
		opts[name] = value
	}
	configPath := opts["config"]
	delete(opts, "config")
	return configPath, opts, nil
}

// maxwellProperties merges Maxwell's configuration sources in its order
// of precedence: command line, then environment variables named by
// env_config_prefix, then the properties file.
func maxwellProperties(configPath string, opts map[string]string) (map[string]string, error) {
	props := map[string]string{}
	path := configPath
	if path == "" {
		path = "config.properties"
	}
	p, err := properties.ParseFile(path)
	switch {
	case err == nil:
		props = p
	case configPath != "" || !errors.Is(err, os.ErrNotExist):
		return nil, usageError{fmt.Errorf("maxwell: couldn't read config file: %w", err)}
	}
	prefix := opts["env_config_prefix"]
	if prefix == "" {
		prefix = props["env_config_prefix"]
	}
	if prefix = strings.ToLower(strings.TrimSpace(prefix)); prefix != "" {
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			if lk := strings.ToLower(k); strings.HasPrefix(lk, prefix) {
				props[strings.TrimPrefix(lk, prefix)] = v
			}
		}
	}
	for k, v := range opts {
		props[k] = v
	}
	if props[maxwell.KeyKPLProperties] == "" {
		// Maxwell's KPL reads the file from the working directory;
		// Tributary also looks next to the config file.
		candidates := []string{maxwell.KPLFile}
		if configPath != "" {
			candidates = append(candidates, filepath.Join(filepath.Dir(configPath), maxwell.KPLFile))
		}
		for _, c := range candidates {
			if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
				props[maxwell.KeyKPLProperties] = c
				break
			}
		}
	}
	return props, nil
}
