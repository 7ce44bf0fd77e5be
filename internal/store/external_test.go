package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/store/storetest"
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
		ext          func(t *testing.T) store.External
		wantReplicas int
	}{
		{"single server", func(t *testing.T) store.External {
			return store.External{URL: natsServer(t, true).ClientURL(), User: "app", Password: "pw"}
		}, 1},
		{"cluster", func(t *testing.T) store.External {
			// The embedded servers of a test cluster listen for
			// clients on loopback; any of them serves as the
			// user's cluster.
			nodes := storetest.Cluster(t, 3)
			var urls []string
			for _, n := range nodes {
				url, _, _ := n.Store().ClientAccess()
				urls = append(urls, url)
			}
			_, user, password := nodes[1].Store().ClientAccess()
			return store.External{URL: strings.Join(urls, ","), User: user, Password: password}
		}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			ext := tc.ext(t)
			st, err := store.Open(ctx, store.Config{External: &ext})
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

			st, err = store.Open(ctx, store.Config{External: &ext})
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
			if st, err := store.Open(ctx, store.Config{External: &bad}); err == nil {
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
	ext := store.External{URL: ns.ClientURL(), User: "app", Password: "pw", ReadyTimeout: 3 * time.Second}
	st, err := store.Open(t.Context(), store.Config{External: &ext})
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
