package server

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/connect/properties"
	"github.com/tributary-data/tributary/internal/logging"
	"github.com/tributary-data/tributary/internal/store"
)

// Flags are `tributary serve`'s flags. They live here rather than in the
// command so that tests can start an in-process server from the same
// flags a subprocess would be given (internal/testserver), and both read
// them one way.
type Flags struct {
	cfg        Config
	durability string
	log        *logging.Flags
	cluster    clusterFlags
	fs         *flag.FlagSet
}

// RegisterFlags registers the server's flags on fs.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	fs.StringVar(&f.cfg.Addr, "listen", "127.0.0.1:4567", "address for the Kinesis API (HTTP/1.1 and cleartext HTTP/2), /health and /metrics; ':4567' serves every interface")
	fs.StringVar(&f.cfg.Store.Dir, "data-dir", "./data", "directory for stored data")
	fs.BoolVar(&f.cfg.Store.InMemory, "in-memory", false, "keep everything in memory; nothing survives a restart")
	fs.StringVar(&f.durability, "durability", string(store.Interval), "when writes are acknowledged: 'interval' (after the OS has them; fsync every -sync-interval) or 'sync' (after fsync)")
	fs.DurationVar(&f.cfg.Store.SyncInterval, "sync-interval", time.Second, "how often to fsync in interval durability")
	fs.Func("max-store-bytes", "most `bytes` the store may keep (memory with -in-memory); past it writes fail with a retriable InternalFailure until streams are deleted or records expire (default 0: no limit but the disk, of which a reserve is kept free)", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("want a number of bytes, 0 or more")
		}
		f.cfg.Store.MaxBytes = n
		return nil
	})
	fs.DurationVar(&f.cfg.Kinesis.CreateDelay, "create-stream-delay", 500*time.Millisecond, "how long a new stream stays CREATING")
	fs.DurationVar(&f.cfg.Kinesis.DeleteDelay, "delete-stream-delay", 500*time.Millisecond, "how long a deleted stream stays DELETING")
	fs.DurationVar(&f.cfg.Kinesis.UpdateDelay, "update-stream-delay", 500*time.Millisecond, "how long a stream stays UPDATING after a reshard")
	fs.IntVar(&f.cfg.Kinesis.ShardLimit, "shard-limit", 500, "open shards allowed per account and region")
	fs.StringVar(&f.cfg.Kinesis.DefaultAccount, "account-id", "000000000000", "account of requests whose access key id is not a 12-digit account id (unused with -credentials)")
	fs.StringVar(&f.cfg.Kinesis.DefaultRegion, "region", "us-east-1", "region of requests that carry no credential scope")
	fs.DurationVar(&f.cfg.Kinesis.RetentionHour, "retention-hour", time.Hour, "length of one hour of retention (shorten only for testing expiry)")
	fs.Func("master-key-file", "file holding the master key (32 bytes or more) that stream encryption and stored connector configurations derive their keys from; default: a key kept in the data directory", func(path string) error {
		key, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if len(key) < 32 {
			return fmt.Errorf("%s holds %d bytes; a master key needs at least 32", path, len(key))
		}
		f.cfg.Kinesis.MasterKey = key
		return nil
	})
	fs.BoolVar(&f.cfg.Kinesis.Throttle, "throttle", false, "enforce AWS's per-shard throughput limits on provisioned streams")
	fs.DurationVar(&f.cfg.Kinesis.SubscriptionDuration, "subscription-duration", 5*time.Minute, "how long a SubscribeToShard lasts (shorten only for testing)")
	fs.StringVar(&f.cfg.CredentialsFile, "credentials", "", "`file` of 'ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID' lines; when set, every request must carry a valid SigV4 signature by one of these keys (default: open, signatures not checked)")
	fs.StringVar(&f.cfg.TLS.CertFile, "tls-cert", "", "PEM certificate `file`: serve HTTPS (HTTP/1.1 and HTTP/2); needs -tls-key")
	fs.StringVar(&f.cfg.TLS.KeyFile, "tls-key", "", "PEM private key `file` for -tls-cert")
	fs.BoolVar(&f.cfg.TLS.SelfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate for localhost and this host, kept in the data directory's tls/ and reused (its SHA-256 fingerprint is logged)")
	fs.StringVar(&f.cfg.Connect.Addr, "connect-listen", "127.0.0.1:8083", "address for the Kafka Connect REST API (HTTPS with TLS); ':8083' serves every interface, empty disables the connector runtime")
	fs.Func("connect-worker-config", "connect-distributed worker properties `file` (default converters, offset.flush.interval.ms, ...)", func(path string) error {
		props, err := properties.ParseFile(path)
		f.cfg.Connect.WorkerProps = props
		return err
	})
	fs.Func("connect-allowed-paths", "comma-separated `directories` that file connectors created through the REST API may read and write under (default: <data-dir>/files, none with -in-memory or -nats-url)", func(v string) error {
		f.cfg.Connect.AllowedPaths = []string{}
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				f.cfg.Connect.AllowedPaths = append(f.cfg.Connect.AllowedPaths, d)
			}
		}
		return nil
	})
	f.cfg.HTTP.RegisterFlags(fs)
	f.cluster.register(fs)
	f.log = logging.Register(fs)
	return f
}

// Config returns the configuration the parsed flags describe, with a
// logger that writes to w in the -log-format and at the -log-level asked
// for (Connect.LogLevel is that level, which the REST API may change). An
// error is a mistake in the flags' values.
func (f *Flags) Config(w io.Writer) (Config, error) {
	cfg := f.cfg
	d, err := store.ParseDurability(f.durability)
	if err != nil {
		return Config{}, err
	}
	cfg.Store.Durability = d
	lg, lv, err := f.log.Logger(w)
	if err != nil {
		return Config{}, err
	}
	cfg.Logger, cfg.Connect.LogLevel = lg, lv
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := f.cluster.apply(&cfg, set, lg); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
