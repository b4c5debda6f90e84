package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"mi/lumi"
	"mi/lumi/dnszone"
	"mi/plumi"
	"mi/plumi/plumitest"
	"mi/wire"
)

// askLocate makes the fake node forward a PL for a to a and returns the
// agent's answer.
func askLocate(t *testing.T, n *plumitest.Node, a *Agent, from string) wire.LocateReply {
	t.Helper()
	n.Send(a.Client().LocalAddr(), &wire.Locate{From: plumitest.Addr(t, from), To: a.Addr()})
	dg, _ := n.Recv(2 * time.Second)
	if dg.Tag != wire.TagLocateReply {
		t.Fatalf("agent answered %s, want RL", dg.Tag)
	}
	return dg.LocateReply
}

// dialPeer connects to a's chat socket as a peer and exchanges nicknames.
func dialPeer(t *testing.T, a *Agent, nick string) (net.Conn, *wire.Reader) {
	t.Helper()
	return dialPeerAt(t, a, a.ChatAddr(), nick)
}

// dialPeerAt connects to a at ap (its chat socket, or a caller port an RL0
// gave) as a peer and exchanges nicknames.
func dialPeerAt(t *testing.T, a *Agent, ap netip.AddrPort, nick string) (net.Conn, *wire.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := wire.NewWriter(conn).WriteMessage(&wire.Nick{Nick: nick}); err != nil {
		t.Fatal(err)
	}
	r := wire.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	m, err := r.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := m.(*wire.Nick); !ok || n.Nick != a.Nick() {
		t.Fatalf("agent answered %#v, want its nick %q", m, a.Nick())
	}
	return conn, r
}

func TestAnswersLocateFreeAndBusy(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", nil)
	rl := askLocate(t, n, a, "pau@cc.org")
	wantRL := wire.LocateReply{Code: wire.LocateFound, From: plumitest.Addr(t, "pau@cc.org"), To: a.Addr(),
		IP: netip.MustParseAddr("127.0.0.1"), Port: rl.Port}
	if rl != wantRL || rl.Port == 0 || rl.Port == a.ChatAddr().Port() {
		t.Fatalf("free: got %+v, want %+v with a caller port of its own", rl, wantRL)
	}
	conn, _ := dialPeerAt(t, a, netip.AddrPortFrom(rl.IP, rl.Port), "pau")
	e := want(t, a, EventConnected)
	if e.PeerNick != "pau" || e.PeerAddr != "pau@cc.org" || !e.Claimed || e.Initiator || e.Remote != conn.LocalAddr().String() {
		t.Errorf("connected event %+v", e)
	}
	// Mid-conversation, and again after a line: busy.
	for i := 0; i < 2; i++ {
		rl = askLocate(t, n, a, "joan@cc.org")
		if rl.Code != wire.LocateBusy || rl.From.String() != "joan@cc.org" || rl.IP.IsValid() {
			t.Fatalf("in a conversation: got %+v, want RL1", rl)
		}
		wire.NewWriter(conn).WriteLine("hola")
		want(t, a, EventLine)
	}
	// A second caller while busy is turned away; the first conversation goes on.
	c2, err := net.Dial("tcp", a.ChatAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	c2.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c2.Read(make([]byte, 10)); err == nil {
		t.Error("second caller got data")
	}
	c2.Close()
	conn.Close()
	if e := want(t, a, EventHangup); e.By != ByPeer {
		t.Errorf("hangup %+v", e)
	}
	if rl = askLocate(t, n, a, "joan@cc.org"); rl.Code != wire.LocateFound {
		t.Fatalf("after hangup: got %+v, want RL0", rl)
	}
	// A PL for the same address in other case is for us.
	n.Send(a.Client().LocalAddr(), &wire.Locate{From: plumitest.Addr(t, "pau@cc.org"), To: plumitest.Addr(t, "Laura@BB.com")})
	if dg, _ := n.Recv(2 * time.Second); dg.Tag != wire.TagLocateReply || dg.LocateReply.Code != wire.LocateFound || dg.LocateReply.To.String() != "Laura@BB.com" {
		t.Errorf("PL in other case: answered %+v", dg)
	}
	// A PL for someone else is not answered.
	n.Send(a.Client().LocalAddr(), &wire.Locate{From: plumitest.Addr(t, "pau@cc.org"), To: plumitest.Addr(t, "marc@bb.com")})
	if dg, _, ok := n.TryRecv(200 * time.Millisecond); ok {
		t.Errorf("answered a PL for another user: %+v", dg)
	}
}

func TestAdvertise(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) {
		c.Listen = ":0"
		c.Advertise = netip.MustParseAddr("192.0.2.7")
	})
	rl := askLocate(t, n, a, "pau@cc.org")
	if rl.IP != netip.MustParseAddr("192.0.2.7") || rl.Port == 0 {
		t.Errorf("got %+v", rl)
	}
	// Without -advertise and listening on every address, the ip is the one
	// that reaches the node.
	b := newTestAgent(t, n, "marc@bb.com", func(c *Config) { c.Listen = ":0" })
	if rl := askLocate(t, n, b, "pau@cc.org"); rl.IP != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("got %+v, want 127.0.0.1", rl)
	}
}

