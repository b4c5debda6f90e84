package cluster

import (
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

var (
	agentA = netip.MustParseAddrPort("192.0.2.1:40000")
	agent6 = netip.MustParseAddrPort("[2001:db8::1]:3344")
)

// TestDecodeValue: rows read like the encoding in binding.go.
func TestDecodeValue(t *testing.T) {
	tests := []struct {
		name  string
		user  string
		value string
		want  Binding // for a value that decodes
		field string  // of the DecodeError, for one that does not
	}{
		{"online", "alice", "7 node-a 1 192.0.2.1:40000", Binding{User: "alice", Owner: "node-a", Agent: agentA, Online: true, Version: 7}, ""},
		{"offline", "bob", "1 n.2_x 0 [2001:db8::1]:3344", Binding{User: "bob", Owner: "n.2_x", Agent: agent6, Version: 1}, ""},
		{"max version", "u", "18446744073709551615 a 0 192.0.2.1:40000", Binding{User: "u", Owner: "a", Agent: agentA, Version: math.MaxUint64}, ""},
		{"zone", "u", "1 a 0 [fe80::1%eth0]:9", Binding{User: "u", Owner: "a", Agent: netip.MustParseAddrPort("[fe80::1%eth0]:9"), Version: 1}, ""},
		{"unicode user", "zoë", "1 a 1 192.0.2.1:40000", Binding{User: "zoë", Owner: "a", Agent: agentA, Online: true, Version: 1}, ""},

		{"empty", "u", "", Binding{}, "value"},
		{"three fields", "u", "7 node-a 1", Binding{}, "value"},
		{"version zero", "u", "0 a 1 192.0.2.1:40000", Binding{}, "version"},
		{"version leading zero", "u", "07 a 1 192.0.2.1:40000", Binding{}, "version"},
		{"version sign", "u", "+7 a 1 192.0.2.1:40000", Binding{}, "version"},
		{"version overflow", "u", "18446744073709551616 a 1 192.0.2.1:40000", Binding{}, "version"},
		{"version empty", "u", " a 1 192.0.2.1:40000", Binding{}, "version"},
		{"owner empty", "u", "7  1 192.0.2.1:40000", Binding{}, "owner"},
		{"owner bad byte", "u", "7 a/b 1 192.0.2.1:40000", Binding{}, "owner"},
		{"owner too long", "u", "7 " + strings.Repeat("a", 65) + " 1 192.0.2.1:40000", Binding{}, "owner"},
		{"online word", "u", "7 a yes 192.0.2.1:40000", Binding{}, "online"},
		{"agent no port", "u", "7 a 1 192.0.2.1", Binding{}, "agent"},
		{"agent port 0", "u", "7 a 1 192.0.2.1:0", Binding{}, "agent"},
		{"agent port leading zero", "u", "7 a 1 192.0.2.1:080", Binding{}, "agent"},
		{"agent not canonical", "u", "7 a 1 [2001:db8:0::1]:3344", Binding{}, "agent"},
		{"agent trailing space", "u", "7 a 1 192.0.2.1:40000 ", Binding{}, "agent"},
		{"user upper case", "Alice", "7 a 1 192.0.2.1:40000", Binding{}, "user"},
		{"user space", "a b", "7 a 1 192.0.2.1:40000", Binding{}, "user"},
		{"user empty", "", "7 a 1 192.0.2.1:40000", Binding{}, "user"},
		{"user invalid UTF-8", "\xff", "7 a 1 192.0.2.1:40000", Binding{}, "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeValue("{lumi:bb.com}:bindings", tt.user, tt.value)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
					t.Errorf("(-want +got)\n%s", diff)
				}
				if enc := string(appendValue(nil, got)); enc != tt.value {
					t.Errorf("re-encoded %q", enc)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v (%T), want a *DecodeError wrapping ErrMalformed", err, err)
			}
			if de.Field != tt.field {
				t.Errorf("field %q, want %q (%v)", de.Field, tt.field, err)
			}
			if !strings.Contains(err.Error(), "{lumi:bb.com}:bindings[") {
				t.Errorf("error does not name the key: %v", err)
			}
		})
	}
}

func TestDecodeChange(t *testing.T) {
	b, err := decodeChange("k", "alice 7 node-a 1 192.0.2.1:40000")
	if err != nil || b != (Binding{User: "alice", Owner: "node-a", Agent: agentA, Online: true, Version: 7}) {
		t.Fatalf("%+v, %v", b, err)
	}
	for _, m := range []string{"", "alice", "alice ", "Alice 7 a 1 192.0.2.1:40000", "alice 7 a 1", "\x00 7 a 1 192.0.2.1:40000"} {
		if _, err := decodeChange("k", m); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", m, err)
		}
	}
	// A long garbage message is quoted, bounded, in the error.
	_, err = decodeChange("k", strings.Repeat("\x01", 10000))
	if err == nil || len(err.Error()) > 400 || strings.Contains(err.Error(), "\x01") {
		t.Errorf("error not escaped and bounded: %q", err)
	}
}

