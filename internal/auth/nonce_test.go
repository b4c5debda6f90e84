package auth

import (
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"mi/wire"
)

var (
	nonceSrc = netip.MustParseAddrPort("192.0.2.1:4000")
	nonceAt  = time.Date(2026, 12, 1, 10, 0, 0, 123e6, time.UTC)
)

// A nonce is a valid nonce field: an RA and a PA carry it.
func TestNonceIsTheSpecsKind(t *testing.T) {
	n := NewNonces()
	seen := map[string]bool{}
	for i := range 100 {
		nonce := n.Make(nonceSrc, "u1", wire.AuthOpRegister, nonceAt.Add(time.Duration(i)*time.Millisecond))
		ra := wire.AuthChallenge{Addr: wire.Address{User: "u1", Domain: "d"}, Nonce: nonce}
		b, err := ra.Append(nil)
		if err != nil {
			t.Fatalf("nonce %q: %v", nonce, err)
		}
		if err := new(wire.AuthChallenge).Decode(b); err != nil {
			t.Fatalf("nonce %q: %v", nonce, err)
		}
		if seen[nonce] {
			t.Fatalf("nonce %q twice", nonce)
		}
		seen[nonce] = true
	}
}

func TestNonceCheck(t *testing.T) {
	n := NewNonces()
	nonce := n.Make(nonceSrc, "u1", wire.AuthOpRegister, nonceAt)
	for _, tc := range []struct {
		name  string
		nonce string
		src   netip.AddrPort
		user  string
		op    wire.AuthOp
		now   time.Time
		ok    bool
	}{
		{"at once", nonce, nonceSrc, "u1", wire.AuthOpRegister, nonceAt, true},
		{"just before the TTL", nonce, nonceSrc, "u1", wire.AuthOpRegister, nonceAt.Add(wire.AuthNonceTTL - time.Millisecond), true},
		{"at the TTL", nonce, nonceSrc, "u1", wire.AuthOpRegister, nonceAt.Add(wire.AuthNonceTTL), false},
		{"a minute on", nonce, nonceSrc, "u1", wire.AuthOpRegister, nonceAt.Add(time.Minute), false},
		{"its time read again", nonce, nonceSrc, "u1", wire.AuthOpRegister, nonceAt.Add(1 << NonceTimeBits * time.Millisecond), false},
		{"a checker's clock behind", nonce, nonceSrc, "u1", wire.AuthOpRegister, nonceAt.Add(-NonceSkew), true},
		{"too far ahead", nonce, nonceSrc, "u1", wire.AuthOpRegister, nonceAt.Add(-NonceSkew - time.Millisecond), false},
		{"another port", nonce, netip.MustParseAddrPort("192.0.2.1:4001"), "u1", wire.AuthOpRegister, nonceAt, false},
		{"another address", nonce, netip.MustParseAddrPort("192.0.2.2:4000"), "u1", wire.AuthOpRegister, nonceAt, false},
		{"IPv4-mapped", nonce, netip.MustParseAddrPort("[::ffff:192.0.2.1]:4000"), "u1", wire.AuthOpRegister, nonceAt, true},
		{"another user", nonce, nonceSrc, "u2", wire.AuthOpRegister, nonceAt, false},
		{"another op", nonce, nonceSrc, "u1", wire.AuthOpDeregister, nonceAt, false},
		{"short", nonce[:15], nonceSrc, "u1", wire.AuthOpRegister, nonceAt, false},
		{"not hex", "0123456789abcdeg", nonceSrc, "u1", wire.AuthOpRegister, nonceAt, false},
		{"signed", "+123456789abcdef", nonceSrc, "u1", wire.AuthOpRegister, nonceAt, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			made, ok := n.Check(tc.nonce, tc.src, tc.user, tc.op, tc.now)
			if ok != tc.ok {
				t.Fatalf("Check = %v, want %v", ok, tc.ok)
			}
			if ok && !made.Equal(nonceAt.Truncate(time.Millisecond)) {
				t.Errorf("made at %v, want %v", made, nonceAt)
			}
		})
	}
	if _, ok := NewNonces().Check(nonce, nonceSrc, "u1", wire.AuthOpRegister, nonceAt); ok {
		t.Error("a nonce holds under another key: a restarted node")
	}
}

// Every bit of a nonce counts: flipping any one is refused.
func TestNonceBitFlips(t *testing.T) {
	n := NewNonces()
	nonce := n.Make(nonceSrc, "u1", wire.AuthOpRegister, nonceAt)
	v, err := strconv.ParseUint(nonce, 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	for bit := range 64 {
		forged := fmt.Sprintf("%016x", v^1<<bit)
		if _, ok := n.Check(forged, nonceSrc, "u1", wire.AuthOpRegister, nonceAt); ok {
			t.Errorf("bit %d flipped: %s accepted", bit, forged)
		}
	}
}

// Guessing: of many random nonces none holds (each does with probability
// 2^-48).
func TestNonceGuesses(t *testing.T) {
	n := NewNonces()
	for i := range 100_000 {
		// Times of the last TTL, MACs that are anything.
		guess := fmt.Sprintf("%04x%012x", uint16(nonceAt.UnixMilli()-int64(i%5000)), uint64(i)*0x9e3779b97f4a7c15>>16)
		if _, ok := n.Check(guess, nonceSrc, "u1", wire.AuthOpRegister, nonceAt); ok {
			t.Fatalf("guess %s accepted", guess)
		}
	}
}

func BenchmarkNonceMake(b *testing.B) {
	n := NewNonces()
	b.ReportAllocs()
	for b.Loop() {
		n.Make(nonceSrc, "laura", wire.AuthOpRegister, nonceAt)
	}
}
