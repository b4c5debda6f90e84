package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/agent"
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

func TestHumanError(t *testing.T) {
	cases := []struct{ reason, msg, want string }{
		{"busy", "pau@cc.org is busy in another conversation", "pau@cc.org is busy in another conversation"},
		{"bad_address", `bad address: -addr "nobody": field "addr.user" at offset 6: bad separator: missing '@'`,
			`-addr "nobody" is not a user@domain address (user: missing '@')`},
		{"bad_address", `bad address "pau@": field "addr.domain" at offset 4: bad field: missing`,
			`"pau@" is not a user@domain address (domain: missing)`},
		{"domain_unknown", "domain unknown: no LUMI node for domain x.test: lumi: no such domain", "no LUMI node for domain x.test: no such domain"},
		{"dns_failure", "cannot find the LUMI node of x.test: DNS failed: lumi: DNS failure: x.test (tried query SRV _lumi._udp.x.test to 127.0.0.1:9: read udp 127.0.0.1:1->127.0.0.1:9: read: connection refused)",
			"cannot find the LUMI node of x.test: DNS failed"},
		{"connect_failed", "connect to pau@cc.org at 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused",
			"connect to pau@cc.org at 127.0.0.1:1: connection refused"},
		{"network_error", "listen for chats on :99999: listen tcp: address 99999: invalid port", "listen for chats on :99999: invalid port"},
		{"network_error", "open log: open /x/p2p.log: permission denied", "open log: permission denied"},
		{"bad_command", "bad command: -secret-file: open /nonexist: no such file or directory", "-secret-file: no such file or directory"},
		{"node_timeout", "node 127.0.0.1:9 did not answer PR after 1 attempts 1s apart", "node 127.0.0.1:9 did not answer PR after 1 attempt"},
		{"node_timeout", "node 127.0.0.1:9 did not answer PR after 5 attempts 1s apart", "node 127.0.0.1:9 did not answer PR after 5 attempts 1s apart"},
	}
	var got, want []string
	for _, tc := range cases {
		got, want = append(got, humanError(tc.reason, tc.msg)), append(want, tc.want)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
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
