package agent

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/plumi"
	"mi/plumi/plumitest"
	"mi/wire"
)

// TestCallAgainOnFailure: a UI that calls again the moment it reads a
// call's error event finds the call over, however the call failed: the
// call's end and the event that says so are one turn of the agent's loop.
// Each row makes a chain of calls, each started by the last one's error.
func TestCallAgainOnFailure(t *testing.T) {
	// A chat port where nothing listens, and one whose peer hangs up
	// before its nickname.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	rude, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rude.Close() })
	go func() {
		for {
			conn, err := rude.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	rudePort := uint16(rude.Addr().(*net.TCPAddr).Port)
	found := func(port uint16) func(wire.Locate) *wire.LocateReply {
		return func(pl wire.Locate) *wire.LocateReply {
			return &wire.LocateReply{Code: wire.LocateFound, From: pl.From, To: pl.To, IP: netip.MustParseAddr("127.0.0.1"), Port: port}
		}
	}
	code := func(c wire.LocateCode) func(wire.Locate) *wire.LocateReply {
		return func(pl wire.Locate) *wire.LocateReply { return &wire.LocateReply{Code: c, From: pl.From, To: pl.To} }
	}
	const rounds = 40
	tests := []struct {
		name   string
		target string
		reply  func(wire.Locate) *wire.LocateReply
		reason string
	}{
		{"bad address", "nobody", code(wire.LocateOffline), "bad_address"},
		{"offline", "pau@cc.org", code(wire.LocateOffline), "offline"},
		{"busy", "pau@cc.org", code(wire.LocateBusy), "busy"},
		{"unknown", "pau@bb.com", code(wire.LocateUnknown), "user_unknown"},
		{"nothing listens at the chat port", "pau@cc.org", found(closedPort), "connect_failed"},
		{"peer hangs up before its nickname", "pau@cc.org", found(rudePort), "handshake_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := plumitest.NewNode(t)
			a := newTestAgent(t, n, "laura@bb.com", nil)
			n.Answer(func(d *wire.PLUMIDatagram) wire.Message {
				if d.Tag != wire.TagLocate {
					return nil
				}
				return tt.reply(d.Locate)
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			returned := make(chan string, rounds)
			call := func() { go func() { returned <- plumi.ReasonOf(a.Call(ctx, tt.target)) }() }
			call()
			got := map[string]int{}
			for i := 0; i < rounds; {
				e := next(t, a)
				if e.Kind != EventError {
					continue
				}
				got[e.Reason]++
				if i++; i < rounds {
					call() // at once, as a UI that reacts to the event
				}
			}
			for range rounds {
				got["returned "+<-returned]++
			}
			want := map[string]int{tt.reason: rounds, "returned " + tt.reason: rounds}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error events and Call's results (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDeregisterOnRegistered: a UI that deregisters the moment it reads
// "registered" leaves the user deregistered: the refresher the
// registration starts runs before the event, so the Deregister stops it,
// and no refresh registers the user again after the PD.
func TestDeregisterOnRegistered(t *testing.T) {
	const refresh = 10 * time.Millisecond
	n := plumitest.NewNode(t)
	seen := make(chan string, 1024)
	n.Answer(func(d *wire.PLUMIDatagram) wire.Message {
		seen <- d.Tag
		switch d.Tag {
		case wire.TagRegister:
			return &wire.RegisterReply{Code: wire.RegisterOK}
		case wire.TagDeregister:
			return &wire.DeregisterReply{Code: wire.DeregisterOK}
		}
		return nil
	})
	a, err := New(context.Background(), Config{Addr: plumitest.Addr(t, "laura@bb.com"), Node: n.Addr(), Listen: "127.0.0.1:0",
		Attempts: 3, RetryInterval: time.Second, Refresh: refresh})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		for range a.Events() {
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for round := range 20 {
		errc := make(chan error, 1)
		go func() { errc <- a.Register(ctx) }()
		want(t, a, EventRegistered)
		if err := a.Deregister(ctx); err != nil { // at once, as a UI that reacts to the event
			t.Fatalf("round %d: Deregister: %v", round, err)
		}
		want(t, a, EventDeregistered)
		if err := <-errc; err != nil {
			t.Fatalf("round %d: Register: %v", round, err)
		}
		time.Sleep(5 * refresh) // a refresher left running sends its PR by then
		var sent []string
		for len(seen) > 0 {
			sent = append(sent, <-seen)
		}
		afterPD := sent
		for i, tag := range sent {
			if tag == wire.TagDeregister {
				afterPD = sent[i+1:]
			}
		}
		if diff := cmp.Diff([]string{}, afterPD); diff != "" {
			t.Fatalf("round %d: sent %v; after the PD (-want +got):\n%s", round, sent, diff)
		}
	}
}