func TestPeerFraming(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", nil)
	lines := []string{"hola", "", "què tal?", strings.Repeat("x", wire.MaxLineLen)}
	var stream []byte
	stream, _ = (&wire.Nick{Nick: "pau"}).Append(stream)
	for _, l := range lines {
		stream, _ = (&wire.Line{Text: l}).Append(stream)
	}
	cases := []struct {
		name  string
		write func(net.Conn)
	}{
		{"one byte at a time", func(c net.Conn) {
			for i := range stream {
				c.Write(stream[i : i+1])
				time.Sleep(time.Millisecond)
			}
		}},
		{"all in one write", func(c net.Conn) { c.Write(stream) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", a.ChatAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			tc.write(conn)
			e := want(t, a, EventConnected)
			if e.PeerNick != "pau" {
				t.Errorf("peer nick %q", e.PeerNick)
			}
			for _, l := range lines {
				if e := want(t, a, EventLine); e.Text != l || e.From != "pau" {
					t.Errorf("line %+v, want %q", e, l)
				}
			}
			conn.Close()
			want(t, a, EventHangup)
		})
	}
}

func TestBadPeersAreDropped(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.HandshakeTimeout = time.Second })
	cases := []struct {
		name, send string
		msg        string
	}{
		{"garbage", "GET / HTTP/1.1\r\n\r\n", "dropped"},
		{"a line before the nickname", "L04hola", "before its nickname"},
		{"stalls in the header", "N0", "no nickname within"},
		{"stalls in the nickname", "N05pa", "no nickname within"},
		{"closes early", "", "closed the connection"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", a.ChatAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write([]byte(tc.send))
			if tc.send == "" {
				conn.(*net.TCPConn).CloseWrite()
			}
			// While the peer holds the handshake, the agent is free: a
			// nickname exchange does not make it busy.
			if strings.HasPrefix(tc.name, "stalls") {
				if rl := askLocate(t, n, a, "pau@cc.org"); rl.Code != wire.LocateFound {
					t.Errorf("during a stalled handshake: %+v, want RL0", rl)
				}
			}
			e := want(t, a, EventError)
			if e.Reason != "handshake_failed" || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("event %+v, want handshake_failed with %q", e, tc.msg)
			}
			conn.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := io.ReadAll(conn); err != nil {
				t.Errorf("connection not closed by the agent: %v", err)
			}
			// The agent is free again and still works.
			if rl := askLocate(t, n, a, "pau@cc.org"); rl.Code != wire.LocateFound {
				t.Errorf("after: %+v, want RL0", rl)
			}
			c, _ := dialPeer(t, a, "ok")
			want(t, a, EventConnected)
			c.Close()
			want(t, a, EventHangup)
		})
	}
}

func TestGarbageMidConversation(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", nil)
	conn, _ := dialPeer(t, a, "pau")
	want(t, a, EventConnected)
	conn.Write([]byte("L02okZZZZZ"))
	want(t, a, EventLine)
	if e := want(t, a, EventError); e.Reason != "peer_error" {
		t.Errorf("got %+v", e)
	}
	if e := want(t, a, EventHangup); e.By != ByPeer {
		t.Errorf("got %+v", e)
	}
}

