package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"mi/wire"
)

// Source ports: the node's defence against forged RLs between nodes, the
// one DNS resolvers use against forged answers (RFC 5452). A PL for another
// domain leaves from a port drawn at random from a pool of sockets that the
// node opens at start, and only an RL that comes back to that port, from
// the node the PL went to, is routed to the asker. An off-path attacker who
// forges the other node's address must now also guess the port, and the
// PL's pair of addresses, which it may know, no longer suffices.
//
// The original C node sends every RL to the asker's domain's node at port
// 3344, whatever port its PL came from. So an RL on the listening socket
// is still routed when it comes from the node the PL went to, unless that
// node is known to answer on the source port (sourcePeers): each of ours
// does, since it answers a PL to where it came from.

// DefaultSourcePorts is how many source ports a node opens unless told
// (Options.SourcePorts, lumi-node -source-ports). An attacker who does
// not know them must hit one port of the kernel's range (28,232 on Linux)
// whatever their number: it wins a locate with odds of about its rate
// times the time the locate waits for its RL, divided by 28,232. One who
// learnt them (a domain whose node our agents' PLs reach sees them) has
// those odds divided by their number instead. On the machine of
// BENCHMARKS.md, 256 cost 1.9 MB of RSS idle (2 MB under load), 256
// descriptors and goroutines and 10 ms at start; cross-domain locates
// went at 0.79 times the echo's rate against 0.84 with none, as with 64
// (0.80), where 1,024 went at 0.74 and took 7 MB idle, 9 MB under load.
const DefaultSourcePorts = 256

// sourcePortsOf is how many source ports Options.SourcePorts n opens.
func sourcePortsOf(n int) int {
	switch {
	case n == 0:
		return DefaultSourcePorts
	case n == 1 || n < 0:
		return 0
	}
	return n
}

