package conform

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mi/wire"
)

// TestMain makes the test binary the fake agent when the engine starts
// it with -exec (see fakeAgentExec).
func TestMain(m *testing.M) {
	if os.Getenv("CONFORM_FAKE_AGENT") == "1" {
		os.Exit(fakeAgent(os.Args[1], os.Args[2]))
	}
	os.Exit(m.Run())
}

// mockNode is a LUMI node small enough to read at once, for the engine's
// tests: registrations, locates in its domain and to one remote node, and
// optional misbehaviour. It logs what it received.
type mockNode struct {
	conn   *net.UDPConn
	domain string
	remote netip.AddrPort
	mute   bool // answers nothing at all
	refuse bool // answers RR1 to everyone

	mu       sync.Mutex
	users    map[string]netip.AddrPort // user -> agent; absent: not a user; zero: offline
	requests map[string]netip.AddrPort // from:to of a forwarded PL -> who asked
	got      []string
}

func startMockNode(t *testing.T, domain string, users []string, remote netip.AddrPort) *mockNode {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	n := &mockNode{conn: conn, domain: domain, remote: remote, users: map[string]netip.AddrPort{}, requests: map[string]netip.AddrPort{}}
	for _, u := range users {
		n.users[u] = netip.AddrPort{}
	}
	done := make(chan struct{})
	go func() { defer close(done); n.serve() }()
	t.Cleanup(func() { conn.Close(); <-done })
	return n
}

func (n *mockNode) addr() string { return n.conn.LocalAddr().String() }

func (n *mockNode) serve() {
	buf := make([]byte, 2048)
	for {
		k, src, err := n.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		n.mu.Lock()
		n.got = append(n.got, string(buf[:k]))
		if !n.mute {
			n.handle(buf[:k], src)
		}
		n.mu.Unlock()
	}
}

func (n *mockNode) reply(to netip.AddrPort, m wire.Message) {
	if b, err := m.Append(nil); err == nil {
		n.conn.WriteToUDPAddrPort(b, to)
	}
}

// online returns the users registered now.
func (n *mockNode) online() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for u, ap := range n.users {
		if ap.IsValid() {
			out = append(out, u)
		}
	}
	return out
}

func (n *mockNode) handle(b []byte, src netip.AddrPort) {
	var d wire.PLUMIDatagram
	if d.Decode(b) != nil {
		return
	}
	ours := func(a wire.Address) bool { return a.Domain == n.domain }
	switch d.Tag {
	case wire.TagRegister:
		a := d.Register.Addr
		if _, ok := n.users[a.User]; !ok || !ours(a) || n.refuse {
			n.reply(src, &wire.RegisterReply{Code: wire.RegisterRefused})
			return
		}
		n.users[a.User] = src
		n.reply(src, &wire.RegisterReply{Code: wire.RegisterOK})
	case wire.TagDeregister:
		a := d.Deregister.Addr
		if ap, ok := n.users[a.User]; !ok || !ours(a) || ap != src {
			n.reply(src, &wire.DeregisterReply{Code: wire.DeregisterRefused})
			return
		}
		n.users[a.User] = netip.AddrPort{}
		n.reply(src, &wire.DeregisterReply{Code: wire.DeregisterOK})
	case wire.TagLocate:
		m := d.Locate
		key := m.From.String() + ":" + m.To.String()
		if !ours(m.To) {
			n.requests[key] = src
			n.conn.WriteToUDPAddrPort(b, n.remote)
			return
		}
		ap, ok := n.users[m.To.User]
		switch {
		case !ok:
			n.reply(src, &wire.LocateReply{Code: wire.LocateUnknown, From: m.From, To: m.To})
		case !ap.IsValid():
			n.reply(src, &wire.LocateReply{Code: wire.LocateOffline, From: m.From, To: m.To})
		default:
			n.requests[key] = src
			n.conn.WriteToUDPAddrPort(b, ap)
		}
	case wire.TagLocateReply:
		key := d.LocateReply.From.String() + ":" + d.LocateReply.To.String()
		if to, ok := n.requests[key]; ok {
			delete(n.requests, key)
			n.conn.WriteToUDPAddrPort(b, to)
		}
	}
}

