package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// natsServer runs a nats-server with JetStream and a client listener on
// loopback, as a user's own server would be, with a password.
func natsServer(t *testing.T, jetStream bool) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: jetStream,
		StoreDir: t.TempDir(), Username: "app", Password: "pw", NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// TestExternalNATS: the store works on NATS servers it does not run,
// reached over the network with credentials, alone or clustered (there
// with three replicas by default); what it wrote is there when it opens
// again; wrong credentials fail Open with the servers' reason.
func TestExternalNATS(t *testing.T) {
	for _, tc := range []struct {
		name         string
		ext          func(t *testing.T) External
		wantReplicas int
	}{
		{"single server", func(t *testing.T) External {
			return External{URL: natsServer(t, true).ClientURL(), User: "app", Password: "pw"}
		}, 1},
		{"cluster", func(t *testing.T) External {
			// The embedded servers of a test cluster listen for
			// clients on loopback; any of them serves as the
			// user's cluster.
			nodes := startCluster(t, clusterConfigs(t, 3, nil))
			o := nodes[1].st.opts
			urls := []string{}
			for _, n := range nodes {
				urls = append(urls, n.st.ns.ClientURL())
			}
			return External{URL: strings.Join(urls, ","), User: o.Users[0].Username, Password: o.Users[0].Password}
		}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			ext := tc.ext(t)
			st, err := Open(ctx, Config{External: &ext})
			if err != nil {
				t.Fatal(err)
			}
			if st.Replicas() != tc.wantReplicas {
				t.Errorf("Replicas() = %d, want %d", st.Replicas(), tc.wantReplicas)
			}
			if err := st.CreateLog(ctx, "ext", 0); err != nil {
				t.Fatal(err)
			}
			seq, err := st.AppendAsync("ext", []byte("hello")).Wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Create(ctx, "k", []byte("v")); err != nil {
				t.Fatal(err)
			}
			if err := st.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			if st.Dir() != "" || st.Full() != "" {
				t.Errorf("Dir() = %q, Full() = %q: want none with an external server", st.Dir(), st.Full())
			}
			st.Close()

			st, err = Open(ctx, Config{External: &ext})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			res, err := st.Read(ctx, "ext", seq, 10, 1<<20)
			if err != nil || len(res.Messages) != 1 || string(res.Messages[0].Data) != "hello" {
				t.Fatalf("reopened, the log reads %+v, %v", res, err)
			}
			if e, err := st.Get(ctx, "k"); err != nil || string(e.Value) != "v" {
				t.Fatalf("reopened, the key reads %+v, %v", e, err)
			}
			if info := streamInfo(t, st, "ext"); info.Config.Replicas != tc.wantReplicas {
				t.Fatalf("the log has %d replicas, want %d", info.Config.Replicas, tc.wantReplicas)
			}

			bad := ext
			bad.Password, bad.ReadyTimeout = "wrong", time.Second
			if st, err := Open(ctx, Config{External: &bad}); err == nil {
				st.Close()
				t.Fatal("opened with a wrong password")
			} else if !strings.Contains(err.Error(), "Authorization Violation") {
				t.Fatalf("error %q does not give the servers' reason", err)
			}
		})
	}
}

// TestExternalNATSWithoutJetStream: servers that answer but have no
// JetStream fail Open after its ready timeout, saying so.
func TestExternalNATSWithoutJetStream(t *testing.T) {
	ns := natsServer(t, false)
	ext := External{URL: ns.ClientURL(), User: "app", Password: "pw", ReadyTimeout: 3 * time.Second}
	st, err := Open(t.Context(), Config{External: &ext})
	if err == nil {
		st.Close()
		t.Fatal("opened on a server without JetStream")
	}
	for _, want := range []string{"did not provide JetStream", ns.ClientURL()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestExternalNATSDown: while the NATS server a store uses is down,
// appends fail as unavailable (retriable) instead of hanging; once it is
// back on the same address, the store reconnects by itself and what was
// acknowledged before is there. The status of an external store lists
// its logs and says what it cannot show.
func TestExternalNATSDown(t *testing.T) {
	ctx := t.Context()
	opts := &server.Options{Host: "127.0.0.1", Port: freePorts(t, 1)[0], JetStream: true, StoreDir: t.TempDir(),
		Username: "app", Password: "pw", NoSigs: true}
	start := func() *server.Server {
		ns, err := server.NewServer(opts.Clone())
		if err != nil {
			t.Fatal(err)
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats-server did not start")
		}
		return ns
	}
	ns := start()
	st, err := Open(ctx, Config{External: &External{URL: ns.ClientURL(), User: "app", Password: "pw"},
		WriteTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateLog(ctx, "L", 0); err != nil {
		t.Fatal(err)
	}
	seq, err := st.AppendAsync("L", []byte("before")).Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := st.ClusterStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, l := statusOf(cs, "", "L"); l == nil || l.Current != 1 || len(cs.Warnings) == 0 {
		t.Fatalf("status of an external store: %+v", cs)
	}

	ns.Shutdown()
	ns.WaitForShutdown()
	began := time.Now()
	if _, err := st.AppendAsync("L", []byte("while down")).Wait(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append while NATS is down: %v, want ErrUnavailable", err)
	}
	t.Logf("external NATS down: an append failed after %s", time.Since(began).Round(time.Millisecond))
	if err := st.Ping(ctx); err == nil {
		t.Fatal("the store's ping (what /health reports) succeeded with NATS down")
	}

	ns = start()
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	began = time.Now()
	eventually(t, "appends after NATS is back", func() error {
		_, err := st.AppendAsync("L", []byte("after")).Wait(ctx)
		return err
	})
	t.Logf("external NATS back: appends resumed %s after it was", time.Since(began).Round(time.Millisecond))
	res, err := st.Read(ctx, "L", seq, 1, 1<<20)
	if err != nil || len(res.Messages) != 1 || string(res.Messages[0].Data) != "before" {
		t.Fatalf("the record acknowledged before: %+v, %v", res, err)
	}
}
