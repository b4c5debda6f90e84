package loadgen

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/node"
	"mi/wire"
	"mi/wire/wiregen"
)

const runFor = 100 * time.Millisecond

func startEcho(t *testing.T) *EchoServer {
	t.Helper()
	s, err := StartEcho("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestEcho(t *testing.T) {
	s1, s2 := startEcho(t), startEcho(t)
	for _, kind := range Kinds {
		res, err := Run(context.Background(), Config{Target: s1.Addr(), Target2: s2.Addr(), Kind: kind, Domain: "bench.test", Domain2: "bench2.test", Clients: 2, Duration: runFor, Echo: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Replies == 0 || res.Bad != 0 || res.Requests < res.Replies || res.Malformed != 0 {
			t.Errorf("%s: %+v", kind, res)
		}
	}
}

// startNode runs an in-process node of domain with users on listen.
func startNode(t *testing.T, domain string, users []string, listen string, peers map[string]netip.AddrPort) netip.AddrPort {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "n.cfg")
	if err := (node.Config{Domain: domain, Users: ConfigUsers(users, 3)}).WriteFile(cfg); err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Options{ConfigPath: cfg, Listen: listen, Peers: peers, LogPath: filepath.Join(dir, "n.log"), HostsFile: "-", DNSServer: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node %s: %v", domain, err)
		}
	})
	return n.Addr()
}

// freePort returns a loopback UDP port that was free a moment ago.
func freePort(t *testing.T) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func TestNode(t *testing.T) {
	a := startNode(t, "bench.test", Users(KindPL, 3), "127.0.0.1:0", nil)
	for _, kind := range []Kind{KindPR, KindPL} {
		for _, f := range []float64{0, 0.5} {
			res, err := Run(context.Background(), Config{Target: a, Kind: kind, Domain: "bench.test", Clients: 3, Duration: runFor, Malformed: f})
			if err != nil {
				t.Fatal(err)
			}
			if res.Replies == 0 || res.Bad != 0 || res.Ignored != 0 {
				t.Errorf("%s -malformed %v: %+v", kind, f, res)
			}
			// One malformed datagram before each request.
			if want := int64(f * 2 * float64(res.Requests)); res.Malformed != want {
				t.Errorf("%s -malformed %v: %d malformed for %d requests, want %d", kind, f, res.Malformed, res.Requests, want)
			}
		}
	}
}

// TestCrossDomain runs xpl through two nodes that know each other as
// static peers.
func TestCrossDomain(t *testing.T) {
	const clients = 3
	bAddr := freePort(t)
	a := startNode(t, "a.test", Users(KindXPL, clients), "127.0.0.1:0", map[string]netip.AddrPort{"b.test": bAddr})
	b := startNode(t, "b.test", Users2(KindXPL, clients), bAddr.String(), map[string]netip.AddrPort{"a.test": a})
	for _, f := range []float64{0, 0.5} {
		res, err := Run(context.Background(), Config{Target: a, Target2: b, Kind: KindXPL, Domain: "a.test", Domain2: "b.test", Clients: clients, Duration: runFor, Malformed: f})
		if err != nil {
			t.Fatal(err)
		}
		if res.Replies == 0 || res.Bad != 0 {
			t.Errorf("xpl -malformed %v: %+v", f, res)
		}
	}
	if _, err := Run(context.Background(), Config{Target: a, Kind: KindXPL, Domain: "a.test", Clients: 1, Duration: runFor}); err == nil {
		t.Error("xpl without Target2: no error")
	}
}

func TestUsers(t *testing.T) {
	if got := Users(KindPL, 2); !slices.Equal(got, []string{"bench-a0", "bench-b0", "bench-a1", "bench-b1"}) {
		t.Errorf("Users(pl) = %q", got)
	}
	if got, got2 := Users(KindXPL, 2), Users2(KindXPL, 2); !slices.Equal(got, []string{"bench-a0", "bench-a1"}) || !slices.Equal(got2, []string{"bench-b0", "bench-b1"}) {
		t.Errorf("Users(xpl) = %q, Users2(xpl) = %q", got, got2)
	}
	if got := Users2(KindPR, 2); got != nil {
		t.Errorf("Users2(pr) = %q", got)
	}
}

