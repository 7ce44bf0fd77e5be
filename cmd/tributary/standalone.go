package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/kinesisstreams"
	"github.com/tributary-data/tributary/internal/connect/plugins"
	"github.com/tributary-data/tributary/internal/connect/properties"
	"github.com/tributary-data/tributary/internal/connect/rest"
	"github.com/tributary-data/tributary/internal/lockfile"
	"github.com/tributary-data/tributary/internal/logging"
	"github.com/tributary-data/tributary/internal/server"
)

// standalone is connect-standalone: one worker, connectors from
// properties files, offsets in offset.storage.file.filename, and streams
// reached through the Kinesis API at kinesis.endpoint (a Tributary
// server, or AWS Kinesis with the standard credential chain when unset).
func standalone(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("connect standalone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	logFlags := logging.Register(fs)
	const usage = "usage: tributary connect standalone worker.properties [connector.properties ...] (flags, before the files: -log-format text|json, -log-level LEVEL)"
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{errors.New(usage)}
	}
	args = fs.Args()
	if len(args) == 0 {
		return usageError{errors.New(usage)}
	}
	worker, err := properties.ParseFile(args[0])
	if err != nil {
		return fmt.Errorf("worker properties: %w", err)
	}
	log, lv, err := logFlags.Logger(stderr)
	if err != nil {
		return usageError{err}
	}
	logging.RouteLibraries(log)
	// Two workers on one offsets file would overwrite each other's
	// commits: the second is refused while the first runs.
	offsets := worker["offset.storage.file.filename"]
	if offsets != "" {
		lock, err := lockOffsets(offsets)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	h, srv, ln, err := startStandalone(ctx, worker, offsets, log, lv)
	if err != nil {
		return err
	}
	log.Info("connect standalone worker started", "rest", ln.Addr().String(), "endpoint", worker["kinesis.endpoint"])
	stop := func() {
		log.Info("stopping: committing offsets")
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		h.Stop(sctx)
	}
	for _, path := range args[1:] {
		if err := configure(ctx, h, path); err != nil {
			// Connectors from earlier files may be running: stop them
			// cleanly, so their offsets are committed.
			stop()
			return err
		}
		log.Info("connector configured", "file", path)
	}
	<-ctx.Done()
	stop()
	return nil
}

// startStandalone starts the worker's herder and binds its REST API,
// not yet serving.
func startStandalone(ctx context.Context, worker map[string]string, offsets string, log *slog.Logger, lv *slog.LevelVar) (*connect.Herder, *http.Server, net.Listener, error) {
	streams, err := kinesisstreams.FromProperties(ctx, worker)
	if err != nil {
		return nil, nil, nil, err
	}
	kv, err := connect.OpenFileKV(offsets)
	if err != nil {
		return nil, nil, nil, err
	}
	addr, err := listenAddr(worker)
	if err != nil {
		return nil, nil, nil, usageError{err}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listen %s: %w (set another address with listeners=http://HOST:PORT in the worker properties)", addr, err)
	}
	h := connect.NewHerder(connect.WorkerConfig{WorkerID: ln.Addr().String(), Props: worker,
		Registry: plugins.Registry(buildVersion()), Streams: streams, KV: kv, Logger: log})
	if err := h.Start(ctx); err != nil {
		_ = ln.Close()
		return nil, nil, nil, err
	}
	api, err := rest.New(rest.Config{Version: buildVersion(), Commit: buildCommit(), ClusterID: "standalone", Herder: h,
		Logger: log, Loggers: rest.NewLoggers(lv)})
	if err != nil {
		h.Stop(context.Background())
		_ = ln.Close()
		return nil, nil, nil, err
	}
	// The REST port has serve's default connection bounds.
	var hc server.HTTPConfig
	srv := hc.NewHTTPServer(api, log)
	go func() { _ = srv.Serve(hc.Limit(ln, "Connect REST API", log)) }()
	return h, srv, ln, nil
}

// configure creates or updates the connector a properties file
// describes.
func configure(ctx context.Context, h *connect.Herder, path string) error {
	props, err := properties.ParseFile(path)
	if err != nil {
		return fmt.Errorf("connector properties: %w", err)
	}
	name := strings.TrimSpace(props["name"])
	if name == "" {
		return fmt.Errorf("%s: the connector has no name", path)
	}
	if _, _, err := h.PutConnectorConfig(ctx, name, props); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// lockOffsets takes the lock of an offsets file: a flock on a sibling
// "<file>.lock", since the offsets file itself is replaced on every
// commit.
func lockOffsets(path string) (*lockfile.Lock, error) {
	l, err := lockfile.Acquire(path + ".lock")
	var held *lockfile.HeldError
	if errors.As(err, &held) {
		return nil, fmt.Errorf("offsets file %s is in use by another worker (%s); stop it, or give this worker another offset.storage.file.filename", path, held.Holder)
	}
	if err != nil {
		return nil, fmt.Errorf("offset.storage.file.filename: %w", err)
	}
	return l, nil
}

// listenAddr reads Kafka's `listeners` worker setting (the first
// http:// listener). Unlike Kafka, which listens on every interface, the
// default is loopback: listeners=http://:8083 serves the network.
func listenAddr(worker map[string]string) (string, error) {
	l := strings.TrimSpace(worker["listeners"])
	if l == "" {
		return "127.0.0.1:8083", nil
	}
	first := strings.TrimSpace(strings.Split(l, ",")[0])
	u, err := url.Parse(first)
	if err != nil || u.Scheme != "http" {
		return "", fmt.Errorf("listeners=%s: only an http:// listener is supported", l)
	}
	return u.Host, nil
}
