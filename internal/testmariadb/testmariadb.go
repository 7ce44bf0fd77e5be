// Package testmariadb runs a private MariaDB server for tests: its own
// data directory, socket and loopback port, binary logging in the form a
// change-data-capture reader needs (row format, full row images, full row
// metadata, annotated row events), killed when the test or test binary
// ends. Tests that read a binary log need a real server; this one starts
// in about a second and touches nothing outside its temporary directory.
//
// A test binary that wants one server for all its tests starts it from
// TestMain with New and closes it after m.Run; a test that needs its own
// (other binlog settings, a log it may purge) calls Start.
package testmariadb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

// The installed server's programs (Debian package mariadb-server).
const (
	serverPath  = "/usr/sbin/mariadbd"
	installPath = "/usr/bin/mariadb-install-db"
)

// RootPassword is the password of the server's root account over TCP.
// The server listens on loopback only and lives as long as a test, so a
// fixed password is enough.
const RootPassword = "tributary-test"

// Server is a running private MariaDB server.
type Server struct {
	// Host and Port are where the server listens (127.0.0.1, a free
	// port). User and Password are the root account's credentials.
	Host     string
	Port     int
	User     string
	Password string
	// Socket is the server's Unix socket; DataDir holds its data and
	// binary logs.
	Socket  string
	DataDir string

	dir    string
	cmd    *exec.Cmd
	done   chan struct{}
	stdout *syncbuf.Buffer

	closeOnce sync.Once
	closeErr  error
}

// Option changes how a server starts.
type Option func(*settings)

// settings are the server's start-up choices.
type settings struct {
	binlog      bool
	format      string
	rowImage    string
	rowMetadata string
	annotate    bool
	extra       []string
}

// WithoutBinlog starts the server without binary logging (no log-bin),
// as a server not set up for replication would run.
func WithoutBinlog() Option { return func(s *settings) { s.binlog = false } }

// WithBinlogFormat sets binlog_format (ROW by default): STATEMENT or
// MIXED make a server whose log a row reader cannot use.
func WithBinlogFormat(format string) Option { return func(s *settings) { s.format = format } }

// WithRowImage sets binlog_row_image (FULL by default).
func WithRowImage(image string) Option { return func(s *settings) { s.rowImage = image } }

// WithRowMetadata sets binlog_row_metadata (FULL by default): MINIMAL
// makes table-map events carry no column names, as older servers log.
func WithRowMetadata(metadata string) Option {
	return func(s *settings) { s.rowMetadata = metadata }
}

// WithArgs appends raw mariadbd options; later options override earlier
// ones, so these win over the defaults.
func WithArgs(args ...string) Option {
	return func(s *settings) { s.extra = append(s.extra, args...) }
}

// Start starts a private server for one test and kills it when the test
// ends, printing its error log if the test failed. A machine without
// MariaDB fails the test with what to install.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mariadb error log:\n%s", s.ErrorLog())
		}
		if err := s.Close(); err != nil {
			t.Errorf("stop mariadb: %v", err)
		}
	})
	return s
}

// New starts a private server and waits until it accepts connections.
// The caller must Close it; Start does that for a single test, and a
// TestMain that shares one server closes it after m.Run.
func New(opts ...Option) (*Server, error) {
	st := settings{binlog: true, format: "ROW", rowImage: "FULL", rowMetadata: "FULL", annotate: true}
	for _, o := range opts {
		o(&st)
	}
	if err := installed(); err != nil {
		return nil, err
	}
	var lastErr error
	// A port picked free can be taken before the server binds it; try a
	// few before giving up.
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(st)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	return nil, lastErr
}

// installed reports, as an error saying what to install, whether the
// MariaDB server programs are present.
func installed() error {
	for _, p := range []string{serverPath, installPath} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("testmariadb: %s not found: these tests need a real MariaDB server; "+
				"install the Debian package mariadb-server (apt-get install mariadb-server) "+
				"or run scripts/test.sh, which installs it", p)
		}
	}
	return nil
}

var errPortInUse = errors.New("port in use")