// TestMalformedDatagrams: the malformed datagrams are the spec's invalid
// PLUMI inputs, each refused by the decoder.
func TestMalformedDatagrams(t *testing.T) {
	m := MalformedDatagrams()
	var want []string
	for _, inv := range wiregen.Invalids {
		if inv.Proto == "PLUMI" && inv.Input != "" {
			want = append(want, inv.Input)
		}
	}
	if len(m) == 0 || len(m) != len(want) {
		t.Fatalf("%d malformed datagrams, want the %d PLUMI invalid inputs", len(m), len(want))
	}
	for i, b := range m {
		if string(b) != want[i] {
			t.Errorf("datagram %d = %q, want %q", i, b, want[i])
		}
		var d wire.PLUMIDatagram
		if d.Decode(b) == nil {
			t.Errorf("%q decodes", b)
		}
	}
}

// recorder is an echo server that keeps what it receives.
type recorder struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []string
	done chan struct{}
}

func startRecorder(t *testing.T) *recorder {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{conn: c, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 2048)
		for {
			n, src, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.got = append(r.got, string(buf[:n]))
			r.mu.Unlock()
			c.WriteToUDPAddrPort(buf[:n], src)
		}
	}()
	t.Cleanup(func() { c.Close(); <-r.done })
	return r
}

// TestMalformedMix: with Echo the malformed datagrams are echoed too, and
// their echoes are neither answers nor wrong answers; they are sent in
// the fraction asked, in turn through the spec's list.
func TestMalformedMix(t *testing.T) {
	junk := MalformedDatagrams()
	for _, f := range []float64{0.25, 0.5, 0.75} {
		r := startRecorder(t)
		ap := r.conn.LocalAddr().(*net.UDPAddr).AddrPort()
		res, err := Run(context.Background(), Config{Target: ap, Kind: KindPR, Domain: "bench.test", Clients: 1, Duration: runFor, Echo: true, Malformed: f})
		if err != nil {
			t.Fatal(err)
		}
		if res.Replies == 0 || res.Bad != 0 || res.Lost != 0 {
			t.Errorf("-malformed %v: %+v", f, res)
		}
		per := f / (1 - f)
		if want := per * float64(res.Requests); float64(res.Malformed) < want-1 || float64(res.Malformed) > want+1 {
			t.Errorf("-malformed %v: %d malformed for %d requests, want about %.0f", f, res.Malformed, res.Requests, want)
		}
		if res.Ignored > res.Malformed || res.Ignored < res.Malformed-1 {
			t.Errorf("-malformed %v: %d echoes of %d malformed datagrams ignored", f, res.Ignored, res.Malformed)
		}
		r.mu.Lock()
		var bad []string
		valid := 0
		for _, g := range r.got {
			if g == "PRbench-a0@bench.test" {
				valid++
			} else {
				bad = append(bad, g)
			}
		}
		r.mu.Unlock()
		if int64(valid) != res.Requests || int64(len(bad)) != res.Malformed {
			t.Errorf("-malformed %v: server got %d requests and %d others, client sent %d and %d", f, valid, len(bad), res.Requests, res.Malformed)
		}
		for i, b := range bad {
			if want := string(junk[i%len(junk)]); b != want {
				t.Fatalf("-malformed %v: malformed datagram %d = %q, want %q", f, i, b, want)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Kind: "xx"},
		{Kind: KindPR, Malformed: 1},
		{Kind: KindPR, Malformed: -0.1},
		{Kind: KindXPL, Domain2: "b"},
	} {
		cfg.Target = netip.MustParseAddrPort("127.0.0.1:1")
		if g, err := New(cfg); err == nil {
			g.Close()
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestConfigUsers(t *testing.T) {
	got := ConfigUsers([]string{"bench-a0"}, 2)
	if diff := cmp.Diff([]string{"bench-a0", "user0", "user1"}, got); diff != "" {
		t.Errorf("ConfigUsers (-want +got):\n%s", diff)
	}
}
