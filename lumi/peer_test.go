package lumi

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/wire"
)

// onNodePort is ip on the port of the spec, where a node listens when
// nothing says otherwise.
func onNodePort(ip string) string {
	return netip.AddrPortFrom(netip.MustParseAddr(ip), wire.PLUMIPort).String()
}

func TestParsePeer(t *testing.T) {
	type result struct {
		Domain string
		AP     string
		Err    bool
	}
	tests := []struct {
		in   string
		want result
	}{
		{"bb.com=127.0.0.2:3344", result{"bb.com", "127.0.0.2:3344", false}},
		{"bb.com=127.0.0.2", result{"bb.com", onNodePort("127.0.0.2"), false}},
		{"BB.Com.=127.0.0.2:4000", result{"bb.com", "127.0.0.2:4000", false}},
		{"bb.com=[::1]:5000", result{"bb.com", "[::1]:5000", false}},
		{"bb.com=::1", result{"bb.com", onNodePort("::1"), false}},
		{"bb.com=[::1]", result{"bb.com", onNodePort("::1"), false}},
		{"bb.com=[::ffff:10.0.0.1]:9", result{"bb.com", "10.0.0.1:9", false}},
		{"localhost=127.0.0.1", result{"localhost", onNodePort("127.0.0.1"), false}},
		{"bb.com", result{Err: true}},
		{"=127.0.0.1", result{Err: true}},
		{".=127.0.0.1", result{Err: true}},
		{"a..b=127.0.0.1", result{Err: true}},
		{"bb.com=", result{Err: true}},
		{"bb.com=node.bb.com", result{Err: true}},
		{"bb.com=127.0.0.1:0", result{Err: true}},
		{"bb.com=127.0.0.1:65536", result{Err: true}},
		{"bb.com=127.0.0.1:x", result{Err: true}},
		{"bb.com=0.0.0.0", result{Err: true}},
		{"bb.com=[127.0.0.1]", result{Err: true}},
		{"bb.com=1.2.3.4=5", result{Err: true}},
	}
	for _, tt := range tests {
		domain, ap, err := ParsePeer(tt.in)
		got := result{Domain: domain, Err: err != nil}
		if ap.IsValid() {
			got.AP = ap.String()
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParsePeer(%q) mismatch (-want +got):\n%s\nerr: %v", tt.in, diff, err)
		}
		if err != nil && !errors.Is(err, ErrBadPeer) {
			t.Errorf("ParsePeer(%q) error %v does not wrap ErrBadPeer", tt.in, err)
		}
	}
}

// FuzzParsePeer checks that ParsePeer never panics and that what it accepts
// survives a round trip through its canonical form.
func FuzzParsePeer(f *testing.F) {
	for _, s := range []string{"bb.com=127.0.0.2:3344", "bb.com=::1", "x=[fe80::1%eth0]:1", "=", "a=b=c", "\\.=1.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		domain, ap, err := ParsePeer(s)
		if err != nil {
			return
		}
		if !ap.IsValid() || ap.Port() == 0 {
			t.Fatalf("ParsePeer(%q) accepted invalid %v", s, ap)
		}
		d2, ap2, err := ParsePeer(domain + "=" + ap.String())
		if err != nil || d2 != domain || ap2 != ap {
			t.Fatalf("round trip of %q: got %q %v %v, want %q %v", s, d2, ap2, err, domain, ap)
		}
	})
}

func TestNewResolverRejectsBadConfig(t *testing.T) {
	ap := netip.MustParseAddrPort("127.0.0.1:3344")
	tests := map[string]Config{
		"empty peer domain":  {Peers: map[string]netip.AddrPort{"": ap}},
		"bad peer domain":    {Peers: map[string]netip.AddrPort{"a..b": ap}},
		"zero peer address":  {Peers: map[string]netip.AddrPort{"bb.com": {}}},
		"peer port 0":        {Peers: map[string]netip.AddrPort{"bb.com": netip.MustParseAddrPort("127.0.0.1:0")}},
		"DNS server no port": {DNSServer: "127.0.0.1:"},
		"DNS server garbage": {DNSServer: "[::1"},
	}
	for name, cfg := range tests {
		if _, err := NewResolver(cfg); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: NewResolver error = %v, want ErrBadConfig", name, err)
		}
	}
}

func TestDNSServerAddress(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1:5353": "127.0.0.1:5353",
		"127.0.0.1":      "127.0.0.1:53",
		"::1":            "[::1]:53",
		"[::1]":          "[::1]:53",
		"[::1]:5353":     "[::1]:5353",
		"localhost":      "localhost:53",
	}
	got := make(map[string]string)
	for in := range tests {
		s, err := dnsServer(in)
		if err != nil {
			s = "error: " + err.Error()
		}
		got[in] = s
	}
	if diff := cmp.Diff(tests, got); diff != "" {
		t.Errorf("dnsServer mismatch (-want +got):\n%s", diff)
	}
}

func TestConfigDefaults(t *testing.T) {
	r, err := NewResolver(Config{DNSServer: "127.0.0.1:53"})
	if err != nil {
		t.Fatal(err)
	}
	type settings struct {
		Timeout, NegTTL, MaxNegTTL, MaxTTL, DownFor time.Duration
		Retries, MaxCache, MaxDown                  int
	}
	got := settings{r.timeout, r.negTTL, r.maxNegTTL, r.maxTTL, r.downFor, r.retries, r.cache.max, r.down.max}
	want := settings{400 * time.Millisecond, 5 * time.Second, time.Minute, time.Hour, 30 * time.Second, 1, 10000, 10000}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults mismatch (-want +got):\n%s", diff)
	}
	if r, _ := NewResolver(Config{DNSServer: "127.0.0.1:53", Retries: -1}); r.retries != 0 {
		t.Errorf("Retries -1: %d retries, want none", r.retries)
	}
}
