package wire_test

// Benchmarks of the generated codecs against a naive codec written the
// usual way (fmt.Sprintf to encode; strings.Split, strconv.Atoi and
// net.ParseIP to decode), on the same inputs. Sub-benchmarks are named
// <message>/codec=<generated|generated-string|generated-iface|naive> so
// that
//
//	benchstat -col /codec bench.txt
//
// puts the codecs side by side. BENCHMARKS.md has the figures.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"mi/wire"
	"mi/wire/wiregen"
)

// ---------------------------------------------------------------------------
// The naive codec.

// naiveAddr is an MI address user@domain.
type naiveAddr struct {
	User, Domain string
}

func (a naiveAddr) String() string { return a.User + "@" + a.Domain }

// naivePLUMI is any PLUMI datagram.
type naivePLUMI struct {
	Type     string // "PR", "RR", "PD", "RD", "PL" or "RL"
	Code     int    // RR, RD, RL
	From, To naiveAddr
	IP       net.IP // RL0
	Port     int    // RL0
}

// naiveParseAddr parses user@domain.
func naiveParseAddr(s string) (naiveAddr, error) {
	parts := strings.Split(s, "@")
	if len(parts) != 2 {
		return naiveAddr{}, fmt.Errorf("address %q: want exactly one '@'", s)
	}
	if parts[0] == "" || parts[1] == "" {
		return naiveAddr{}, fmt.Errorf("address %q: empty user or domain", s)
	}
	return naiveAddr{User: parts[0], Domain: parts[1]}, nil
}

// naiveParseCode parses a one-digit reply code in 0..max.
func naiveParseCode(s string, max int) (int, error) {
	code, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("code: %w", err)
	}
	if code < 0 || code > max {
		return 0, fmt.Errorf("code %d out of range", code)
	}
	return code, nil
}

// naiveDecodePLUMI decodes one PLUMI datagram.
func naiveDecodePLUMI(b []byte) (naivePLUMI, error) {
	var m naivePLUMI
	if len(b) > 100 {
		return m, errors.New("datagram longer than 100 bytes")
	}
	s := string(b)
	if len(s) < 3 {
		return m, errors.New("datagram too short")
	}
	m.Type = s[:2]
	body := s[2:]
	var err error
	switch m.Type {
	case "PR", "PD":
		m.From, err = naiveParseAddr(body)
	case "RR", "RD":
		m.Code, err = naiveParseCode(body, 1)
	case "PL":
		parts := strings.Split(body, ":")
		if len(parts) != 2 {
			return m, fmt.Errorf("PL: want 2 addresses, got %d fields", len(parts))
		}
		if m.From, err = naiveParseAddr(parts[0]); err != nil {
			return m, err
		}
		m.To, err = naiveParseAddr(parts[1])
	case "RL":
		if m.Code, err = naiveParseCode(body[:1], 3); err != nil {
			return m, err
		}
		parts := strings.Split(body[1:], ":")
		if m.Code == 0 {
			if len(parts) != 4 {
				return m, fmt.Errorf("RL0: want 4 fields, got %d", len(parts))
			}
			m.IP = net.ParseIP(parts[2])
			if m.IP == nil || m.IP.To4() == nil {
				return m, fmt.Errorf("RL0: bad IPv4 address %q", parts[2])
			}
			m.Port, err = strconv.Atoi(parts[3])
			if err != nil {
				return m, fmt.Errorf("RL0: port: %w", err)
			}
			if m.Port < 1 || m.Port > 65535 {
				return m, fmt.Errorf("RL0: port %d out of range", m.Port)
			}
		} else if len(parts) != 2 {
			return m, fmt.Errorf("RL%d: want 2 fields, got %d", m.Code, len(parts))
		}
		if m.From, err = naiveParseAddr(parts[0]); err != nil {
			return m, err
		}
		m.To, err = naiveParseAddr(parts[1])
	default:
		return m, fmt.Errorf("unknown type %q", m.Type)
	}
	return m, err
}