// listenSources opens n sockets on the address of the listening socket
// at, each on a port the kernel draws at random from its ephemeral range
// (Linux: net.ipv4.ip_local_port_range, 32768 to 60999 by default).
func listenSources(at *net.UDPAddr, n int) ([]*net.UDPConn, error) {
	var conns []*net.UDPConn
	for len(conns) < n {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: at.IP, Zone: at.Zone})
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("source port %d of %d: %w", len(conns)+1, n, err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// peerMemory is how long a node that answered on a source port is taken to
// answer there: until then its RLs on the listening socket are refused.
// Each of its answers on a source port renews it. After it, the node is
// taken for one that may answer on the listening socket again, so that a
// domain whose node was replaced by the original C node works again, and
// so that a node wrongly taken to answer on the source port (an attacker
// who knew the source ports and the locate guessed one) is not refused for
// good.
const peerMemory = time.Hour

// maxPeerRecords bounds each table of sourcePeers. Only answers from the
// nodes the domain's agents locate users at enter them, but a user could
// locate users of many domains that an attacker made up, each at its own
// address. When a table is full and nothing in it has expired, a new node
// is not recorded: it is treated as one that answers on the listening
// socket, as all were before source ports.
const maxPeerRecords = 1 << 16

// sourcePeers is what the node knows of how other domains' nodes answer
// the PLs it sends them from its source ports. It is consulted off the
// common path: when an RL for a PL sent from a source port comes to the
// listening socket, or comes to a source port with no locate in flight
// for it, and it learns from each RL routed from a source port.
type sourcePeers struct {
	mu sync.Mutex
	// onSource holds the nodes that answered on a source port, with the
	// time of their last such answer (unix nanoseconds).
	onSource map[netip.AddrPort]int64
	// onListen holds the locates whose RL was routed from the listening
	// socket, from a node not known to answer on the source port, until
	// they would have expired. An RL for one of them from that node on
	// its source port shows that the node answers there, and that the
	// RL routed was forged: an attacker who sprays forged RLs at the
	// listening socket would otherwise win every locate before the
	// node's own RL, on the source port, could teach the node anything.
	onListen map[pendingKey]listenAnswer
}

// listenAnswer is a locate whose RL was routed from the listening socket.
type listenAnswer struct {
	peer    netip.AddrPort // the node its PL went to
	via     uint16         // the source port its PL left from
	expires int64          // when it would have expired, unix nanoseconds
}

func newSourcePeers() *sourcePeers {
	return &sourcePeers{onSource: make(map[netip.AddrPort]int64), onListen: make(map[pendingKey]listenAnswer)}
}

// answersOnSource says whether peer answered on a source port within
// peerMemory before now.
func (s *sourcePeers) answersOnSource(peer netip.AddrPort, now int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.onSource[peer]
	return ok && now-at < int64(peerMemory)
}

// sawOnSource records that peer answered on a source port at now, and
// says whether it is new: not known to answer there until now.
func (s *sourcePeers) sawOnSource(peer netip.AddrPort, now int64) (learnt bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sawLocked(peer, now)
}

func (s *sourcePeers) sawLocked(peer netip.AddrPort, now int64) (learnt bool) {
	at, ok := s.onSource[peer]
	learnt = !ok || now-at >= int64(peerMemory)
	if !ok && len(s.onSource) >= maxPeerRecords {
		for p, at := range s.onSource {
			if now-at >= int64(peerMemory) {
				delete(s.onSource, p)
			}
		}
		if len(s.onSource) >= maxPeerRecords {
			return false
		}
	}
	s.onSource[peer] = now
	return learnt
}

// routedOnListen records that the RL of the locate k, p, was routed from
// the listening socket at now.
func (s *sourcePeers) routedOnListen(k pendingKey, p pendingLocate, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.onListen[k]; !ok && len(s.onListen) >= maxPeerRecords {
		for k, a := range s.onListen {
			if a.expires <= now {
				delete(s.onListen, k)
			}
		}
		if len(s.onListen) >= maxPeerRecords {
			return
		}
	}
	s.onListen[k] = listenAnswer{peer: p.forwardedTo, via: p.via, expires: p.expires}
}

// forged says whether an RL for the locate k from peer on source port in
// answers a locate whose RL was routed from the listening socket at most
// its wait before now, from its PL's source port: then the node answers
// on the source port, which is recorded, and the RL routed was forged.
func (s *sourcePeers) forged(k pendingKey, peer netip.AddrPort, in uint16, now int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.onListen[k]
	if !ok || a.peer != peer || a.via != in || a.expires <= now {
		return false
	}
	delete(s.onListen, k)
	s.sawLocked(peer, now)
	return true
}

// handleSource runs one datagram b that came to source port w.in from src
// at now, as handle does for the listening socket. A source port serves
// the RLs of the PLs sent from it, which are for other domains' users;
// whatever else comes to it is dropped.
func (c *core) handleSource(w *scratch, b []byte, src netip.AddrPort, now time.Time) (_ []send, valid bool) {
	w.reset()
	d := &w.d
	if err := d.DecodeString(unsafeString(b)); err != nil {
		if c.drop(w, dropBad, src, b) {
			c.log.Warn("bad datagram dropped", "from", src, "port", c.portOf(w.in), "datagram", shown(b), "err", err.Error())
		}
		w.st.requests[invalidType][w.out].Add(1)
		return nil, false
	}
	if d.Tag == wire.TagLocateReply && !c.ours(d.LocateReply.To.Domain) {
		c.routeReply(w, &d.LocateReply, b, src, now)
	} else if c.drop(w, dropWrongPort, src, b) {
		c.log.Warn("datagram dropped: a source port takes only the RLs of the PLs sent from it", "from", src, "port", c.portOf(w.in), "datagram", shown(b))
	}
	w.count(d.Tag)
	return w.sends, true
}

// readSource reads the source port i, conn, until it is closed. Each
// datagram goes through the core on this goroutine, and an RL it routes
// goes to its asker, one of the domain's agents, from the listening
// socket, which is where an agent hears from its node. A source port
// carries only the RLs of the PLs sent from it, so a plain read loop with
// a buffer of one datagram serves it: a batch worker's 64 buffers each
// would cost a pool of them megabytes.
func (n *Node) readSource(ctx context.Context, i uint16, conn *net.UDPConn) error {
	w := newScratch(n.srcSt)
	w.in = i
	// One byte over the largest datagram: a longer one is read cut to
	// it, and refused as too long rather than served cut.
	buf := make([]byte, wire.PLUMIMax+1)
	for {
		k, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		n.srcSt.received.Add(1)
		src = unmap(src)
		b := buf[:k]
		sends, valid := n.core.handleSource(w, b, src, time.Now())
		if valid {
			n.dlog.Received(src, b)
		}
		n.sendAll(n.workers[0].conn, sends)
	}
}

// sendSource sends s from its source port.
func (n *Node) sendSource(s send) {
	if _, err := n.sources[s.via-1].WriteToUDPAddrPort(s.b, s.to); err != nil {
		n.log.Warn("send failed", "to", s.to, "port", n.core.sourcePorts[s.via-1], "datagram", shown(s.b), "err", err)
	}
}
