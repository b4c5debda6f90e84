package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/agent"
	"mi/plumi"
)

func TestUseColour(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	if useColour(&bytes.Buffer{}, env()) {
		t.Error("colour on a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if useColour(f, env()) {
		t.Error("colour on a regular file")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !useColour(tty, env("TERM", "xterm")) {
			t.Error("no colour on a terminal")
		}
		if useColour(tty, env("NO_COLOR", "1", "TERM", "xterm")) {
			t.Error("colour with NO_COLOR")
		}
	}
}

func TestPrinter(t *testing.T) {
	tm := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	events := []agent.Event{
		{Kind: agent.EventConnected, Time: tm, PeerNick: "pau", PeerAddr: "pau@cc.org", Claimed: true, Remote: "127.0.0.1:9"},
		{Kind: agent.EventLine, Time: tm, From: "pau", Text: "hola"},
		{Kind: agent.EventHangup, Time: tm, By: agent.ByPeer},
		{Kind: agent.EventError, Time: tm, Reason: "busy", Message: "pau@cc.org is busy"},
		{Kind: agent.EventNotice, Time: tm, Reason: agent.NoticeLinesDropped, Count: 3, Message: "dropped 3 lines from pau"},
		{Kind: agent.EventLine, Time: tm, From: "pau", Text: "\x1b[2Jgone\u202e"},
	}
	var human, js, notes bytes.Buffer
	hp, jp := newPrinter(&human, &notes, false, false), newPrinter(&js, &notes, true, true)
	for _, e := range events {
		hp.event(e)
		jp.event(e)
	}
	jp.note("a note")
	want := "* pau (claims to be pau@cc.org) called you, from 127.0.0.1:9; type to chat, /hangup to end\npau> hola\n* conversation ended by pau\n! pau@cc.org is busy\n" +
		"* dropped 3 lines from pau\n" + `pau> \x1b[2Jgone\u202e` + "\n"
	if human.String() != want {
		t.Errorf("human:\n%s\nwant:\n%s", human.String(), want)
	}
	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	if len(lines) != len(events) {
		t.Fatalf("json: %d lines, want %d:\n%s", len(lines), len(events), js.String())
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["event"] == nil || m["time"] != "2026-01-02T03:04:05Z" {
			t.Errorf("json line %q: %v", l, err)
		}
	}
	if !strings.Contains(lines[0], `"peer_addr":"pau@cc.org","claimed":true`) {
		t.Errorf("json: the caller's address not marked claimed: %s", lines[0])
	}
	if strings.Contains(js.String(), "\x1b") || notes.String() != "a note\n" {
		t.Errorf("json mode: colour or notes on stdout; notes %q", notes.String())
	}
}

func TestCommandLineErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-nick", "x"}, strings.NewReader(""), &out, &errOut, nil, os.Getenv); code != exitUsage {
		t.Errorf("no -addr: exit %d", code)
	}
	out.Reset()
	if code := run([]string{"-addr", "nobody", "-json"}, strings.NewReader(""), &out, &errOut, nil, os.Getenv); code != exitUsage ||
		!strings.Contains(out.String(), `"reason":"bad_address"`) {
		t.Errorf("bad -addr: exit %d, stdout %q", code, out.String())
	}
}

