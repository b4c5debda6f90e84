package lumi

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"mi/lumi/dnszone"
)

// waitLimit bounds every wait for something the test knows will happen, so a
// broken resolver fails the test instead of hanging it.
const waitLimit = 20 * time.Second

func startZone(t *testing.T, records ...string) *dnszone.Server {
	t.Helper()
	rrs := make([]dns.RR, len(records))
	for i, s := range records {
		rrs[i] = dnszone.MustRR(s)
	}
	z, err := dnszone.Start("127.0.0.1:0", rrs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { z.Close() })
	return z
}

// newTestResolver is NewResolver without the hosts file, and with a long
// Timeout unless cfg says otherwise: a test server's reply may be slow on a
// loaded machine, and a timeout would fail a test that expects an answer.
func newTestResolver(t *testing.T, cfg Config) *Resolver {
	t.Helper()
	return newTestResolverAt(t, cfg, time.Now)
}

// newTestResolverAt is newTestResolver on the clock now (a fakeClock's
// Now, for a test that steps through the cache or the down marks).
func newTestResolverAt(t *testing.T, cfg Config, now func() time.Time) *Resolver {
	t.Helper()
	if cfg.HostsFile == "" {
		cfg.HostsFile = "-"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	r, err := newResolver(cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func writeHosts(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeClock is the clock of resolvers whose cache a test steps through
// (newTestResolverAt).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeDNS is a UDP DNS server on loopback whose answers a test controls:
// handle runs in its own goroutine per query, may block, and returns nil to
// drop the query.
type fakeDNS struct {
	pc       net.PacketConn
	received atomic.Int64
	mu       sync.Mutex
	names    []string // question names in arrival order
}

func startFake(t *testing.T, handle func(*dns.Msg) *dns.Msg) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDNS{pc: pc}
	t.Cleanup(func() { pc.Close() })
	go f.serve(handle)
	return f
}

func (f *fakeDNS) Addr() string { return f.pc.LocalAddr().String() }

func (f *fakeDNS) serve(handle func(*dns.Msg) *dns.Msg) {
	buf := make([]byte, dns.MaxMsgSize)
	for {
		n, from, err := f.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		req := new(dns.Msg)
		if req.Unpack(buf[:n]) != nil || len(req.Question) != 1 {
			continue
		}
		f.mu.Lock()
		f.names = append(f.names, strings.ToLower(req.Question[0].Name))
		f.mu.Unlock()
		f.received.Add(1)
		go func() {
			if resp := handle(req); resp != nil {
				if b, err := resp.Pack(); err == nil {
					f.pc.WriteTo(b, from)
				}
			}
		}()
	}
}

// waitQuery waits until a query for name (lower-case FQDN) has arrived.
func (f *fakeDNS) waitQuery(t *testing.T, name string) {
	t.Helper()
	waitUntil(t, "query for "+name, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, n := range f.names {
			if n == name {
				return true
			}
		}
		return false
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func drop(*dns.Msg) *dns.Msg { return nil }

func rcode(code int) func(*dns.Msg) *dns.Msg {
	return func(req *dns.Msg) *dns.Msg { return new(dns.Msg).SetRcode(req, code) }
}

// forward relays queries to a zone server; withExtra false strips the
// Additional section, as a server that does not add glue would.
func forward(z *dnszone.Server, withExtra bool) func(*dns.Msg) *dns.Msg {
	return func(req *dns.Msg) *dns.Msg {
		resp, err := dns.Exchange(req, z.Addr())
		if err != nil {
			return nil
		}
		if !withExtra {
			resp.Extra = nil
		}
		resp.Compress = true // as the zone sent it: an unpacked reply forgets
		return resp
	}
}

// holdIf delays the queries that match until release is closed.
func holdIf(match func(name string) bool, release <-chan struct{}, next func(*dns.Msg) *dns.Msg) func(*dns.Msg) *dns.Msg {
	return func(req *dns.Msg) *dns.Msg {
		if match(strings.ToLower(req.Question[0].Name)) {
			<-release
		}
		return next(req)
	}
}

func all(string) bool { return true }

// closedPort returns a loopback UDP address nobody listens on, so queries
// to it fail at once with "connection refused".
func closedPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}
