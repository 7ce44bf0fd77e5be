// Command tributary is the Tributary streaming platform in one binary.
//
//	tributary serve   run the server (Kinesis API) with its embedded store
//	tributary bench   measure put/get throughput, optionally against kinesalite
//	tributary version print the version
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tributary-data/tributary/internal/atomicfile"
	"github.com/tributary-data/tributary/internal/logging"
	"github.com/tributary-data/tributary/internal/server"
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
  tributary cluster <command> status of a cluster's nodes and logs, remove-node, stepdown
                              (see 'tributary cluster help')
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
	case "cluster":
		err = clusterCommand(ctx, args[1:], stdout, stderr)
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

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := server.RegisterFlags(fs)
	addrFile := fs.String("addr-file", "", "once serving, write the addresses both APIs listen on to this `file`, as JSON {\"kinesis\":\"host:port\",\"connect\":\"host:port\"}: how a script or test that starts serve with -listen 127.0.0.1:0 learns the ports it got")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := flags.Config(stderr)
	if err != nil {
		return usageError{err}
	}
	logging.RouteLibraries(cfg.Logger)
	cfg.Connect.Version, cfg.Connect.Commit = buildVersion(), buildCommit()

	srv, err := server.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if *addrFile != "" {
		if err := writeAddrFile(*addrFile, srv); err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return errors.Join(err, srv.Shutdown(sctx))
		}
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// writeAddrFile writes the addresses srv listens on to path, replacing it
// whole, so that a reader never sees half of it.
func writeAddrFile(path string, srv *server.Server) error {
	b, err := json.Marshal(map[string]string{"kinesis": srv.Addr(), "connect": srv.ConnectAddr()})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("-addr-file: %w", err)
	}
	return nil
}