func TestInert(t *testing.T) {
	cases := []struct{ in, want string }{
		{"hola, què tal? 😀", "hola, què tal? 😀"},
		{"", ""},
		{"\x1b[2J\x1b]0;title\x07", `\x1b[2J\x1b]0;title\x07`},
		{"tab\there\r\x00\x7f", `tab\x09here\x0d\x00\x7f`},
		{"csi \u009b2J", `csi \u009b2J`},
		{"abc\u202edcba \u200b", `abc\u202edcba \u200b`},
		{"line\u2028sep\u2029", `line\u2028sep\u2029`},
		{"caf\xe9 \xff", `caf\xe9 \xff`},
		{"\ufffd is a character", "\ufffd is a character"},
		// A joiner inside an emoji is shown, tags inside a flag too;
		// after a letter or alone they are not, nor a bidi control.
		{"family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"},
		{"flag 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "flag 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"},
		{"\u200dalone", `\u200dalone`},
		{"a\u200d\u202eb", `a\u200d\u202eb`},
		{"👨\u200d\u202e👩", "👨\u200d" + `\u202e` + "👩"},
		{"a\U000e0068\U000e0069", `a\ue0068\ue0069`},
		{"x\u0301\u2066y", "x\u0301" + `\u2066y`},
	}
	var got, want []string
	for _, tc := range cases {
		got, want = append(got, inert(tc.in)), append(want, tc.want)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestLimitFlags(t *testing.T) {
	type limits struct {
		Handshake, Message, Silent time.Duration
		Rate                       float64
		Burst                      int
	}
	cases := []struct {
		args []string
		want limits
	}{
		{nil, limits{agent.DefaultTimeout, agent.DefaultMessageTimeout, agent.DefaultSilentGrace, agent.DefaultLineRate, agent.DefaultLineBurst}},
		{[]string{"-handshake-timeout", "2s", "-message-timeout", "3s", "-silent-grace", "4s", "-line-rate", "inf", "-line-burst", "7"},
			limits{2 * time.Second, 3 * time.Second, 4 * time.Second, math.Inf(1), 7}},
	}
	for _, tc := range cases {
		o, err := parseFlags(append([]string{"-addr", "laura@bb.com", "-hosts", "-"}, tc.args...), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := agentConfig(o, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := limits{cfg.HandshakeTimeout, cfg.MessageTimeout, cfg.SilentGrace, cfg.LineRate, cfg.LineBurst}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.args, d)
		}
	}
}

func TestRefreshFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{nil, agent.DefaultRefresh},
		{[]string{"-refresh", "5s"}, 5 * time.Second},
		{[]string{"-refresh", "-1s"}, -time.Second},
	} {
		o, err := parseFlags(append([]string{"-addr", "laura@bb.com", "-hosts", "-"}, tc.args...), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := agentConfig(o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Refresh != tc.want {
			t.Errorf("%q: Refresh %v, want %v", tc.args, cfg.Refresh, tc.want)
		}
	}
}

func TestStateFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "p2p-laura.state"},
		{[]string{"-nick", "Laura"}, "p2p-Laura.state"},
		{[]string{"-log", "/var/log/mi/laura.log"}, "/var/log/mi/p2p-laura.state"},
		{[]string{"-log", "-"}, ""},
		{[]string{"-log", "-", "-state", "/var/lib/mi/laura"}, "/var/lib/mi/laura"},
		{[]string{"-state", "-"}, ""},
	} {
		o, err := parseFlags(append([]string{"-addr", "laura@bb.com", "-hosts", "-"}, tc.args...), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := agentConfig(o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.StatePath != tc.want {
			t.Errorf("%q: StatePath %q, want %q", tc.args, cfg.StatePath, tc.want)
		}
	}
}

func TestLogMaxFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{nil, agent.DefaultLogMax},
		{[]string{"-log-max", "64K"}, 64 << 10},
		{[]string{"-log-max", "0"}, -1}, // no cap
	} {
		o, err := parseFlags(append([]string{"-addr", "laura@bb.com", "-hosts", "-"}, tc.args...), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := agentConfig(o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.LogMax != tc.want {
			t.Errorf("%q: LogMax %d, want %d", tc.args, cfg.LogMax, tc.want)
		}
	}
}

// TestErrorLines: the line an error shows is said from its cause alone,
// whatever its message (which keeps the Go errors under it for -v and
// -json); an error with no cause shows its message.
func TestErrorLines(t *testing.T) {
	const node = "127.0.0.1:3344"
	cases := []struct {
		name  string
		cause plumi.Cause
		want  string
	}{
		{"NXDOMAIN", plumi.Cause{Kind: plumi.CauseNXDomain, Domain: "cc.orgg"},
			"no LUMI node for domain cc.orgg: the domain does not exist (NXDOMAIN)"},
		{"no node record", plumi.Cause{Kind: plumi.CauseNoNode, Domain: "cc.org"},
			"no LUMI node for domain cc.org: the domain names none (no SRV record, no address)"},
		{"SRV targets without address", plumi.Cause{Kind: plumi.CauseNoAddress, Domain: "cc.org"},
			"no LUMI node for domain cc.org: its SRV records name hosts without an address"},
		{"SRV target .", plumi.Cause{Kind: plumi.CauseNotOffered, Domain: "cc.org"},
			`no LUMI node for domain cc.org: its SRV record says it runs none (target ".")`},
		{"not a domain", plumi.Cause{Kind: plumi.CauseNotADomain, Domain: "a..b"}, `"a..b" is not a domain name`},
		{"DNS rcode", plumi.Cause{Kind: plumi.CauseDNSRcode, Domain: "cc.org", Server: "127.0.0.1:53", Rcode: "SERVFAIL"},
			"cannot find the LUMI node of cc.org: DNS server 127.0.0.1:53 answered SERVFAIL"},
		{"DNS timeout", plumi.Cause{Kind: plumi.CauseDNSTimeout, Domain: "cc.org", Server: "127.0.0.1:53", Attempts: 2},
			"cannot find the LUMI node of cc.org: DNS server 127.0.0.1:53 did not answer (2 queries)"},
		{"DNS socket", plumi.Cause{Kind: plumi.CauseDNSError, Domain: "cc.org", Server: "127.0.0.1:9", Sys: "connection refused"},
			"cannot find the LUMI node of cc.org: DNS server 127.0.0.1:9: connection refused"},
		{"DNS, no server", plumi.Cause{Kind: plumi.CauseDNSError, Domain: "cc.org", Sys: "no resolver"},
			"cannot find the LUMI node of cc.org: DNS failed: no resolver"},
		{"RL2, domain known", plumi.Cause{Kind: plumi.CauseNoSuchUser, Addr: "nobody@cc.org", Domain: "cc.org"}, "nobody@cc.org: no such user in cc.org"},
		{"RL2", plumi.Cause{Kind: plumi.CauseUnknownTarget, Addr: "nobody@cc.org"}, "nobody@cc.org: no such user, or no such domain"},
		{"RL1", plumi.Cause{Kind: plumi.CauseBusy, Addr: "pau@cc.org"}, "pau@cc.org is busy in another conversation"},
		{"RL3", plumi.Cause{Kind: plumi.CauseOffline, Addr: "pau@cc.org"}, "pau@cc.org is offline"},
		{"RR1", plumi.Cause{Kind: plumi.CauseRegisterRefused, Node: node, Addr: "laura@bb.com"},
			"node 127.0.0.1:3344 refused to register laura@bb.com: it has no such user; or another agent registered laura@bb.com from another address " +
				"and answers the node's check (if that agent is yours, stop it, or wait until it stops answering, and start again); " +
				"or too many refused requests for laura@bb.com from other addresses froze it for a while"},
		{"RR1, another agent here", plumi.Cause{Kind: agent.CauseRegisterHeld, Node: node, Addr: "laura@bb.com", Remote: "127.0.0.1:51189"},
			"node 127.0.0.1:3344 refused to register laura@bb.com: laura@bb.com is registered by an agent that answers at 127.0.0.1:51189, " +
				"a port of this host that another program holds, the one laura@bb.com registered from last; " +
				"stop that agent, or wait until it stops answering, and start again"},
		{"RD1", plumi.Cause{Kind: plumi.CauseDeregisterRefused, Node: node, Addr: "laura@bb.com"},
			"node 127.0.0.1:3344 refused to deregister laura@bb.com: not a user of its domain, or not registered from this address, or frozen for a while"},
		{"RR2", plumi.Cause{Kind: plumi.CauseProofDenied, Node: node, Addr: "laura@bb.com", Tag: "PR"},
			"node 127.0.0.1:3344 denied the proof for laura@bb.com: the secret is not the user's"},
		{"RA again", plumi.Cause{Kind: plumi.CauseProofChallenged, Node: node, Addr: "laura@bb.com", Attempts: 2},
			"node 127.0.0.1:3344 challenged the proof for laura@bb.com 2 times"},
		{"RA, no secret", plumi.Cause{Kind: plumi.CauseAuthRequired, Node: node, Addr: "laura@bb.com"},
			"node 127.0.0.1:3344 requires proof of laura@bb.com's secret: give it with -secret-file"},
		{"timeout", plumi.Cause{Kind: plumi.CauseNodeTimeout, Node: node, Tag: "PL", Attempts: 5, Wait: time.Second},
			"node 127.0.0.1:3344 did not answer PL after 5 attempts 1s apart"},
		{"timeout, one attempt", plumi.Cause{Kind: plumi.CauseNodeTimeout, Node: node, Tag: "PR", Attempts: 1, Wait: time.Second},
			"node 127.0.0.1:3344 did not answer PR after 1 attempt"},
		{"ICMP", plumi.Cause{Kind: plumi.CauseNodeUnreachable, Node: node, Tag: "PR", Attempt: 1, Attempts: 5},
			"node 127.0.0.1:3344 refused PR at attempt 1 of 5: nothing listens at its address"},
		{"ICMP, no request", plumi.Cause{Kind: plumi.CauseNodeUnreachable, Node: node},
			"node 127.0.0.1:3344 is unreachable: nothing listens at its address"},
		{"socket", plumi.Cause{Kind: plumi.CauseNodeSocket, Node: node, Sys: "network is unreachable"},
			"cannot reach node 127.0.0.1:3344: network is unreachable"},
		{"bad address", plumi.Cause{Kind: plumi.CauseBadAddress, Input: "pau@", Field: "domain", Problem: "missing"},
			`"pau@" is not a user@domain address (domain: missing)`},
		{"bad node", plumi.Cause{Kind: plumi.CauseBadNode, Input: "x:y", Sys: "unknown port"}, `"x:y" is not a node's host:port: unknown port`},
		{"no node", plumi.Cause{Kind: plumi.CauseBadNode}, "no node address"},
		{"closed", plumi.Cause{Kind: plumi.CauseClosed}, "stopped: the agent is closing"},
		{"cancelled", plumi.Cause{Kind: plumi.CauseCancelled}, "cancelled"},
		{"bad nick", plumi.Cause{Kind: agent.CauseBadNick, Input: "a b", Problem: "byte ' ' not allowed"}, `"a b" cannot be a nickname: byte ' ' not allowed`},
		{"IPv6 advertised", plumi.Cause{Kind: agent.CauseNotIPv4, Input: "::1"}, "cannot advertise ::1: locate replies carry IPv4 addresses only"},
		{"log", plumi.Cause{Kind: agent.CauseLogOpen, Input: "/x/p2p.log", Sys: "permission denied"}, "-log /x/p2p.log: permission denied"},
		{"listen", plumi.Cause{Kind: agent.CauseListen, Input: ":99999", Sys: "address 99999: invalid port"},
			"cannot listen for chats on :99999: address 99999: invalid port"},
		{"resolver", plumi.Cause{Kind: agent.CauseNoResolver, Sys: "no DNS server"}, "cannot look nodes up in DNS: no DNS server"},
		{"connect", plumi.Cause{Kind: agent.CauseConnect, Addr: "pau@cc.org", Remote: "127.0.0.1:1", Sys: "connection refused"},
			"cannot connect to pau@cc.org at 127.0.0.1:1: connection refused"},
		{"no nick", plumi.Cause{Kind: agent.CauseNoNick, Remote: "127.0.0.1:5", Wait: 5 * time.Second}, "dropped 127.0.0.1:5: no nickname within 5s"},
		{"closed early", plumi.Cause{Kind: agent.CauseClosedEarly, Remote: "127.0.0.1:5"}, "dropped 127.0.0.1:5: it closed the connection before its nickname"},
		{"line first", plumi.Cause{Kind: agent.CauseNotNick, Remote: "127.0.0.1:5", Tag: "L"}, `dropped 127.0.0.1:5: it sent "L" before its nickname`},
		{"garbage first", plumi.Cause{Kind: agent.CauseNotNick, Remote: "127.0.0.1:5", Sys: "type: no message has tag \"X\""},
			`dropped 127.0.0.1:5: not a nickname (type: no message has tag "X")`},
		{"nick unsent", plumi.Cause{Kind: agent.CauseNickUnsent, Remote: "127.0.0.1:5", Sys: "broken pipe"},
			"cannot send the nickname to 127.0.0.1:5: broken pipe"},
		{"stalled", plumi.Cause{Kind: agent.CausePeerStalled, Peer: "pau", Wait: 10 * time.Second},
			"dropped pau: a message began but did not end within 10s"},
		{"cut short", plumi.Cause{Kind: agent.CausePeerCut, Peer: "pau"}, "pau closed the connection inside a message"},
		{"garbage", plumi.Cause{Kind: agent.CausePeerBroke, Peer: "pau", Sys: "text: byte 0x00 not allowed"}, "dropped pau: text: byte 0x00 not allowed"},
		{"send", plumi.Cause{Kind: agent.CauseSendFailed, Peer: "pau", Sys: "broken pipe"}, "cannot send to pau: broken pipe"},
		{"talking", plumi.Cause{Kind: agent.CauseTalking, Peer: "pau"}, "already talking to pau; /hangup first"},
		{"calling", plumi.Cause{Kind: agent.CauseCalling}, "a call is already in progress"},
		{"overtaken", plumi.Cause{Kind: agent.CauseOvertaken, Addr: "pau@cc.org"}, "another conversation started while calling pau@cc.org"},
		{"not talking", plumi.Cause{Kind: agent.CauseNotTalking}, "not in a conversation; /call user@domain first"},
		{"unknown command", plumi.Cause{Kind: causeUnknownCommand, Input: "/frob"}, "unknown command /frob; /help lists them"},
		{"usage", plumi.Cause{Kind: causeUsage, Input: "/call"}, "usage: /call user@domain"},
		{"own address", plumi.Cause{Kind: causeOwnAddress, Addr: "laura@bb.com"}, "laura@bb.com is your own address; /call someone else"},
		{"-addr", plumi.Cause{Kind: causeAddrFlag, Input: "nobody", Field: "user", Problem: "missing '@'"},
			`-addr "nobody" is not a user@domain address (user: missing '@')`},
		{"-secret-file", plumi.Cause{Kind: causeSecretFile, Input: "/s", Sys: "no such file or directory"}, "-secret-file /s: no such file or directory"},
		{"-hosts", plumi.Cause{Kind: causeHostsFile, Input: "/h", Sys: "no such file or directory"}, "-hosts /h: no such file or directory"},
		{"-advertise", plumi.Cause{Kind: causeAdvertiseFlag, Input: "x", Sys: "unable to parse IP"}, `-advertise "x" is not an ip address`},
	}
	said := map[plumi.CauseKind]bool{}
	var got, want []string
	for _, tc := range cases {
		said[tc.cause.Kind] = true
		// The message says something else: the line must not come from it.
		e := agent.Event{Kind: agent.EventError, Reason: "whatever", Cause: tc.cause, Message: "a message: with: parts)"}
		got, want = append(got, tc.name+": "+sayError(e)), append(want, tc.name+": "+tc.want)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, k := range slices.Concat(plumi.CauseKinds, agent.CauseKinds, causeKinds) {
		if _, ok := causeText(plumi.Cause{Kind: k}); !ok || !said[k] {
			t.Errorf("cause %s: said here %v, in the table %v", k, ok, said[k])
		}
	}
	if got := sayError(agent.Event{Kind: agent.EventError, Reason: "internal", Message: "encode PR: oops"}); got != "encode PR: oops" {
		t.Errorf("no cause: %q, want the message", got)
	}
}

// TestHumanErrorsShown: through the program, one message per failure, with
// neither the reason said twice nor the socket under it; -json keeps the
// whole message.
func TestHumanErrorsShown(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-addr", "nobody"}, strings.NewReader(""), &out, &out, nil, os.Getenv); code != exitUsage ||
		out.String() != "! -addr \"nobody\" is not a user@domain address (user: missing '@')\n" {
		t.Errorf("bad -addr: exit %d, %q", code, out.String())
	}
	n := newTestNode(t) // answers nothing
	out.Reset()
	args := []string{"-addr", "laura@bb.com", "-node", n.conn.LocalAddr().String(), "-attempts", "1", "-retry", "50ms", "-log", "-", "-hosts", "-", "-listen", "127.0.0.1:0"}
	if code := run(args, strings.NewReader(""), &out, &out, nil, os.Getenv); code != exitFail ||
		!strings.HasPrefix(out.String(), "! node "+n.conn.LocalAddr().String()+" did not answer PR after 1 attempt\n") {
		t.Errorf("silent node: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := run(append(args, "-json"), strings.NewReader(""), &out, io.Discard, nil, os.Getenv); code != exitFail ||
		!strings.Contains(out.String(), `"reason":"node_timeout"`) || !strings.Contains(out.String(), "after 1 attempts") {
		t.Errorf("silent node, -json: exit %d, %q", code, out.String())
	}
}
