package conform

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"mi/wire"
)

// fault is a way a node can be wrong; the mutation test runs the suite
// against a fakeNode with each and wants at least one scenario to fail.
type fault string

const (
	faultNone       fault = ""
	faultWrongCode  fault = "wrong reply code"                 // RR1 to a user of the domain
	faultWrongPort  fault = "reply to the wrong port"          // its own RLs go to the source port + 1
	faultBurst      fault = "forwarding every PL of a burst"   // the same locate is forwarded each time it comes
	faultTakeover   fault = "registration taken at once"       // a PR from a new address wins without a check
	faultForged     fault = "serving forged askers"            // a PL is served whoever claims its asker
	faultAlterPL    fault = "forwarding the PL altered"        // the forwarded PL names another asker
	faultCrash      fault = "crashing on a malformed datagram" // the node stops serving
	faultRR0Anyone  fault = "answering RR0 to anyone"          // an unknown user registers too
	faultOpenRL     fault = "routing any RL"                   // an RL is routed without a pending locate
	faultNoRemote   fault = "no forwarding to other domains"   // a locate of another domain is answered RL2
	faultStrangerPD fault = "deregistration from anyone"       // a PD is honoured from any address
	faultNoOffline  fault = "never marking anyone offline"     // unanswered locates do not count
)

var faults = []fault{faultWrongCode, faultWrongPort, faultBurst, faultTakeover, faultForged, faultAlterPL, faultCrash,
	faultRR0Anyone, faultOpenRL, faultNoRemote, faultStrangerPD, faultNoOffline}

// fakeCheckWait is how long the fake node's check of a registered agent
// waits for its answer, and fakeRepeatGap how soon it forwards the same
// locate again.
const (
	fakeCheckWait = 300 * time.Millisecond
	fakeRepeatGap = 200 * time.Millisecond
	// fakeLocateWait is how long a locate forwarded to an agent waits for
	// its RL; wire.OfflineAfter of them in a row unanswered mark the user
	// offline, as lumi-node does with its -locate-wait.
	fakeLocateWait = 600 * time.Millisecond
)

// fakeNode is a small LUMI node for the mutation test, written from
// PROTOCOL.md and the strict rules, that can be broken in one way. It is
// not the project's node: the suite must catch faults in any node.
type fakeNode struct {
	conn   *net.UDPConn
	domain string
	remote netip.AddrPort // the node of every other domain
	fault  fault

	mu      sync.Mutex
	users   map[string]*fakeUser
	pending map[string]fakePending
}

type fakeUser struct {
	online     bool
	unanswered int // locates forwarded to agent that ended with no RL, in a row
	agent      netip.AddrPort
	checking   netip.AddrPort // a PR from here waits for the check of agent
}

type fakePending struct {
	forwardedTo, requester netip.AddrPort
	at                     time.Time
}

func startFakeNode(domain string, users []string, remote netip.AddrPort, f fault) (*fakeNode, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	n := &fakeNode{conn: conn, domain: domain, remote: remote, fault: f, users: map[string]*fakeUser{}, pending: map[string]fakePending{}}
	for _, u := range users {
		n.users[strings.ToLower(u)] = &fakeUser{}
	}
	go n.serve()
	return n, nil
}

func (n *fakeNode) addr() string { return n.conn.LocalAddr().String() }

func (n *fakeNode) close() { n.conn.Close() }

func (n *fakeNode) serve() {
	buf := make([]byte, 2048)
	for {
		k, src, err := n.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		m, err := wire.DecodePLUMI(buf[:k])
		if err != nil {
			if n.fault == faultCrash {
				n.conn.Close()
				return
			}
			continue
		}
		n.mu.Lock()
		n.handle(m, buf[:k], src)
		n.mu.Unlock()
	}
}

func (n *fakeNode) send(to netip.AddrPort, m wire.Message) {
	if _, rl := m.(*wire.LocateReply); n.fault == faultWrongPort && rl {
		to = netip.AddrPortFrom(to.Addr(), to.Port()+1)
	}
	b, err := m.Append(nil)
	if err == nil {
		n.conn.WriteToUDPAddrPort(b, to)
	}
}

func (n *fakeNode) ours(a wire.Address) bool { return strings.EqualFold(a.Domain, n.domain) }

func (n *fakeNode) user(a wire.Address) *fakeUser {
	if !n.ours(a) {
		return nil
	}
	return n.users[strings.ToLower(a.User)]
}

func fakeKey(from, to wire.Address) string { return strings.ToLower(from.String() + ":" + to.String()) }

