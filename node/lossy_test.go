package node

import (
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"mi/internal/syncbuf"
	"mi/wire"
)

// TestLossyTargetLinkStaysOnline: the target's agent sits behind a link
// that loses 30% of datagrams each way. Over 100 locates, each with the
// agent's retry budget, the user stays online and the locates succeed as
// often as that budget predicts: silence, not loss, marks a user offline.
func TestLossyTargetLinkStaysOnline(t *testing.T) {
	const (
		loss    = 0.30
		locates = 100
		retry   = 30 * time.Millisecond // the asker's retry interval, shortened
	)
	var logs syncbuf.Buffer
	n := startNode(t, "127.0.0.1:0", "bb.com", []string{"u1", "u2"}, func(o *Options) {
		o.PendingTTL = 10 * retry
		o.Limits.RepeatGap = retry / 2
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	seed := uint64(time.Now().UnixNano())
	t.Logf("loss seed %d", seed)
	link := newLossyLink(t, n.Addr(), loss, seed)
	target := dialAgent(t)
	go link.relay(target.addr())

	// u2's agent registers through the link, retrying until it gets
	// through: five attempts all fail 3.5% of the time on this link.
	u2 := wire.Address{User: "u2", Domain: "bb.com"}
	var err error
	for range 5 {
		if err = target.exchange(link.agentSide(), mustAppend(&wire.Register{Addr: u2}), replyRR0); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	wg.Go(func() { target.answerAll(stop) })

	asker := dialAgent(t)
	u1 := wire.Address{User: "u1", Domain: "bb.com"}
	if err := asker.exchange(n.Addr(), mustAppend(&wire.Register{Addr: u1}), replyRR0); err != nil {
		t.Fatal(err)
	}
	pl := mustAppend(&wire.Locate{From: u1, To: u2})
	found := 0
	for range locates {
		if asker.locate(n.Addr(), pl, retry) {
			found++
		}
	}
	// One attempt gets through both ways with p = 0.7 * 0.7; a locate
	// fails only if all of its attempts do.
	p := 1 - math.Pow(1-(1-loss)*(1-loss), wire.Attempts)
	sd := math.Sqrt(locates * p * (1 - p))
	t.Logf("%d/%d locates found the user, predicted %.1f (sd %.1f); link dropped %d of %d datagrams",
		found, locates, p*locates, sd, link.dropped(), link.total())
	if min := p*locates - 6*sd; float64(found) < min {
		t.Errorf("%d/%d locates succeeded, want at least %.0f", found, locates, min)
	}
	if users := n.Users(); !users[1].Online {
		t.Errorf("u2 after the locates: %+v", users[1])
	}
	if strings.Contains(logs.String(), "marked offline") {
		t.Errorf("u2 was marked offline:\n%s", logs.String())
	}
}

// locate sends pl to node until an RL comes, at most wire.Attempts times
// retry apart, and says whether it found the user (RL0).
func (a *udpAgent) locate(node netip.AddrPort, pl []byte, retry time.Duration) bool {
	buf := make([]byte, readBuf)
	for range wire.Attempts {
		a.conn.WriteToUDPAddrPort(pl, node)
		deadline := time.Now().Add(retry)
		for {
			a.conn.SetReadDeadline(deadline)
			k, _, err := a.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				break // this attempt is lost: the next one
			}
			var d wire.PLUMIDatagram
			if d.Decode(buf[:k]) == nil && d.Tag == wire.TagLocateReply {
				return d.LocateReply.Code == wire.LocateFound
			}
		}
	}
	return false
}

// answerAll plays a free agent: every PL gets its RL0, until stop.
func (a *udpAgent) answerAll(stop <-chan struct{}) {
	buf := make([]byte, readBuf)
	for {
		select {
		case <-stop:
			return
		default:
		}
		a.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		k, src, err := a.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			continue
		}
		var d wire.PLUMIDatagram
		if d.Decode(buf[:k]) != nil || d.Tag != wire.TagLocate {
			continue
		}
		me := a.addr()
		rl := wire.LocateReply{Code: wire.LocateFound, From: d.Locate.From, To: d.Locate.To, IP: me.Addr(), Port: me.Port()}
		if b, err := rl.Append(nil); err == nil {
			a.conn.WriteToUDPAddrPort(b, src)
		}
	}
}

// lossyLink stands between one agent and its node, dropping each datagram
// with probability loss either way. The node sees the agent at nodeSide's
// address.
type lossyLink struct {
	node               netip.AddrPort
	nodeSide, agentEnd *net.UDPConn
	loss               float64
	mu                 sync.Mutex
	rnd                *rand.Rand
	droppedN, relayedN int
}

func newLossyLink(t *testing.T, node netip.AddrPort, loss float64, seed uint64) *lossyLink {
	l := &lossyLink{node: node, loss: loss, rnd: rand.New(rand.NewPCG(seed, seed))}
	for _, c := range []**net.UDPConn{&l.nodeSide, &l.agentEnd} {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		*c = conn
	}
	return l
}

// agentSide is where the agent sends what is meant for its node.
func (l *lossyLink) agentSide() netip.AddrPort {
	return l.agentEnd.LocalAddr().(*net.UDPAddr).AddrPort()
}

// relay carries datagrams both ways, for the agent at agent, until the
// sockets close.
func (l *lossyLink) relay(agent netip.AddrPort) {
	go l.pipe(l.agentEnd, l.nodeSide, l.node)
	l.pipe(l.nodeSide, l.agentEnd, agent)
}

// pipe reads from in and sends what survives from out to to.
func (l *lossyLink) pipe(in, out *net.UDPConn, to netip.AddrPort) {
	buf := make([]byte, readBuf)
	for {
		k, _, err := in.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if l.drop() {
			continue
		}
		out.WriteToUDPAddrPort(buf[:k], to)
	}
}

func (l *lossyLink) drop() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.rnd.Float64() < l.loss
	if d {
		l.droppedN++
	} else {
		l.relayedN++
	}
	return d
}

func (l *lossyLink) dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.droppedN
}

func (l *lossyLink) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.droppedN + l.relayedN
}
