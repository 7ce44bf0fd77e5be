// Command tributary is the Tributary streaming platform in one binary.
//
//	tributary serve   run the server (Kinesis API) with its embedded store
//	tributary bench   measure put/get throughput, optionally against kinesalite
//	tributary version print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tributary-data/tributary/internal/connect/properties"
	"github.com/tributary-data/tributary/internal/logging"
	"github.com/tributary-data/tributary/internal/server"
	"github.com/tributary-data/tributary/internal/store"
)

const usage = `Tributary: a Kinesis-compatible streaming platform in one binary.

Usage:
  tributary serve [flags]     run the server with its embedded store (Kinesis API on
                              127.0.0.1:4567, Connect REST API on 127.0.0.1:8083)
  tributary connect <command> manage connectors (list, create, status, ...), or run
                              'tributary connect standalone worker.properties connector.properties...'
  tributary maxwell --config config.properties [--key=value ...]
                              Maxwell's daemon: MySQL/MariaDB changes as Maxwell JSON to Kinesis,
                              stdout or a file ('tributary maxwell bootstrap' re-reads a table)
  tributary streams <command> list, create, describe, put to and tail Kinesis streams
                              (see 'tributary streams help')
  tributary bench [flags]     benchmark PutRecords/GetRecords (see docs/benchmarks.md)
  tributary version           print the version and commit (also --version)

Run 'tributary <command> -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes a subcommand and returns the process exit code: 0 on
// success, 2 for a usage error, 1 for any other failure.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "connect":
		switch {
		case len(args) < 2:
			err = connectClient(ctx, "", nil, stdout, stderr)
		case args[1] == "standalone":
			err = standalone(ctx, args[2:], stderr)
		default:
			err = connectClient(ctx, args[1], args[2:], stdout, stderr)
		}
	case "maxwell":
		err = maxwellCommand(ctx, args[1:], stdout, stderr)
	case "streams":
		err = streamsCommand(ctx, args[1:], os.Stdin, stdout, stderr)
	case "bench":
		err = runBench(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version", "-v":
		fmt.Fprintln(stdout, versionLine())
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "tributary: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "tributary:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "tributary:", err)
		return 1
	}
}

// usageError marks errors in how a command was invoked.
type usageError struct{ error }

// serveFlags registers the server's flags on fs and returns the config
// they fill in.
func serveFlags(fs *flag.FlagSet) (*server.Config, *string, *logging.Flags) {
	cfg := &server.Config{}
	fs.StringVar(&cfg.Addr, "listen", "127.0.0.1:4567", "address for the Kinesis API (HTTP/1.1 and cleartext HTTP/2), /health and /metrics; ':4567' serves every interface")
	fs.StringVar(&cfg.Store.Dir, "data-dir", "./data", "directory for stored data")
	fs.BoolVar(&cfg.Store.InMemory, "in-memory", false, "keep everything in memory; nothing survives a restart")
	durability := fs.String("durability", string(store.Interval), "when writes are acknowledged: 'interval' (after the OS has them; fsync every -sync-interval) or 'sync' (after fsync)")
	fs.DurationVar(&cfg.Store.SyncInterval, "sync-interval", time.Second, "how often to fsync in interval durability")
	fs.Func("max-store-bytes", "most `bytes` the store may keep (memory with -in-memory); past it writes fail with a retriable InternalFailure until streams are deleted or records expire (default 0: no limit but the disk, of which a reserve is kept free)", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("want a number of bytes, 0 or more")
		}
		cfg.Store.MaxBytes = n
		return nil
	})
	fs.DurationVar(&cfg.Kinesis.CreateDelay, "create-stream-delay", 500*time.Millisecond, "how long a new stream stays CREATING")
	fs.DurationVar(&cfg.Kinesis.DeleteDelay, "delete-stream-delay", 500*time.Millisecond, "how long a deleted stream stays DELETING")
	fs.DurationVar(&cfg.Kinesis.UpdateDelay, "update-stream-delay", 500*time.Millisecond, "how long a stream stays UPDATING after a reshard")
	fs.IntVar(&cfg.Kinesis.ShardLimit, "shard-limit", 500, "open shards allowed per account and region")
	fs.StringVar(&cfg.Kinesis.DefaultAccount, "account-id", "000000000000", "account of requests whose access key id is not a 12-digit account id (unused with -credentials)")
	fs.StringVar(&cfg.Kinesis.DefaultRegion, "region", "us-east-1", "region of requests that carry no credential scope")
	fs.DurationVar(&cfg.Kinesis.RetentionHour, "retention-hour", time.Hour, "length of one hour of retention (shorten only for testing expiry)")
	fs.Func("master-key-file", "file holding the master key (32 bytes or more) that stream encryption and stored connector configurations derive their keys from; default: a key kept in the data directory", func(path string) error {
		key, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if len(key) < 32 {
			return fmt.Errorf("%s holds %d bytes; a master key needs at least 32", path, len(key))
		}
		cfg.Kinesis.MasterKey = key
		return nil
	})
	fs.BoolVar(&cfg.Kinesis.Throttle, "throttle", false, "enforce AWS's per-shard throughput limits on provisioned streams")
	fs.DurationVar(&cfg.Kinesis.SubscriptionDuration, "subscription-duration", 5*time.Minute, "how long a SubscribeToShard lasts (shorten only for testing)")
	fs.StringVar(&cfg.CredentialsFile, "credentials", "", "`file` of 'ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID' lines; when set, every request must carry a valid SigV4 signature by one of these keys (default: open, signatures not checked)")
	fs.StringVar(&cfg.TLS.CertFile, "tls-cert", "", "PEM certificate `file`: serve HTTPS (HTTP/1.1 and HTTP/2); needs -tls-key")
	fs.StringVar(&cfg.TLS.KeyFile, "tls-key", "", "PEM private key `file` for -tls-cert")
	fs.BoolVar(&cfg.TLS.SelfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate for localhost and this host, kept in the data directory's tls/ and reused (its SHA-256 fingerprint is logged)")
	fs.StringVar(&cfg.Connect.Addr, "connect-listen", "127.0.0.1:8083", "address for the Kafka Connect REST API (HTTPS with TLS); ':8083' serves every interface, empty disables the connector runtime")
	fs.Func("connect-worker-config", "connect-distributed worker properties `file` (default converters, offset.flush.interval.ms, ...)", func(path string) error {
		props, err := properties.ParseFile(path)
		cfg.Connect.WorkerProps = props
		return err
	})
	fs.Func("connect-allowed-paths", "comma-separated `directories` that file connectors created through the REST API may read and write under (default: <data-dir>/files, none with -in-memory)", func(v string) error {
		cfg.Connect.AllowedPaths = []string{}
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				cfg.Connect.AllowedPaths = append(cfg.Connect.AllowedPaths, d)
			}
		}
		return nil
	})
	cfg.HTTP.RegisterFlags(fs)
	return cfg, durability, logging.Register(fs)
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, durability, logFlags := serveFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))}
	}
	d, err := store.ParseDurability(*durability)
	if err != nil {
		return usageError{err}
	}
	cfg.Store.Durability = d
	lg, lv, err := logFlags.Logger(stderr)
	if err != nil {
		return usageError{err}
	}
	logging.RouteLibraries(lg)
	cfg.Logger = lg
	cfg.Connect.LogLevel, cfg.Connect.Version, cfg.Connect.Commit = lv, buildVersion(), buildCommit()

	srv, err := server.Start(ctx, *cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