// TestCall runs a whole conversation between two agents, with a fake node
// that routes the locate.
func TestCall(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", nil)
	b := newTestAgent(t, n, "pau@cc.org", func(c *Config) { c.Nick = "Pau" })
	errc := make(chan error, 1)
	if err := callVia(t, n, a, b); err != nil {
		t.Fatal(err)
	}
	if e := want(t, a, EventLocating); e.Target != "pau@cc.org" {
		t.Errorf("%+v", e)
	}
	if e := want(t, a, EventLocated); e.IP != "127.0.0.1" || e.Port == 0 || e.Port == int(b.ChatAddr().Port()) {
		t.Errorf("%+v", e)
	}
	ea, eb := want(t, a, EventConnected), want(t, b, EventConnected)
	if ea.PeerNick != "Pau" || ea.PeerAddr != "pau@cc.org" || !ea.Initiator || ea.Remote != eb.Local || ea.Local != eb.Remote {
		t.Errorf("caller %+v, callee %+v", ea, eb)
	}
	if eb.PeerNick != "laura" || eb.PeerAddr != "laura@bb.com" || !eb.Claimed || eb.Initiator || ea.Claimed {
		t.Errorf("callee %+v", eb)
	}
	if p, ok := a.Peer(); !ok || p.Nick != "Pau" {
		t.Errorf("Peer = %+v, %v", p, ok)
	}
	long := strings.Repeat("ça va ", 3*wire.MaxLineLen/len("ça va ")) // about three lines
	a.Send("bon dia")
	a.Send(long)
	b.Send("hola!")
	if e := want(t, b, EventLine); e.Text != "bon dia" || e.From != "laura" {
		t.Errorf("%+v", e)
	}
	var got string
	for len(got) < len(long) {
		got += want(t, b, EventLine).Text
	}
	if got != long {
		t.Errorf("long line came as %q", got)
	}
	if e := want(t, a, EventLine); e.Text != "hola!" || e.From != "Pau" {
		t.Errorf("%+v", e)
	}
	// A second call while talking is refused here, without asking the node.
	if err := a.Call(context.Background(), "marc@bb.com"); !errors.Is(err, ErrInConvers) {
		t.Errorf("second call: %v", err)
	}
	want(t, a, EventError)
	if err := a.Hangup(); err != nil {
		t.Fatal(err)
	}
	if e := want(t, a, EventHangup); e.By != ByLocal {
		t.Errorf("%+v", e)
	}
	if e := want(t, b, EventHangup); e.By != ByPeer {
		t.Errorf("%+v", e)
	}
	if err := a.Send("anyone?"); !errors.Is(err, ErrNotConnected) {
		t.Errorf("send after hangup: %v", err)
	}
	want(t, a, EventError)
	// Deregister.
	go func() { errc <- a.Deregister(context.Background()) }()
	dg, src := n.Recv(time.Second)
	if dg.Tag != wire.TagDeregister {
		t.Fatalf("got %s", dg.Tag)
	}
	n.Send(src, &wire.DeregisterReply{Code: wire.DeregisterOK})
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	want(t, a, EventDeregistered)
}

func TestCallConnectFails(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", nil)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nobody listens there any more
	go func() {
		dg, src := n.Recv(time.Second)
		n.Send(src, &wire.LocateReply{Code: wire.LocateFound, From: dg.Locate.From, To: dg.Locate.To,
			IP: netip.MustParseAddr("127.0.0.1"), Port: uint16(port)})
	}()
	err := a.Call(context.Background(), "pau@cc.org")
	if !errors.Is(err, ErrConnect) {
		t.Fatalf("err %v", err)
	}
	want(t, a, EventLocating)
	want(t, a, EventLocated)
	if e := want(t, a, EventError); e.Reason != "connect_failed" {
		t.Errorf("%+v", e)
	}
}

func TestUnknownDomainThroughDNS(t *testing.T) {
	zone, err := dnszone.Start("127.0.0.1:0",
		dnszone.MustRR("bb.com. 60 IN SOA ns.bb.com. admin.bb.com. 1 60 60 60 60"),
		dnszone.MustRR("_lumi._udp.bb.com. 60 IN SRV 0 0 1 node.bb.com."),
		dnszone.MustRR("node.bb.com. 60 IN A 127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer zone.Close()
	res, err := lumi.NewResolver(lumi.Config{DNSServer: zone.Addr(), HostsFile: "-", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Config{Addr: plumitest.Addr(t, "laura@nowhere.example"), Resolver: res})
	if !errors.Is(err, plumi.ErrDomainUnknown) {
		t.Fatalf("New for a domain without a node: %v", err)
	}
	// RL2 for another domain: the resolver tells which part is unknown.
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.Resolver = res })
	for target, reason := range map[string]string{"x@nowhere.example": "domain_unknown", "x@bb.com": "user_unknown"} {
		go func() {
			dg, src := n.Recv(time.Second)
			n.Send(src, &wire.LocateReply{Code: wire.LocateUnknown, From: dg.Locate.From, To: dg.Locate.To})
		}()
		err := a.Call(context.Background(), target)
		if plumi.ReasonOf(err) != reason {
			t.Errorf("%s: %v, want %s", target, err, reason)
		}
		want(t, a, EventLocating)
		if e := want(t, a, EventError); e.Reason != reason {
			t.Errorf("%+v", e)
		}
	}
}

func TestDataLog(t *testing.T) {
	n := plumitest.NewNode(t)
	path := t.TempDir() + "/p2p-laura.log"
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.LogPath = path })
	askLocate(t, n, a, "pau@cc.org")
	a.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	na := n.Addr().String()
	wantLines := []string{
		"------ INICI LOG ------",
		"E: " + strings.Replace(na, ":", ":UDP:", 1) + ", PRlaura@bb.com, 14",
		"R: " + strings.Replace(na, ":", ":UDP:", 1) + ", RR0, 3",
		"R: " + strings.Replace(na, ":", ":UDP:", 1) + ", PLpau@cc.org:laura@bb.com, 25",
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 6 || lines[5] != "------ FINAL LOG ------" || !strings.HasPrefix(lines[4], "E: ") {
		t.Fatalf("log:\n%s", b)
	}
	for i, w := range wantLines {
		if lines[i] != w {
			t.Errorf("line %d: %q, want %q", i, lines[i], w)
		}
	}
}