// naiveEncodePLUMI encodes m as a datagram.
func naiveEncodePLUMI(m naivePLUMI) ([]byte, error) {
	var s string
	switch m.Type {
	case "PR", "PD":
		s = fmt.Sprintf("%s%s", m.Type, m.From)
	case "RR", "RD":
		s = fmt.Sprintf("%s%d", m.Type, m.Code)
	case "PL":
		s = fmt.Sprintf("PL%s:%s", m.From, m.To)
	case "RL":
		if m.Code == 0 {
			s = fmt.Sprintf("RL%d%s:%s:%s:%d", m.Code, m.From, m.To, m.IP, m.Port)
		} else {
			s = fmt.Sprintf("RL%d%s:%s", m.Code, m.From, m.To)
		}
	default:
		return nil, fmt.Errorf("unknown type %q", m.Type)
	}
	if len(s) > 100 {
		return nil, errors.New("datagram longer than 100 bytes")
	}
	return []byte(s), nil
}

// naivePMI is a PMI message.
type naivePMI struct {
	Type byte // 'N' or 'L'
	Text string
}

// naiveDecodePMI decodes one whole PMI message.
func naiveDecodePMI(b []byte) (naivePMI, error) {
	if len(b) < 3 {
		return naivePMI{}, errors.New("message too short")
	}
	if b[0] != 'N' && b[0] != 'L' {
		return naivePMI{}, fmt.Errorf("unknown type %q", b[0])
	}
	n, err := strconv.Atoi(string(b[1:3]))
	if err != nil || n < 0 {
		return naivePMI{}, fmt.Errorf("bad length %q", b[1:3])
	}
	if len(b) != 3+n {
		return naivePMI{}, fmt.Errorf("length %d, but %d bytes of info", n, len(b)-3)
	}
	return naivePMI{Type: b[0], Text: string(b[3:])}, nil
}

// naiveEncodePMI encodes m.
func naiveEncodePMI(m naivePMI) ([]byte, error) {
	if len(m.Text) > 99 {
		return nil, errors.New("info longer than 99 bytes")
	}
	return []byte(fmt.Sprintf("%c%02d%s", m.Type, len(m.Text), m.Text)), nil
}

// naiveReadPMI reads the next PMI message from a stream.
func naiveReadPMI(r *bufio.Reader) (naivePMI, error) {
	hdr := make([]byte, 3)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return naivePMI{}, err
	}
	if hdr[0] != 'N' && hdr[0] != 'L' {
		return naivePMI{}, fmt.Errorf("unknown type %q", hdr[0])
	}
	n, err := strconv.Atoi(string(hdr[1:]))
	if err != nil || n < 0 {
		return naivePMI{}, fmt.Errorf("bad length %q", hdr[1:])
	}
	info := make([]byte, n)
	if _, err := io.ReadFull(r, info); err != nil {
		return naivePMI{}, err
	}
	return naivePMI{Type: hdr[0], Text: string(info)}, nil
}

// naiveWritePMI writes m to a stream.
func naiveWritePMI(w io.Writer, m naivePMI) error {
	if len(m.Text) > 99 {
		return errors.New("info longer than 99 bytes")
	}
	_, err := fmt.Fprintf(w, "%c%02d%s", m.Type, len(m.Text), m.Text)
	return err
}

// ---------------------------------------------------------------------------
// Inputs: the same message for both codecs.

var (
	benchU1   = wire.Address{User: "u1", Domain: "PC-c"}
	benchU2   = wire.Address{User: "u2", Domain: "PC-d"}
	benchNU1  = naiveAddr{User: "u1", Domain: "PC-c"}
	benchNU2  = naiveAddr{User: "u2", Domain: "PC-d"}
	benchLong = strings.Repeat("x", 99)
)

type benchPLUMICase struct {
	name  string
	in    []byte
	msg   wire.Message
	naive naivePLUMI
}

var benchPLUMICases = []benchPLUMICase{
	{"PR", []byte("PRu1@PC-c"), &wire.Register{Addr: benchU1},
		naivePLUMI{Type: "PR", From: benchNU1}},
	{"RR", []byte("RR0"), &wire.RegisterReply{Code: wire.RegisterOK},
		naivePLUMI{Type: "RR"}},
	{"PL", []byte("PLu1@PC-c:u2@PC-d"), &wire.Locate{From: benchU1, To: benchU2},
		naivePLUMI{Type: "PL", From: benchNU1, To: benchNU2}},
	{"RL0", []byte("RL0u1@PC-c:u2@PC-d:10.100.100.102:43038"),
		&wire.LocateReply{Code: wire.LocateFound, From: benchU1, To: benchU2,
			IP: netip.AddrFrom4([4]byte{10, 100, 100, 102}), Port: 43038},
		naivePLUMI{Type: "RL", From: benchNU1, To: benchNU2, IP: net.ParseIP("10.100.100.102"), Port: 43038}},
	{"RL3", []byte("RL3u1@PC-c:u2@PC-d"), &wire.LocateReply{Code: wire.LocateOffline, From: benchU1, To: benchU2},
		naivePLUMI{Type: "RL", Code: 3, From: benchNU1, To: benchNU2}},
}

