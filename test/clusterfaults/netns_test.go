//go:build clusterfaults

package clusterfaults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// netLab is a network made of Linux network namespaces for one test: a
// namespace per node, each with one interface on a bridge that lives in
// a hub namespace of its own, and an interface of this host on the same
// bridge, so that the test reaches every node directly. Nodes reach each
// other over the bridge; cutting a node off from the others (partition)
// adds blackhole routes inside the namespaces, so the test itself still
// reaches the cut-off node. Nothing is routed or forwarded through this
// host's own namespace, and nothing outside 10.213.77.0/24 is touched.
type netLab struct {
	t      *testing.T
	prefix string // of every name the lab makes: "trb" and this process's id
	nodes  int
}

const (
	labNet  = "10.213.77."
	labHost = labNet + "254" // this host's address on the lab's bridge
)

// labPrefix names what a lab makes; the process id tells a stale lab
// (its process is gone) from a running one.
var labName = regexp.MustCompile(`^trb([0-9]+)[a-z0-9]*$`)

// newNetLab makes the lab, and removes it when the test ends, pass or
// fail. It fails the test, loudly, if namespaces cannot be made (not
// root, no ip command, a kernel or container without them): the
// partition test must never silently not run.
func newNetLab(t *testing.T, nodes int) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the partition test needs root to make network namespaces (ip netns); run it as root (make faults-cluster) — it is not skipped")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("the partition test needs the ip command (iproute2): %v", err)
	}
	removeStaleLabs(t)
	l := &netLab{t: t, prefix: "trb" + strconv.Itoa(os.Getpid()), nodes: nodes}
	t.Cleanup(l.remove)
	if out, err := exec.Command("ip", "-br", "addr").Output(); err == nil && strings.Contains(string(out), labNet) {
		t.Fatalf("%s0/24 is already in use on this host:\n%s", labNet, out)
	}
	hub := l.prefix + "h"
	l.ip("netns", "add", hub)
	l.ip("-n", hub, "link", "set", "lo", "up")
	l.ip("-n", hub, "link", "add", "br0", "type", "bridge")
	l.ip("-n", hub, "link", "set", "br0", "up")
	for i := range nodes {
		ns, v, b := l.ns(i), l.prefix+"v"+strconv.Itoa(i), l.prefix+"b"+strconv.Itoa(i)
		l.ip("netns", "add", ns)
		l.ip("-n", ns, "link", "set", "lo", "up")
		l.ip("link", "add", v, "type", "veth", "peer", "name", b)
		l.ip("link", "set", v, "netns", ns)
		l.ip("link", "set", b, "netns", hub)
		l.ip("-n", hub, "link", "set", b, "master", "br0", "up")
		l.ip("-n", ns, "addr", "add", l.addr(i)+"/24", "dev", v)
		l.ip("-n", ns, "link", "set", v, "up")
	}
	v, b := l.prefix+"v9", l.prefix+"b9"
	l.ip("link", "add", v, "type", "veth", "peer", "name", b)
	l.ip("link", "set", b, "netns", hub)
	l.ip("-n", hub, "link", "set", b, "master", "br0", "up")
	l.ip("addr", "add", labHost+"/24", "dev", v)
	l.ip("link", "set", v, "up")
	return l
}

// ns is node i's namespace.
func (l *netLab) ns(i int) string { return l.prefix + "n" + strconv.Itoa(i) }

// addr is node i's address.
func (l *netLab) addr(i int) string { return labNet + strconv.Itoa(i+1) }

// hosts are where the nodes of a cluster in the lab run.
func (l *netLab) hosts() []host {
	var hs []host
	for i := range l.nodes {
		hs = append(hs, host{ip: l.addr(i), prefix: []string{"ip", "netns", "exec", l.ns(i)}})
	}
	return hs
}

// isolate cuts node i off from every other node, both ways; this host
// still reaches it.
func (l *netLab) isolate(i int) { l.routes(i, "add") }

// heal undoes isolate.
func (l *netLab) heal(i int) { l.routes(i, "del") }

func (l *netLab) routes(i int, op string) {
	for j := range l.nodes {
		if j == i {
			continue
		}
		l.ip("-n", l.ns(i), "route", op, "blackhole", l.addr(j)+"/32")
		l.ip("-n", l.ns(j), "route", op, "blackhole", l.addr(i)+"/32")
	}
}

// ip runs one ip command, failing the test if it fails.
func (l *netLab) ip(args ...string) {
	l.t.Helper()
	if out, err := runIP(args...); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// runIP runs ip with a bound on its time.
func runIP(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "ip", args...).CombinedOutput()
}

// remove deletes the lab's namespaces and this host's interface. Each
// namespace goes once the processes in it have ended (the test's
// servers are killed before this runs), and with it its interfaces.
func (l *netLab) remove() {
	removeLab(l.t, l.prefix)
}

// removeLab deletes every namespace and interface whose name starts with
// prefix, and reports what it could not.
func removeLab(t *testing.T, prefix string) {
	if out, err := runIP("link", "del", prefix+"v9"); err != nil && !strings.Contains(string(out), "Cannot find device") {
		t.Errorf("remove the lab's interface %sv9: %v %s", prefix, err, out)
	}
	out, err := runIP("netns", "list")
	if err != nil {
		t.Errorf("ip netns list: %v %s", err, out)
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if name != "" && strings.HasPrefix(name, prefix) {
			if out, err := runIP("netns", "del", name); err != nil {
				t.Errorf("remove namespace %s: %v %s", name, err, out)
			}
		}
	}
}

// removeStaleLabs removes the labs of test processes that died without
// removing theirs (a test binary killed by its timeout).
func removeStaleLabs(t *testing.T) {
	out, err := runIP("netns", "list")
	if err != nil {
		return
	}
	stale := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		m := labName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if pid, _ := strconv.Atoi(m[1]); !alive(pid) {
			stale["trb"+m[1]] = true
		}
	}
	for p := range stale {
		t.Logf("removing the network lab %s of a test process that is gone", p)
		removeLab(t, p)
	}
}

// alive says whether a process with this id exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// String describes the lab, for logs.
func (l *netLab) String() string {
	return fmt.Sprintf("netns lab %s: %d nodes on %s0/24, this host %s", l.prefix, l.nodes, labNet, labHost)
}