func TestEventJSON(t *testing.T) {
	tm := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		e    Event
		want string
	}{
		{Event{Kind: EventRegistered, Time: tm, Addr: "a@b", Node: "1.2.3.4:3344", Text: "ignored"},
			`{"event":"registered","time":"2026-01-02T03:04:05Z","addr":"a@b","node":"1.2.3.4:3344"}`},
		{Event{Kind: EventLocated, Time: tm, Target: "a@b", IP: "1.2.3.4", Port: 5},
			`{"event":"located","time":"2026-01-02T03:04:05Z","target":"a@b","ip":"1.2.3.4","port":5}`},
		{Event{Kind: EventConnected, Time: tm, PeerNick: "p", Local: "1.1.1.1:1", Remote: "2.2.2.2:2"},
			`{"event":"connected","time":"2026-01-02T03:04:05Z","peer_nick":"p","local":"1.1.1.1:1","remote":"2.2.2.2:2","initiator":false}`},
		{Event{Kind: EventLine, Time: tm, From: "p", Text: "<hi>"},
			`{"event":"line","time":"2026-01-02T03:04:05Z","from":"p","text":"\u003chi\u003e"}`},
		{Event{Kind: EventError, Time: tm, Reason: "busy", Message: "m"},
			`{"event":"error","time":"2026-01-02T03:04:05Z","reason":"busy","message":"m"}`},
		{Event{Kind: EventError, Time: tm, Reason: "domain_unknown", Cause: plumi.Cause{Kind: plumi.CauseNXDomain, Domain: "cc.orgg"}, Message: "m"},
			`{"event":"error","time":"2026-01-02T03:04:05Z","reason":"domain_unknown","cause":{"kind":"no_such_domain","domain":"cc.orgg"},"message":"m"}`},
		{Event{Kind: EventError, Time: tm, Reason: "node_timeout", Message: "m",
			Cause: plumi.Cause{Kind: plumi.CauseNodeTimeout, Node: "1.2.3.4:3344", Tag: "PL", Attempts: 5, Wait: 1500 * time.Millisecond}},
			`{"event":"error","time":"2026-01-02T03:04:05Z","reason":"node_timeout","cause":{"kind":"node_timeout","node":"1.2.3.4:3344","tag":"PL","attempts":5,"wait_ms":1500},"message":"m"}`},
		{Event{Kind: EventNotice, Time: tm, Reason: NoticeLinesDropped, Count: 7, Message: "m", Text: "ignored"},
			`{"event":"notice","time":"2026-01-02T03:04:05Z","reason":"lines_dropped","count":7,"message":"m"}`},
	}
	for _, tc := range cases {
		b, err := json.Marshal(tc.e)
		if err != nil || !bytes.Equal(b, []byte(tc.want)) {
			t.Errorf("got %s, %v\nwant %s", b, err, tc.want)
		}
	}
}