func TestCheck(t *testing.T) {
	ok := Binding{User: "alice", Owner: "node-a", Agent: agentA, Online: true, Version: 3}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Binding)
	}{
		{"no user", func(b *Binding) { b.User = "" }},
		{"user with space", func(b *Binding) { b.User = "a b" }},
		{"user with newline", func(b *Binding) { b.User = "a\nb" }},
		{"user upper case", func(b *Binding) { b.User = "Alice" }},
		{"no owner", func(b *Binding) { b.Owner = "" }},
		{"owner with space", func(b *Binding) { b.Owner = "node a" }},
		{"no agent", func(b *Binding) { b.Agent = netip.AddrPort{} }},
		{"agent port 0", func(b *Binding) { b.Agent = netip.AddrPortFrom(agentA.Addr(), 0) }},
	}
	for _, tt := range tests {
		b := ok
		tt.edit(&b)
		if err := b.Check(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
	}
}

func TestCheckNodeID(t *testing.T) {
	for _, id := range []string{"a", "node-1", "N.2_x", strings.Repeat("z", 64)} {
		if err := CheckNodeID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range []string{"", "a b", "a/b", "é", "a:1", strings.Repeat("z", 65)} {
		if err := CheckNodeID(id); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", id, err)
		}
	}
}

func TestUsersDigest(t *testing.T) {
	d := UsersDigest([]string{"alice", "bob"})
	if len(d) != 16 || strings.Trim(d, "0123456789abcdef") != "" {
		t.Fatalf("digest %q: want 16 hex digits", d)
	}
	if got := UsersDigest([]string{"Bob", "ALICE", "bob"}); got != d {
		t.Errorf("order, case and duplicates change the digest: %q != %q", got, d)
	}
	if got := UsersDigest([]string{"alice", "bob", "carol"}); got == d {
		t.Error("another user list, same digest")
	}
	if got := UsersDigest([]string{"alicebob"}); got == d {
		t.Error("names run together, same digest")
	}
	if CheckNodeID(d) != nil { // it is stored as a word of the registry
		t.Errorf("digest %q is not a word", d)
	}
}

// genBinding draws a valid binding.
func genBinding() *rapid.Generator[Binding] {
	return rapid.Custom(func(t *rapid.T) Binding {
		user := strings.ToLower(rapid.StringN(1, 40, -1).Draw(t, "user"))
		if checkUser(user) != "" {
			user = rapid.StringMatching(`[a-z0-9._-]{1,35}`).Draw(t, "plainUser")
		}
		var addr netip.Addr
		if rapid.Bool().Draw(t, "v6") {
			addr = netip.AddrFrom16([16]byte(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "a16")))
			if rapid.Bool().Draw(t, "zoned") {
				addr = addr.WithZone(rapid.StringMatching(`[a-z0-9]{1,8}`).Draw(t, "zone"))
			}
		} else {
			addr = netip.AddrFrom4([4]byte(rapid.SliceOfN(rapid.Byte(), 4, 4).Draw(t, "a4")))
		}
		return Binding{
			User:    user,
			Owner:   rapid.StringMatching(`[A-Za-z0-9._-]{1,64}`).Draw(t, "owner"),
			Agent:   netip.AddrPortFrom(addr, rapid.Uint16Range(1, math.MaxUint16).Draw(t, "port")),
			Online:  rapid.Bool().Draw(t, "online"),
			Version: rapid.Uint64Range(1, math.MaxUint64).Draw(t, "version"),
		}
	})
}

// TestRoundTrip: every valid binding decodes, from the hash and from the
// channel, to itself.
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genBinding().Draw(t, "b")
		if err := b.Check(); err != nil {
			t.Fatal(err)
		}
		got, err := decodeValue("k", b.User, string(appendValue(nil, b)))
		if err != nil || got != b {
			t.Fatalf("hash: %+v, %v; want %+v", got, err, b)
		}
		got, err = decodeChange("k", string(appendChange(nil, b)))
		if err != nil || got != b {
			t.Fatalf("change: %+v, %v; want %+v", got, err, b)
		}
	})
}

// FuzzDecodeBinding: decoding a value written by anyone never panics, and
// what decodes is a valid binding whose encoding is the input itself.
func FuzzDecodeBinding(f *testing.F) {
	for _, s := range []string{
		"alice 7 node-a 1 192.0.2.1:40000",
		"bob 1 n 0 [2001:db8::1]:3344",
		"u 1 a 0 [fe80::1%eth 0]:9",
		"u 18446744073709551615 a 1 1.2.3.4:5",
		"u 0 a 1 1.2.3.4:5",
		"u 07 a 1 1.2.3.4:080",
		"U 1 a 1 1.2.3.4:5",
		"u  1 a 1 1.2.3.4:5",
		"",
		" ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, m string) {
		if b, err := decodeChange("k", m); err == nil {
			if err := b.Check(); err != nil {
				t.Fatalf("%q decodes to a binding that does not check: %v", m, err)
			}
			if enc := string(appendChange(nil, b)); enc != m {
				t.Fatalf("%q decodes to %+v, which encodes to %q", m, b, enc)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("%q: %v does not wrap ErrMalformed", m, err)
		}
		user, v, _ := strings.Cut(m, " ")
		if b, err := decodeValue("k", user, v); err == nil {
			if enc := string(appendValue(nil, b)); enc != v || b.User != user {
				t.Fatalf("%q decodes to %+v, which encodes to %q", v, b, enc)
			}
		}
	})
}