type benchPMICase struct {
	name  string
	in    []byte
	msg   wire.Message
	naive naivePMI
}

var benchPMICases = []benchPMICase{
	{"N", []byte("N02u1"), &wire.Nick{Nick: "u1"}, naivePMI{Type: 'N', Text: "u1"}},
	{"L", []byte("L08Hola u2!"), &wire.Line{Text: "Hola u2!"}, naivePMI{Type: 'L', Text: "Hola u2!"}},
	{"L99", []byte("L99" + benchLong), &wire.Line{Text: benchLong}, naivePMI{Type: 'L', Text: benchLong}},
}

// benchConversation is a PMI stream of many messages: the nicknames, then lines.
func benchConversation() ([]wire.Message, []naivePMI) {
	lines := []string{"Hola u2!", "Hola! Que tal?", "Be, haig de marxar, adeu", "", benchLong}
	msgs := []wire.Message{&wire.Nick{Nick: "u1"}, &wire.Nick{Nick: "u2"}}
	naive := []naivePMI{{Type: 'N', Text: "u1"}, {Type: 'N', Text: "u2"}}
	for i := 0; len(msgs) < 1000; i++ {
		l := lines[i%len(lines)]
		msgs = append(msgs, &wire.Line{Text: l})
		naive = append(naive, naivePMI{Type: 'L', Text: l})
	}
	return msgs, naive
}

