package node

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"mi/internal/datalog"
	"mi/wire"
)

// batch is how many datagrams one syscall reads or writes at most. Under
// load recvmmsg returns what is queued, up to this; a lone request is read
// alone, so batching never waits for company. The worker reads with a
// shorter batch while datagrams come few at a time, because preparing 64
// message headers per call costs a lone request about a microsecond
// (BenchmarkRead).
const (
	batch    = 64
	minBatch = 8
)

// readBuf is larger than any PLUMI datagram so that an oversized one is seen
// as such rather than cut to size as the reference did.
const readBuf = 2048

// batchConn reads and writes several datagrams per syscall (recvmmsg and
// sendmmsg on Linux; one per call elsewhere). ipv4.PacketConn and
// ipv6.PacketConn both are one.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// worker serves one socket: it reads a batch, runs each datagram through
// the core on this goroutine, and writes the replies of the batch in one
// batch. Nothing on this path hands a datagram to another goroutine.
type worker struct {
	n    *Node
	conn *net.UDPConn
	pc   batchConn
	s    *scratch
	rs   *scratch // for PLs to other domains whose node is known at once
	log  *datalog.Writer
	st   *counters // this worker's: the collector sums them

	in   []ipv4.Message
	size int // of the next read batch: minBatch to batch
	out  []ipv4.Message
	// outAddr and outBuf back out: one address and one datagram per slot,
	// allocated once.
	outAddr []net.UDPAddr
	outIP   [][16]byte
	outBuf  []byte
}

func newWorker(n *Node, conn *net.UDPConn) *worker {
	st := new(counters)
	w := &worker{
		n:       n,
		conn:    conn,
		st:      st,
		s:       newScratch(st),
		rs:      newScratch(st),
		log:     n.dlog.Writer(),
		in:      make([]ipv4.Message, batch),
		size:    minBatch,
		outAddr: make([]net.UDPAddr, 2*batch),
		outIP:   make([][16]byte, 2*batch),
		outBuf:  make([]byte, 0, 2*batch*wire.PLUMIMax),
	}
	if ap := conn.LocalAddr().(*net.UDPAddr).AddrPort(); ap.Addr().Is4() {
		w.pc = ipv4.NewPacketConn(conn)
	} else {
		w.pc = ipv6.NewPacketConn(conn)
	}
	for i := range w.in {
		w.in[i].Buffers = [][]byte{make([]byte, readBuf)}
	}
	w.out = make([]ipv4.Message, 2*batch)
	for i := range w.out {
		w.out[i].Buffers = make([][]byte, 1)
	}
	w.out = w.out[:0]
	return w
}

// serve reads until the socket is closed. wg counts the DNS lookups it
// starts; reading is called once, as the loop begins.
func (w *worker) serve(ctx context.Context, wg *sync.WaitGroup, reading func()) error {
	reading()
	for {
		k, err := w.pc.ReadBatch(w.in[:w.size], 0)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		w.resize(k)
		now := time.Now()
		w.st.received.Add(uint64(k))
		for i := range w.in[:k] {
			m := &w.in[i]
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			src := unmap(ua.AddrPort())
			b := m.Buffers[0][:m.N]
			sends, resolves, valid := w.n.core.handle(w.s, b, src, now)
			if valid {
				// Only datagrams that decode go to the log: the others
				// could hold anything, line breaks included.
				w.log.Received(src, b)
			}
			for _, s := range sends {
				w.queue(s)
			}
			for _, r := range resolves {
				w.n.startResolve(ctx, wg, w, r, now)
			}
			for _, r := range w.s.settles {
				w.n.startSettle(ctx, wg, w.conn, r)
			}
		}
		w.flush()
	}
}

// resize doubles the read batch when a read filled it and halves it when
// reads come back mostly empty.
func (w *worker) resize(k int) {
	switch {
	case k == w.size && w.size < batch:
		w.size *= 2
	case k <= w.size/4 && w.size > minBatch:
		w.size /= 2
	}
}

// queue adds s to the batch of replies, copying it out of the scratch. The
// log line goes first, before the datagram can cause anything another
// worker logs: that is what keeps the log in causal order (datalog).
func (w *worker) queue(s send) {
	w.log.Sent(s.to, s.b)
	w.st.sent.Add(1)
	if s.via != 0 {
		// A PL to another domain's node leaves from its source port, on
		// its own: the batch is the listening socket's.
		w.n.sendSource(s)
		return
	}
	if len(w.out) == cap(w.out) || len(w.outBuf)+len(s.b) > cap(w.outBuf) {
		w.flush()
	}
	i := len(w.out)
	start := len(w.outBuf)
	w.outBuf = append(w.outBuf, s.b...)
	ip := &w.outIP[i]
	*ip = s.to.Addr().As16()
	a := &w.outAddr[i]
	a.IP, a.Port = ip[:], int(s.to.Port())
	if s.to.Addr().Is4() {
		a.IP = ip[12:16]
	}
	w.out = w.out[:i+1]
	m := &w.out[i]
	m.Addr = a
	m.Buffers[0] = w.outBuf[start:len(w.outBuf)]
}

// flush writes the queued replies, as few syscalls as the kernel allows.
func (w *worker) flush() {
	ms := w.out
	for len(ms) > 0 {
		k, err := w.pc.WriteBatch(ms, 0)
		if err != nil {
			// The first datagram of ms failed; say so and go on with the
			// rest, as a plain write loop would.
			w.n.log.Warn("send failed", "to", ms[0].Addr.String(), "datagram", shown(ms[0].Buffers[0]), "err", err)
			k = 1
		}
		ms = ms[k:]
	}
	w.out = w.out[:0]
	w.outBuf = w.outBuf[:0]
}