func (n *fakeNode) handle(m wire.Message, b []byte, src netip.AddrPort) {
	switch m := m.(type) {
	case *wire.Register:
		u := n.user(m.Addr)
		switch {
		case u == nil && n.fault == faultRR0Anyone:
			n.send(src, &wire.RegisterReply{Code: wire.RegisterOK})
		case u == nil || n.fault == faultWrongCode:
			n.send(src, &wire.RegisterReply{Code: wire.RegisterRefused})
		case u.online && u.agent != src && n.fault != faultTakeover:
			n.check(m.Addr, u, src)
		default:
			u.online, u.agent, u.unanswered = true, src, 0
			n.send(src, &wire.RegisterReply{Code: wire.RegisterOK})
		}
	case *wire.Deregister:
		u := n.user(m.Addr)
		if u == nil || u.agent != src && n.fault != faultStrangerPD {
			n.send(src, &wire.DeregisterReply{Code: wire.DeregisterRefused})
			return
		}
		u.online = false
		n.send(src, &wire.DeregisterReply{Code: wire.DeregisterOK})
	case *wire.Locate:
		n.locate(m, b, src)
	case *wire.LocateReply:
		n.locateReply(m, b, src)
	}
}

// check asks the registered agent of u whether it is alive before src
// may take the registration: an answer refuses src (locateReply), silence
// lets it in.
func (n *fakeNode) check(a wire.Address, u *fakeUser, src netip.AddrPort) {
	if u.checking.IsValid() {
		return
	}
	u.checking = src
	n.send(u.agent, &wire.Locate{From: a, To: a})
	time.AfterFunc(fakeCheckWait, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		if u.checking == src {
			u.checking, u.agent = netip.AddrPort{}, src
			n.send(src, &wire.RegisterReply{Code: wire.RegisterOK})
		}
	})
}

func (n *fakeNode) locate(m *wire.Locate, b []byte, src netip.AddrPort) {
	reply := func(code wire.LocateCode) {
		n.send(src, &wire.LocateReply{Code: code, From: m.From, To: m.To})
	}
	if asker := n.user(m.From); n.ours(m.From) && (asker == nil || asker.agent != src) && n.fault != faultForged {
		return
	}
	if p, ok := n.pending[fakeKey(m.From, m.To)]; ok && p.requester == src && time.Since(p.at) < fakeRepeatGap && n.fault != faultBurst {
		return
	}
	if !n.ours(m.To) {
		switch {
		case !n.ours(m.From):
		case n.fault == faultNoRemote:
			reply(wire.LocateUnknown)
		default:
			n.pending[fakeKey(m.From, m.To)] = fakePending{n.remote, src, time.Now()}
			n.conn.WriteToUDPAddrPort(b, n.remote)
		}
		return
	}
	u := n.user(m.To)
	switch {
	case u == nil:
		reply(wire.LocateUnknown)
	case !u.online:
		reply(wire.LocateOffline)
	default:
		k, p := fakeKey(m.From, m.To), fakePending{u.agent, src, time.Now()}
		n.pending[k] = p
		time.AfterFunc(fakeLocateWait, func() { n.unanswered(k, p, u) })
		if n.fault == faultAlterPL {
			alt := *m
			alt.From.User += "x"
			b, _ = alt.Append(nil)
		}
		n.conn.WriteToUDPAddrPort(b, u.agent)
	}
}

func (n *fakeNode) locateReply(m *wire.LocateReply, b []byte, src netip.AddrPort) {
	if u := n.user(m.To); u != nil && u.agent == src && u.checking.IsValid() {
		n.send(u.checking, &wire.RegisterReply{Code: wire.RegisterRefused})
		u.checking = netip.AddrPort{}
	}
	k := fakeKey(m.From, m.To)
	p, ok := n.pending[k]
	if !ok || p.forwardedTo != src {
		if n.fault != faultOpenRL {
			return
		}
		if u := n.user(m.From); u != nil && u.online {
			n.conn.WriteToUDPAddrPort(b, u.agent)
		}
		return
	}
	delete(n.pending, k)
	if u := n.user(m.To); u != nil && u.agent == src {
		u.unanswered = 0
	}
	n.conn.WriteToUDPAddrPort(b, p.requester)
}

// unanswered ends the locate p to u's agent if no RL came: the
// wire.OfflineAfter-th in a row marks u offline, unless the fault is
// never to.
func (n *fakeNode) unanswered(k string, p fakePending, u *fakeUser) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if q, ok := n.pending[k]; !ok || q != p {
		return
	}
	delete(n.pending, k)
	if u.agent != p.forwardedTo || !u.online {
		return
	}
	if u.unanswered++; u.unanswered >= wire.OfflineAfter && n.fault != faultNoOffline {
		u.online, u.unanswered = false, 0
	}
}
