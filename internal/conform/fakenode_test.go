package conform

import (
	"net"
	"net/netip"
	"strings"
	"sync"

	"mi/wire"
)

// fault is a way a node can be wrong; the mutation test runs the suite
// against a fakeNode with each and wants at least one scenario to fail.
type fault string

const (
	faultNone       fault = ""
	faultWrongCode  fault = "wrong reply code"                 // RR1 to a user of the domain
	faultWrongPort  fault = "reply to the wrong port"          // its own RLs go to the source port + 1
	faultNoOffline  fault = "no offline detection"             // unanswered locates are forwarded forever
	faultAlterPL    fault = "forwarding the PL altered"        // the forwarded PL names another asker
	faultCrash      fault = "crashing on a malformed datagram" // the node stops serving
	faultRR0Anyone  fault = "answering RR0 to anyone"          // an unknown user registers too
	faultOpenRL     fault = "routing any RL"                   // an RL is routed without a pending locate
	faultNoRemote   fault = "no forwarding to other domains"   // a locate of another domain is answered RL2
	faultStrangerPD fault = "deregistration from anyone"       // a PD is honoured from any address
)

var faults = []fault{faultWrongCode, faultWrongPort, faultNoOffline, faultAlterPL, faultCrash, faultRR0Anyone,
	faultOpenRL, faultNoRemote, faultStrangerPD}

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
	agent      netip.AddrPort
	unanswered int
}

type fakePending struct{ forwardedTo, requester netip.AddrPort }

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

func (n *fakeNode) locate(m *wire.Locate, b []byte, src netip.AddrPort) {
	reply := func(code wire.LocateCode) {
		n.send(src, &wire.LocateReply{Code: code, From: m.From, To: m.To})
	}
	if !n.ours(m.To) {
		switch {
		case !n.ours(m.From):
		case n.fault == faultNoRemote:
			reply(wire.LocateUnknown)
		default:
			n.pending[fakeKey(m.From, m.To)] = fakePending{n.remote, src}
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
	case u.unanswered >= wire.OfflineAfter-1 && n.fault != faultNoOffline:
		u.online = false
		reply(wire.LocateOffline)
	default:
		u.unanswered++
		n.pending[fakeKey(m.From, m.To)] = fakePending{u.agent, src}
		if n.fault == faultAlterPL {
			alt := *m
			alt.From.User += "x"
			b, _ = alt.Append(nil)
		}
		n.conn.WriteToUDPAddrPort(b, u.agent)
	}
}

func (n *fakeNode) locateReply(m *wire.LocateReply, b []byte, src netip.AddrPort) {
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
