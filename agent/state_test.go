package agent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/plumi"
	"mi/plumi/plumitest"
	"mi/wire"
)

// TestStateKeepsPort: an agent registers from the port its state file
// holds, and keeps there the port it registered from; a port that is taken
// gives way to any port, and the refusal that may follow says so.
func TestStateKeepsPort(t *testing.T) {
	n := plumitest.NewNode(t)
	state := filepath.Join(t.TempDir(), "p2p-laura.state")
	withState := func(c *Config) { c.StatePath = state }

	first := newTestAgent(t, n, "laura@bb.com", withState)
	port := first.Client().LocalAddr().Port()
	if s, err := readState(state); err != nil || s.portFor(first.Addr()) != port {
		t.Fatalf("after the registration the state is %+v, %v; want port %d", s, err, port)
	}
	first.Close()

	again := newTestAgent(t, n, "laura@bb.com", withState)
	if got := again.Client().LocalAddr().Port(); got != port {
		t.Errorf("restarted on port %d, want %d, the one registered from", got, port)
	}
	again.Close()

	other := newTestAgent(t, n, "pau@bb.com", withState)
	if other.Client().LocalAddr().Port() == port {
		t.Error("another user's agent took the port the state keeps for laura")
	}
	other.Close()

	// The port taken: any port, and an RR1 says that the port changed.
	if err := writeState(state, savedState{addr: first.Addr(), port: port}); err != nil {
		t.Fatal(err)
	}
	taker, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(port)})
	if err != nil {
		t.Fatal(err)
	}
	defer taker.Close()
	a, err := New(context.Background(), Config{Addr: first.Addr(), Node: n.Addr(), Listen: "127.0.0.1:0",
		Attempts: 3, RetryInterval: fastRetry, StatePath: state})
	if err != nil {
		t.Fatalf("with the port taken: %v", err)
	}
	defer func() {
		a.Close()
		for range a.Events() {
		}
	}()
	if a.Client().LocalAddr().Port() == port {
		t.Fatal("the taken port was used")
	}
	errc := make(chan error, 1)
	go func() { errc <- a.Register(context.Background()) }()
	_, from := n.Recv(2 * time.Second)
	n.Send(from, &wire.RegisterReply{Code: wire.RegisterRefused})
	err = <-errc
	held := plumi.Cause{Kind: CauseRegisterHeld, Node: n.Addr().String(), Addr: "laura@bb.com", Remote: netip.AddrPortFrom(a.Client().LocalAddr().Addr(), port).String()}
	if d := cmp.Diff(held, plumi.CauseOf(err)); d != "" || !errors.Is(err, plumi.ErrRefused) {
		t.Errorf("RR1 from a new port: %v; want refused, held by the agent at the taken port (-want +got):\n%s", err, d)
	}
	if e := want(t, a, EventError); e.Reason != "refused" || e.Cause != held {
		t.Errorf("error event %+v, want reason refused and cause %+v", e, held)
	}
}

// TestRefusedWithoutEvidence: an RR1 with no port of the state file taken
// says what an RR1 can mean (plumi's register_refused), user_unknown: the
// node may have no such user.
func TestRefusedWithoutEvidence(t *testing.T) {
	n := plumitest.NewNode(t)
	a, err := New(context.Background(), Config{Addr: plumitest.Addr(t, "laura@bb.com"), Node: n.Addr(), Listen: "127.0.0.1:0",
		Attempts: 3, RetryInterval: fastRetry, StatePath: filepath.Join(t.TempDir(), "p2p-laura.state")})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		a.Close()
		for range a.Events() {
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- a.Register(context.Background()) }()
	_, from := n.Recv(2 * time.Second)
	n.Send(from, &wire.RegisterReply{Code: wire.RegisterRefused})
	err = <-errc
	refused := plumi.Cause{Kind: plumi.CauseRegisterRefused, Node: n.Addr().String(), Addr: "laura@bb.com"}
	if d := cmp.Diff(refused, plumi.CauseOf(err)); d != "" || !errors.Is(err, plumi.ErrUserUnknown) {
		t.Errorf("RR1: %v; want user_unknown, register_refused (-want +got):\n%s", err, d)
	}
}

func TestReadState(t *testing.T) {
	dir := t.TempDir()
	laura, _ := wire.ParseAddress("laura@bb.com")
	for _, tc := range []struct {
		name, text string
		port       uint16 // for laura
		bad        bool
	}{
		{"written", "# comment\naddr laura@bb.com\nport 51189\n", 51189, false},
		{"case of the address", "addr Laura@BB.com\nport 4000\n", 4000, false},
		{"another user", "addr pau@bb.com\nport 4000\n", 0, false},
		{"no port", "addr laura@bb.com\n", 0, false},
		{"port 0", "addr laura@bb.com\nport 0\n", 0, true},
		{"port too big", "addr laura@bb.com\nport 70000\n", 0, true},
		{"bad address", "addr laura\nport 4000\n", 0, true},
	} {
		path := filepath.Join(dir, "state")
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := readState(path)
		if (err != nil) != tc.bad || s.portFor(laura) != tc.port {
			t.Errorf("%s: port %d, error %v; want %d, error %v", tc.name, s.portFor(laura), err, tc.port, tc.bad)
		}
	}
	if s, err := readState(filepath.Join(dir, "none")); err != nil || s.port != 0 {
		t.Errorf("no file: %+v, %v; want no state, no error", s, err)
	}
}