// benchStream encodes msgs as one PMI stream.
func benchStream(tb testing.TB, msgs []wire.Message) []byte {
	var buf bytes.Buffer
	w := wire.NewWriter(&buf)
	for _, m := range msgs {
		if err := w.WriteMessage(m); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

// ---------------------------------------------------------------------------
// Benchmarks.

func BenchmarkEncode(b *testing.B) {
	for _, c := range benchPLUMICases {
		b.Run(c.name, func(b *testing.B) {
			b.Run("codec=generated", func(b *testing.B) {
				b.ReportAllocs()
				buf := make([]byte, 0, wire.PLUMIMax)
				var err error
				for b.Loop() {
					if buf, err = c.msg.Append(buf[:0]); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("codec=naive", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := naiveEncodePLUMI(c.naive); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
	for _, c := range benchPMICases {
		b.Run(c.name, func(b *testing.B) {
			b.Run("codec=generated", func(b *testing.B) {
				b.ReportAllocs()
				buf := make([]byte, 0, wire.PMIMax)
				var err error
				for b.Loop() {
					if buf, err = c.msg.Append(buf[:0]); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("codec=naive", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := naiveEncodePMI(c.naive); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkDecode decodes through the reusable union from bytes, which it
// copies once for the message's text (generated), from a string, which it
// does not copy (generated-string), through DecodePLUMI/DecodePMI, which
// allocate the message (generated-iface), and with the naive codec, which
// copies the bytes into a string as a reader of a datagram does.
func BenchmarkDecode(b *testing.B) {
	for _, c := range benchPLUMICases {
		b.Run(c.name, func(b *testing.B) {
			b.Run("codec=generated", func(b *testing.B) {
				b.ReportAllocs()
				var d wire.PLUMIDatagram
				for b.Loop() {
					if err := d.Decode(c.in); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("codec=generated-string", func(b *testing.B) {
				b.ReportAllocs()
				var d wire.PLUMIDatagram
				s := string(c.in)
				for b.Loop() {
					if err := d.DecodeString(s); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("codec=generated-iface", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := wire.DecodePLUMI(c.in); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("codec=naive", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := naiveDecodePLUMI(c.in); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
	for _, c := range benchPMICases {
		b.Run(c.name, func(b *testing.B) {
			b.Run("codec=generated", func(b *testing.B) {
				b.ReportAllocs()
				var f wire.PMIFrame
				for b.Loop() {
					if err := f.Decode(c.in); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("codec=generated-string", func(b *testing.B) {
				b.ReportAllocs()
				var f wire.PMIFrame
				s := string(c.in)
				for b.Loop() {
					if err := f.DecodeString(s); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("codec=generated-iface", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := wire.DecodePMI(c.in); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("codec=naive", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := naiveDecodePMI(c.in); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkLongest decodes the longest valid message of each protocol,
// and of PMI a line and a nickname of 99 bytes that are not ASCII, with
// DecodeString; utf8.Valid over the same bytes is the floor, the least a
// check of every byte costs. ns/B is the time per byte of the message.
func BenchmarkLongest(b *testing.B) {
	for _, c := range []struct {
		name, in string
		plumi    bool
	}{
		{"PLUMI-RL0", "RL0abcdefghijklmnopqrstuvwxyz0123456@b.c:abcdefghijklmnopqrstuvwxyz0123456@b.c:255.255.255.255:65535", true},
		{"PMI-L99", "L99" + benchLong, false},
		{"PMI-L99-UTF8", "L99" + text99("Què tal? Ça va? "), false},
		{"PMI-N99-UTF8", "N99" + text99("\u05e9\u05e8\u05d4 (Sara) "), false},
	} {
		perByte := func(b *testing.B) {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(c.in)), "ns/B")
		}
		b.Run(c.name, func(b *testing.B) {
			b.Run("codec=generated-string", func(b *testing.B) {
				b.ReportAllocs()
				var d wire.PLUMIDatagram
				var f wire.PMIFrame
				for b.Loop() {
					var err error
					if c.plumi {
						err = d.DecodeString(c.in)
					} else {
						err = f.DecodeString(c.in)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				perByte(b)
			})
			b.Run("codec=utf8.Valid", func(b *testing.B) {
				for b.Loop() {
					if !utf8.ValidString(c.in) {
						b.Fatal("invalid")
					}
				}
				perByte(b)
			})
		})
	}
}

// text99 is unit repeated to 99 bytes, whole runes, padded with dots.
func text99(unit string) string {
	s := ""
	for len(s)+len(unit) <= 99 {
		s += unit
	}
	for _, r := range unit {
		if len(s)+utf8.RuneLen(r) > 99 {
			break
		}
		s += string(r)
	}
	return s + strings.Repeat(".", 99-len(s))
}

// BenchmarkReadPMI reads a whole conversation (one op) from a bytes.Reader;
// ns/msg is the time per message.
func BenchmarkReadPMI(b *testing.B) {
	msgs, _ := benchConversation()
	data := benchStream(b, msgs)
	perMsg := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/msg")
	}
	b.Run("codec=generated", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var in bytes.Reader
		var f wire.PMIFrame
		for b.Loop() {
			in.Reset(data)
			r := wire.NewReader(&in)
			n := 0
			for ; ; n++ {
				err := r.ReadFrame(&f)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if n != len(msgs) {
				b.Fatalf("read %d messages, want %d", n, len(msgs))
			}
		}
		perMsg(b)
	})
	b.Run("codec=naive", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var in bytes.Reader
		for b.Loop() {
			in.Reset(data)
			r := bufio.NewReader(&in)
			n := 0
			for ; ; n++ {
				_, err := naiveReadPMI(r)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if n != len(msgs) {
				b.Fatalf("read %d messages, want %d", n, len(msgs))
			}
		}
		perMsg(b)
	})
}

// BenchmarkWritePMI writes a whole conversation (one op) to io.Discard.
func BenchmarkWritePMI(b *testing.B) {
	msgs, naive := benchConversation()
	size := int64(len(benchStream(b, msgs)))
	perMsg := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/msg")
	}
	b.Run("codec=generated", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			w := wire.NewWriter(io.Discard)
			for _, m := range msgs {
				if err := w.WriteMessage(m); err != nil {
					b.Fatal(err)
				}
			}
		}
		perMsg(b)
	})
	b.Run("codec=naive", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			for _, m := range naive {
				if err := naiveWritePMI(io.Discard, m); err != nil {
					b.Fatal(err)
				}
			}
		}
		perMsg(b)
	})
}

// ---------------------------------------------------------------------------
// Tests.

// TestBenchInputs checks that both codecs agree on every benchmark input,
// so the benchmarks compare like with like, and that the naive decoder
// does the validation it claims.
func TestBenchInputs(t *testing.T) {
	for _, c := range benchPLUMICases {
		var d wire.PLUMIDatagram
		if err := d.Decode(c.in); err != nil {
			t.Errorf("%s: generated decode: %v", c.name, err)
		} else if !reflect.DeepEqual(d.Message(), c.msg) {
			t.Errorf("%s: generated decode = %#v, want %#v", c.name, d.Message(), c.msg)
		}
		if got, err := c.msg.Append(nil); err != nil || string(got) != string(c.in) {
			t.Errorf("%s: generated encode = %q, %v; want %q", c.name, got, err, c.in)
		}
		if got, err := naiveDecodePLUMI(c.in); err != nil || !reflect.DeepEqual(got, c.naive) {
			t.Errorf("%s: naive decode = %+v, %v; want %+v", c.name, got, err, c.naive)
		}
		if got, err := naiveEncodePLUMI(c.naive); err != nil || string(got) != string(c.in) {
			t.Errorf("%s: naive encode = %q, %v; want %q", c.name, got, err, c.in)
		}
	}
	for _, c := range benchPMICases {
		var f wire.PMIFrame
		if err := f.Decode(c.in); err != nil {
			t.Errorf("%s: generated decode: %v", c.name, err)
		} else if !reflect.DeepEqual(f.Message(), c.msg) {
			t.Errorf("%s: generated decode = %#v, want %#v", c.name, f.Message(), c.msg)
		}
		if got, err := c.msg.Append(nil); err != nil || string(got) != string(c.in) {
			t.Errorf("%s: generated encode = %q, %v; want %q", c.name, got, err, c.in)
		}
		if got, err := naiveDecodePMI(c.in); err != nil || got != c.naive {
			t.Errorf("%s: naive decode = %+v, %v; want %+v", c.name, got, err, c.naive)
		}
		if got, err := naiveEncodePMI(c.naive); err != nil || string(got) != string(c.in) {
			t.Errorf("%s: naive encode = %q, %v; want %q", c.name, got, err, c.in)
		}
	}
	for _, in := range []string{
		"PRu1", "PR@PC-c", "PRu1@", "RR7", "PLu1@PC-c", "PLu1@PC-c:u2",
		"RL0u1@PC-c:u2@PC-d:10.100.100:43038", "RL0u1@PC-c:u2@PC-d:::1:43038",
		"RL0u1@PC-c:u2@PC-d:10.100.100.102:0", "RL0u1@PC-c:u2@PC-d:10.100.100.102:70000",
		"RL3u1@PC-c:u2@PC-d:10.100.100.102:43038", "RL9u1@PC-c:u2@PC-d", "XXu1@PC-c",
	} {
		if m, err := naiveDecodePLUMI([]byte(in)); err == nil {
			t.Errorf("naive decode %q = %+v, want an error", in, m)
		}
	}
	for _, in := range []string{"N0", "N05u1", "N-1", "X02u1"} {
		if m, err := naiveDecodePMI([]byte(in)); err == nil {
			t.Errorf("naive decode %q = %+v, want an error", in, m)
		}
	}

	msgs, naive := benchConversation()
	data := benchStream(t, msgs)
	var out bytes.Buffer
	for _, m := range naive {
		if err := naiveWritePMI(&out, m); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Errorf("naive writer and wire.Writer disagree")
	}
	r := bufio.NewReader(bytes.NewReader(data))
	for i, want := range naive {
		if got, err := naiveReadPMI(r); err != nil || got != want {
			t.Fatalf("naive read %d = %+v, %v; want %+v", i, got, err, want)
		}
	}
	if _, err := naiveReadPMI(r); err != io.EOF {
		t.Errorf("naive read at end: %v, want io.EOF", err)
	}
}

// TestAllocs pins the allocation counts: encoding into a buffer with room
// allocates nothing, decoding a string into a reused PLUMIDatagram or
// PMIFrame allocates nothing, and decoding bytes allocates at most once
// (the copy the fields share), not at all for a message without text.
func TestAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	plumi := []struct {
		name string
		msg  wire.Message
	}{
		{"PR", &wire.Register{Addr: benchU1}},
		{"RR", &wire.RegisterReply{Code: wire.RegisterRefused}},
		{"PD", &wire.Deregister{Addr: benchU1}},
		{"RD", &wire.DeregisterReply{Code: wire.DeregisterOK}},
		{"PL", &wire.Locate{From: benchU1, To: benchU2}},
		{"RL0", &wire.LocateReply{Code: wire.LocateFound, From: benchU1, To: benchU2,
			IP: netip.AddrFrom4([4]byte{10, 100, 100, 102}), Port: 43038}},
		{"RL1", &wire.LocateReply{Code: wire.LocateBusy, From: benchU1, To: benchU2}},
		{"RL2", &wire.LocateReply{Code: wire.LocateUnknown, From: benchU1, To: benchU2}},
		{"RL3", &wire.LocateReply{Code: wire.LocateOffline, From: benchU1, To: benchU2}},
	}
	pmi := []struct {
		name string
		msg  wire.Message
	}{
		{"N", &wire.Nick{Nick: "u1"}},
		{"L", &wire.Line{Text: "Hola u2!"}},
		{"L00", &wire.Line{}},
		{"L99", &wire.Line{Text: benchLong}},
	}

	encode := func(t *testing.T, m wire.Message) []byte {
		t.Helper()
		buf := make([]byte, 0, 128)
		var out []byte
		if n := testing.AllocsPerRun(100, func() {
			var err error
			if out, err = m.Append(buf[:0]); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("Append: %v allocs, want 0", n)
		}
		return out
	}
	for _, c := range plumi {
		t.Run(c.name, func(t *testing.T) {
			in := encode(t, c.msg)
			want := 1.0 // the copy of the text
			if c.name == "RR" || c.name == "RD" {
				want = 0
			}
			var d wire.PLUMIDatagram
			if n := testing.AllocsPerRun(100, func() {
				if err := d.Decode(in); err != nil {
					t.Fatal(err)
				}
			}); n != want {
				t.Errorf("PLUMIDatagram.Decode(%q): %v allocs, want %v", in, n, want)
			}
			s := string(in)
			if n := testing.AllocsPerRun(100, func() {
				if err := d.DecodeString(s); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("PLUMIDatagram.DecodeString(%q): %v allocs, want 0", in, n)
			}
			if !reflect.DeepEqual(d.Message(), c.msg) {
				t.Errorf("decoded %#v, want %#v", d.Message(), c.msg)
			}
		})
	}
	for _, c := range pmi {
		t.Run(c.name, func(t *testing.T) {
			in := encode(t, c.msg)
			var f wire.PMIFrame
			if n := testing.AllocsPerRun(100, func() {
				if err := f.Decode(in); err != nil {
					t.Fatal(err)
				}
			}); n != 1 {
				t.Errorf("PMIFrame.Decode(%q): %v allocs, want 1", in, n)
			}
			s := string(in)
			if n := testing.AllocsPerRun(100, func() {
				if err := f.DecodeString(s); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("PMIFrame.DecodeString(%q): %v allocs, want 0", in, n)
			}
			if !reflect.DeepEqual(f.Message(), c.msg) {
				t.Errorf("decoded %#v, want %#v", f.Message(), c.msg)
			}
		})
	}
}

// TestRefusalAllocs pins what a refusal costs: its *wire.Error alone, the
// reason and a dotted field written into it, whether the input is a
// string or bytes (which are not copied unless they decode).
func TestRefusalAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	var d wire.PLUMIDatagram
	var f wire.PMIFrame
	invalids := append([]wiregen.Invalid{
		// the longest reasons, in a struct's field: a host name's edge
		// and empty label, a code point, a decimal over its max
		{Proto: "PLUMI", Input: "PLu1@PC-c:u2@-bb"},
		{Proto: "PLUMI", Input: "PLu1@PC-c:u2@bb."},
		{Proto: "PLUMI", Input: "PRu\U0010ffff\u202e@bb"},
		{Proto: "PLUMI", Input: "RL0a@b.c:d@e.f:1.2.3.4:99999"},
		{Proto: "PMI", Input: "N03\xff\xfe\xfd"},
	}, wiregen.Invalids...)
	for _, inv := range invalids {
		s, b := inv.Input, []byte(inv.Input)
		decode, decodeString := d.Decode, d.DecodeString
		if inv.Proto == "PMI" {
			decode, decodeString = f.Decode, f.DecodeString
		}
		if n := testing.AllocsPerRun(20, func() {
			if decodeString(s) == nil {
				t.Fatalf("%s %q decodes", inv.Proto, s)
			}
		}); n != 1 {
			t.Errorf("%s DecodeString(%q): %v allocs, want 1", inv.Proto, s, n)
		}
		if n := testing.AllocsPerRun(20, func() { _ = decode(b) }); n != 1 {
			t.Errorf("%s Decode(%q): %v allocs, want 1", inv.Proto, s, n)
		}
	}
}
