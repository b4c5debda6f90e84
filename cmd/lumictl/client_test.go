package main

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mi/plumi/plumitest"
	"mi/wire"
)

// serveOnce plays a node that answers the first request with reply.
func serveOnce(t *testing.T, reply wire.Message) string {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 512)
		_, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil || reply == nil {
			return
		}
		b, _ := reply.Append(nil)
		conn.WriteToUDPAddrPort(b, from)
	}()
	return conn.LocalAddr().String()
}

func TestClientCommands(t *testing.T) {
	from, _ := wire.ParseAddress("laura@bb.com")
	to, _ := wire.ParseAddress("pau@cc.org")
	tests := []struct {
		name   string
		args   []string
		reply  wire.Message
		code   int
		stdout string
		stderr string
	}{
		{"register", []string{"register", "laura@bb.com"}, &wire.RegisterReply{Code: wire.RegisterOK}, 0, "ok\n", ""},
		{"register refused", []string{"register", "laura@bb.com"}, &wire.RegisterReply{Code: wire.RegisterRefused}, 3, "", "user_unknown: "},
		{"deregister", []string{"deregister", "laura@bb.com"}, &wire.DeregisterReply{Code: wire.DeregisterOK}, 0, "ok\n", ""},
		{"deregister refused", []string{"deregister", "laura@bb.com"}, &wire.DeregisterReply{Code: wire.DeregisterRefused}, 8, "", "refused: "},
		{"locate", []string{"locate", "laura@bb.com", "pau@cc.org"},
			&wire.LocateReply{Code: wire.LocateFound, From: from, To: to, IP: netip.MustParseAddr("10.1.2.3"), Port: 4321}, 0, "10.1.2.3:4321\n", ""},
		{"locate busy", []string{"locate", "laura@bb.com", "pau@cc.org"}, &wire.LocateReply{Code: wire.LocateBusy, From: from, To: to}, 5, "", "busy: "},
		{"locate offline", []string{"locate", "laura@bb.com", "pau@cc.org"}, &wire.LocateReply{Code: wire.LocateOffline, From: from, To: to}, 6, "", "offline: "},
		{"no answer", []string{"locate", "laura@bb.com", "pau@cc.org"}, nil, 7, "", "node_timeout: "},
		{"bad address", []string{"locate", "laura", "pau@cc.org"}, nil, exitUsage, "", "FROM \"laura\""},
		{"missing -hosts", []string{"register", "-hosts", "/nonexistent/hosts", "laura@bb.com"}, nil, exitUsage, "", "-hosts /nonexistent/hosts: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := serveOnce(t, tt.reply)
			args := append([]string{tt.args[0], "-node", node, "-attempts", "2", "-retry", "50ms"}, tt.args[1:]...)
			code, stdout, stderr := runLumictl(args...)
			if code != tt.code || stdout != tt.stdout || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestClientNodeUnreachable: nothing listens at -node, and register says
// so at its first attempt with exit 13. The attempts are an hour apart, so
// waiting them out would show as the test's timeout, not as a pass.
func TestClientNodeUnreachable(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	closed := conn.LocalAddr().String()
	conn.Close()
	for _, args := range [][]string{
		{"register", "-node", closed, "-attempts", "3", "-retry", "1h", "laura@bb.com"},
		{"locate", "-node", closed, "-attempts", "3", "-retry", "1h", "laura@bb.com", "pau@cc.org"},
	} {
		code, stdout, stderr := runLumictl(args...)
		if code != 13 || stdout != "" || !strings.HasPrefix(stderr, "node_unreachable: ") || !strings.Contains(stderr, "attempt 1 of 3") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 13 and node_unreachable at attempt 1 of 3", args[0], code, stdout, stderr)
		}
	}
	code, stdout, stderr := runLumictl("register", "-h")
	if !strings.Contains(stdout+stderr, "13 nothing listens") {
		t.Errorf("register -h (exit %d) does not say exit 13:\n%s%s", code, stdout, stderr)
	}
}

// TestClientCapLogged: the resolver's warning about the SRV records it
// leaves out reaches the command's stderr, as for resolve; a resolver
// without a Logger would drop it.
func TestClientCapLogged(t *testing.T) {
	node := serveOnce(t, &wire.RegisterReply{Code: wire.RegisterOK})
	_, port, _ := net.SplitHostPort(node)
	var zone []string
	for i := range 33 {
		zone = append(zone, fmt.Sprintf("_lumi._udp.bb.com. 60 IN SRV 10 10 %s n%d.bb.com.", port, i),
			fmt.Sprintf("n%d.bb.com. 60 IN A 127.0.0.1", i))
	}
	code, stdout, stderr := runLumictl("register", "-dns", startZone(t, zone...), "-hosts", "-", "-attempts", "2", "-retry", "50ms", "laura@bb.com")
	if code != exitOK || stdout != "ok\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, `level=WARN msg="lumi: SRV records over the cap are not used"`) {
		t.Errorf("stderr lacks the cap warning:\n%s", stderr)
	}
}

// TestLocateUnknownToldApart: FROM's node answers RL2, for a user or for a
// domain it found no node for, and locate tells which by looking TO's
// domain up itself, through a DNS server on loopback that knows cc.org's
// node and answers NXDOMAIN for anything else. A user of FROM's own domain
// needs no lookup: a DNS server that never answers changes nothing there.
func TestLocateUnknownToldApart(t *testing.T) {
	zone := startZone(t,
		"_lumi._udp.cc.org. 60 IN SRV 0 0 3344 node.cc.org.",
		"node.cc.org. 60 IN A 127.0.0.1")
	silent := silentServer(t)
	type result struct {
		Code   int
		Stdout string
		Reason string // stderr up to the first colon
	}
	tests := []struct {
		name string
		dns  string
		to   string
		want result
		says string // in stderr
	}{
		{"the domain has a node", zone, "pau@cc.org", result{3, "", "user_unknown"}, "pau@cc.org: no such user in cc.org"},
		{"the domain has none (NXDOMAIN)", zone, "pau@nowhere.example", result{4, "", "domain_unknown"}, "no LUMI node for domain nowhere.example"},
		{"the DNS server does not answer", silent, "pau@cc.org", result{9, "", "dns_failure"}, "cannot find the LUMI node of cc.org: DNS failed"},
		{"FROM's own domain", silent, "pau@bb.com", result{3, "", "user_unknown"}, "pau@bb.com: no such user, or no such domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := plumitest.Addr(t, "laura@bb.com"), plumitest.Addr(t, tt.to)
			node := serveOnce(t, &wire.LocateReply{Code: wire.LocateUnknown, From: from, To: to})
			code, stdout, stderr := runLumictl("locate", "-node", node, "-dns", tt.dns, "-hosts", "-", "-attempts", "2", "-retry", "1s",
				from.String(), to.String())
			reason, _, _ := strings.Cut(stderr, ":")
			if diff := cmp.Diff(tt.want, result{code, stdout, reason}); diff != "" {
				t.Errorf("lumictl locate %s (-want +got):\n%s", to, diff)
			}
			if !strings.Contains(stderr, tt.says) {
				t.Errorf("stderr %q does not say %q", stderr, tt.says)
			}
		})
	}
	if _, stdout, stderr := runLumictl("locate", "-h"); !strings.Contains(stdout+stderr, "domain_unknown (4) when it has none") {
		t.Errorf("locate -h does not say what an RL2 for another domain gives:\n%s%s", stdout, stderr)
	}
}