// TestLineRightAfterNicknames: the callee is in the conversation by the
// time its nickname reaches the caller, so a line sent at once is not
// refused as "not in a conversation" (found by the conformance suite).
func TestLineRightAfterNicknames(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", nil)
	for i := 0; i < 50; i++ {
		conn, err := net.Dial("tcp", a.ChatAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		w, r := wire.NewWriter(conn), wire.NewReader(conn)
		w.WriteMessage(&wire.Nick{Nick: "pau"})
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if m, err := r.ReadMessage(); err != nil || m.Tag() != wire.TagNick {
			t.Fatalf("round %d: nickname: %v %v", i, m, err)
		}
		if err := a.Send("hola"); err != nil {
			t.Fatalf("round %d: a line sent as soon as the nickname arrived: %v", i, err)
		}
		if m, err := r.ReadMessage(); err != nil || m.Tag() != wire.TagLine {
			t.Fatalf("round %d: line: %v %v", i, m, err)
		}
		conn.Close()
		want(t, a, EventConnected)
		for e := next(t, a); e.Kind != EventHangup; e = next(t, a) {
		}
	}
}

// A DNS server that does not answer is a DNS failure, not an unknown
// domain or user: at start, and when RL2 comes for another domain.
func TestDNSFailureIsItsOwnReason(t *testing.T) {
	blackHole, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer blackHole.Close()
	res, err := lumi.NewResolver(lumi.Config{DNSServer: blackHole.LocalAddr().String(), HostsFile: "-", Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Config{Addr: plumitest.Addr(t, "laura@bb.com"), Resolver: res})
	if plumi.ReasonOf(err) != "dns_failure" {
		t.Fatalf("New with a silent DNS server: %v, want dns_failure", err)
	}
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.Resolver = res })
	go func() {
		dg, src := n.Recv(time.Second)
		n.Send(src, &wire.LocateReply{Code: wire.LocateUnknown, From: dg.Locate.From, To: dg.Locate.To})
	}()
	if err := a.Call(context.Background(), "x@cc.test"); plumi.ReasonOf(err) != "dns_failure" {
		t.Errorf("RL2 with a silent DNS server: %v, want dns_failure", err)
	}
}

// An agent that found its node through DNS moves to the domain's next node
// when the first does not answer its registration.
func TestRegisterFailsOverToTheNextNode(t *testing.T) {
	dead := plumitest.NewNode(t) // reads and never answers
	live := plumitest.NewNode(t)
	zone, err := dnszone.Start("127.0.0.1:0",
		dnszone.MustRR(fmt.Sprintf("_lumi._udp.bb.com. 60 IN SRV 10 0 %d n1.bb.com.", dead.Addr().Port())),
		dnszone.MustRR(fmt.Sprintf("_lumi._udp.bb.com. 60 IN SRV 20 0 %d n2.bb.com.", live.Addr().Port())),
		dnszone.MustRR("n1.bb.com. 60 IN A 127.0.0.1"),
		dnszone.MustRR("n2.bb.com. 60 IN A 127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer zone.Close()
	res, err := lumi.NewResolver(lumi.Config{DNSServer: zone.Addr(), HostsFile: "-", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Config{Addr: plumitest.Addr(t, "laura@bb.com"), Resolver: res, Attempts: 2, RetryInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	go func() {
		dg, src := live.Recv(5 * time.Second)
		if dg.Tag == wire.TagRegister {
			live.Send(src, &wire.RegisterReply{Code: wire.RegisterOK})
		}
	}()
	if err := a.Register(context.Background()); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if e := want(t, a, EventRegistered); e.Node != live.Addr().String() {
		t.Errorf("registered at %s, want the live node %s", e.Node, live.Addr())
	}
	if got := a.Node(); got != live.Addr() {
		t.Errorf("Node() = %v, want %v", got, live.Addr())
	}
}

// RL0 carries an IPv4 address only: an agent with nothing but IPv6 to give
// its peers is refused at start, saying why, rather than failing calls.
func TestIPv6OnlyAgentRefused(t *testing.T) {
	n := plumitest.NewNode(t)
	_, err := New(context.Background(), Config{Addr: plumitest.Addr(t, "laura@bb.com"), Node: n.Addr(), Listen: "127.0.0.1:0",
		Advertise: netip.MustParseAddr("2001:db8::7")})
	if plumi.ReasonOf(err) != "bad_address" || !strings.Contains(err.Error(), "not IPv4, which RL0 requires") {
		t.Errorf("New with an IPv6 advertised ip: %v", err)
	}
}

func TestBadAddressAndUnknownDomain(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", nil)
	for _, target := range []string{"nobody", "a@", "@b", "a b@c"} {
		if err := a.Call(context.Background(), target); !errors.Is(err, plumi.ErrBadAddress) {
			t.Errorf("Call(%q) = %v, want bad_address", target, err)
		}
		if e := want(t, a, EventError); e.Reason != "bad_address" {
			t.Errorf("Call(%q): event %+v", target, e)
		}
	}
	if _, err := New(context.Background(), Config{Addr: wire.Address{User: "x", Domain: ""}}); !errors.Is(err, plumi.ErrBadAddress) {
		t.Errorf("New with a bad address: %v", err)
	}
}