// fakeRetry is how long the fake agent waits for a reply before sending
// its request again.
const fakeRetry = 300 * time.Millisecond

// fakeAgentExec is the -exec command that runs the fake agent.
func fakeAgentExec() string {
	return "CONFORM_FAKE_AGENT=1 exec " + shellQuote(os.Args[0]) + " {node} {addr}"
}

// fakeAgent is a small MI agent: it registers with node, answers locates
// (RL0 with its chat socket, RL1 while in a conversation), exchanges
// nicknames as the callee, sends its stdin lines to the peer, and at the
// end of stdin deregisters and exits. It returns the exit status.
func fakeAgent(node, addr string) int {
	fmt.Println("fake agent", addr, "starting, node", node)
	a, err := wire.ParseAddress(addr)
	if err != nil {
		fmt.Println(err)
		return 2
	}
	nodeAP := netip.MustParseAddrPort(node)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	chat := ln.Addr().(*net.TCPAddr).AddrPort()
	// request sends b until a datagram with tag want comes back.
	request := func(b []byte, want string, replies <-chan string) bool {
		for range wire.Attempts {
			conn.WriteToUDPAddrPort(b, nodeAP)
			select {
			case tag := <-replies:
				if tag == want {
					return true
				}
			case <-time.After(fakeRetry):
			}
		}
		return false
	}
	replies := make(chan string, 8)
	var busy atomic.Bool
	var mu sync.Mutex
	var peer net.Conn
	go func() { // the node
		buf := make([]byte, 2048)
		for {
			k, src, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			var d wire.PLUMIDatagram
			if d.Decode(buf[:k]) != nil {
				continue
			}
			if d.Tag != wire.TagLocate {
				replies <- d.Tag
				continue
			}
			rl := wire.LocateReply{Code: wire.LocateBusy, From: d.Locate.From, To: d.Locate.To}
			if !busy.Load() {
				rl.Code, rl.IP, rl.Port = wire.LocateFound, chat.Addr(), chat.Port()
			}
			if b, err := rl.Append(nil); err == nil {
				conn.WriteToUDPAddrPort(b, src)
			}
		}
	}()
	go func() { // the chats, one at a time
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !busy.CompareAndSwap(false, true) {
				c.Close()
				continue
			}
			go func() {
				defer c.Close()
				defer busy.Store(false) // before the close: once the caller sees it, a locate finds the agent free
				r := wire.NewReader(c)
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				if m, err := r.ReadMessage(); err != nil || m.Tag() != wire.TagNick {
					fmt.Println("handshake failed:", err)
					return
				}
				c.SetReadDeadline(time.Time{})
				// In the conversation before the nickname goes out (under
				// the lock the typed lines take): a line typed once the
				// caller has it must reach the caller, after it.
				mu.Lock()
				peer = c
				wire.NewWriter(c).WriteMessage(&wire.Nick{Nick: a.User})
				mu.Unlock()
				for {
					m, err := r.ReadMessage()
					if err != nil {
						fmt.Println("conversation over:", err)
						mu.Lock()
						peer = nil
						mu.Unlock()
						return
					}
					if l, ok := m.(*wire.Line); ok {
						fmt.Printf("line %q\n", l.Text)
					}
				}
			}()
		}
	}()
	pr, _ := (&wire.Register{Addr: a}).Append(nil)
	if !request(pr, wire.TagRegisterReply, replies) {
		fmt.Println("no registration reply")
		return 1
	}
	fmt.Println("registered")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		mu.Lock()
		if peer != nil {
			wire.NewWriter(peer).WriteLine(sc.Text())
		}
		mu.Unlock()
	}
	pd, _ := (&wire.Deregister{Addr: a}).Append(nil)
	if !request(pd, wire.TagDeregisterReply, replies) {
		fmt.Println("no deregistration reply")
		return 1
	}
	fmt.Println("deregistered")
	return 0
}