// start installs a data directory and runs the server once.
func start(st settings) (*Server, error) {
	// A short directory: Unix socket paths are limited to 107 bytes.
	dir, err := os.MkdirTemp("", "mdb")
	if err != nil {
		return nil, fmt.Errorf("testmariadb: temp dir: %w", err)
	}
	s := &Server{
		Host:     "127.0.0.1",
		User:     "root",
		Password: RootPassword,
		Socket:   filepath.Join(dir, "s.sock"),
		DataDir:  filepath.Join(dir, "data"),
		dir:      dir,
		done:     make(chan struct{}),
		stdout:   &syncbuf.Buffer{},
	}
	fail := func(err error) (*Server, error) {
		s.kill()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	asRoot := os.Geteuid() == 0

	install := []string{"--no-defaults", "--datadir=" + s.DataDir,
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
		// Parallel installs must not share temporary files.
		"--tmpdir=" + dir}
	if asRoot {
		install = append(install, "--user=root")
	}
	cmd := exec.Command(installPath, install...)
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("testmariadb: mariadb-install-db: %v\n%s", err, out))
	}

	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	s.Port = port
	args := []string{
		"--no-defaults",
		"--datadir=" + s.DataDir,
		"--socket=" + s.Socket,
		"--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
		"--log-error=" + s.errorLogPath(),
		"--tmpdir=" + dir,
		"--server-id=1",
		"--skip-name-resolve",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
		// Durability is not what these servers are for: keep commits cheap.
		"--innodb-flush-log-at-trx-commit=2",
		"--sync-binlog=0",
		"--innodb-doublewrite=0",
		"--innodb-buffer-pool-size=128M",
		"--max-connections=500",
	}
	if st.binlog {
		args = append(args,
			"--log-bin=mysql-bin",
			"--binlog-format="+st.format,
			"--binlog-row-image="+st.rowImage,
			"--binlog-row-metadata="+st.rowMetadata,
		)
		if st.annotate {
			args = append(args, "--binlog-annotate-row-events=ON")
		}
	}
	if asRoot {
		args = append(args, "--user=root")
	}
	args = append(args, st.extra...)
	s.cmd = exec.Command(serverPath, args...)
	s.cmd.Stdout = s.stdout
	s.cmd.Stderr = s.stdout
	// The server dies with the test binary even if the binary is killed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("testmariadb: start mariadbd: %w", err))
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	if err := s.waitReady(60 * time.Second); err != nil {
		log := s.ErrorLog()
		if strings.Contains(log, "Address already in use") {
			err = fmt.Errorf("%w: %v", errPortInUse, err)
		}
		return fail(fmt.Errorf("testmariadb: %w\nerror log:\n%s", err, log))
	}
	if err := s.setUp(); err != nil {
		return fail(fmt.Errorf("testmariadb: set up accounts: %w\nerror log:\n%s", err, s.ErrorLog()))
	}
	return s, nil
}

// freePort returns a loopback port nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testmariadb: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the socket until the server answers, it exits, or the
// time is up.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := client.ConnectWithTimeout(s.Socket, "root", "", "", time.Second)
		if err == nil {
			_ = c.Quit()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("mariadbd exited during start-up: %s", strings.TrimSpace(s.stdout.String()))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadbd did not accept connections within %s: %v", limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setUp gives root a password and a TCP account: the install makes
// root@localhost for the socket only, and TCP clients come from
// 127.0.0.1.
func (s *Server) setUp() error {
	c, err := client.ConnectWithTimeout(s.Socket, "root", "", "", 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Quit()
	pw := quote(RootPassword)
	for _, q := range []string{
		"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'",
		"ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY " + pw,
		"GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
		"ALTER USER 'root'@'localhost' IDENTIFIED BY " + pw,
	} {
		if _, err := c.Execute(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// Addr is host:port for TCP clients.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// DSN is a go-sql-driver/mysql data source name for the root account.
func (s *Server) DSN() string {
	return fmt.Sprintf("%s:%s@tcp(%s)/", s.User, s.Password, s.Addr())
}

// Connect opens a root connection over TCP; the caller closes it.
func (s *Server) Connect(ctx context.Context) (*client.Conn, error) {
	return client.ConnectWithContext(ctx, s.Addr(), s.User, s.Password, "", 10*time.Second)
}

// Conn opens a root connection that is closed when the test ends.
func (s *Server) Conn(t testing.TB) *client.Conn {
	t.Helper()
	c, err := s.Connect(context.Background())
	if err != nil {
		t.Fatalf("connect to mariadb: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Exec runs statements in order on one connection, so BEGIN ... COMMIT
// may span them; the first failure fails the test.
func (s *Server) Exec(t testing.TB, sql ...string) {
	t.Helper()
	c, err := s.Connect(context.Background())
	if err != nil {
		t.Fatalf("connect to mariadb: %v", err)
	}
	defer c.Quit()
	for _, q := range sql {
		if _, err := c.Execute(q); err != nil {
			t.Fatalf("mariadb: %s: %v", q, err)
		}
	}
}

// Query runs one statement and returns its result; a failure fails the
// test.
func (s *Server) Query(t testing.TB, sql string) *mysql.Result {
	t.Helper()
	c, err := s.Connect(context.Background())
	if err != nil {
		t.Fatalf("connect to mariadb: %v", err)
	}
	defer c.Quit()
	r, err := c.Execute(sql)
	if err != nil {
		t.Fatalf("mariadb: %s: %v", sql, err)
	}
	return r
}

// QueryString runs a query and returns the first column of its first row
// as text ("" for NULL or no rows).
func (s *Server) QueryString(t testing.TB, sql string) string {
	t.Helper()
	r := s.Query(t, sql)
	if r.Resultset == nil || len(r.Values) == 0 {
		return ""
	}
	v, err := r.GetString(0, 0)
	if err != nil {
		t.Fatalf("mariadb: %s: %v", sql, err)
	}
	return v
}

// ErrorLog returns the server's error log (and anything it printed).
func (s *Server) ErrorLog() string {
	b, _ := os.ReadFile(s.errorLogPath())
	if out := s.stdout.String(); out != "" {
		b = append(b, out...)
	}
	return string(b)
}

func (s *Server) errorLogPath() string { return filepath.Join(s.dir, "error.log") }

// Close kills the server and removes its directory.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.kill()
		s.closeErr = os.RemoveAll(s.dir)
	})
	return s.closeErr
}

// kill ends the server with SIGKILL, as a crash would, and waits for it.
func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// quote makes a SQL string literal.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(v) + "'"
}
