package wire_test

// Tests against the reference implementation's captures: every payload they
// hold decodes and re-encodes byte for byte. The captures live outside the
// repository (../../shared/captures); the messages they hold are also kept
// here as a table, so the check runs in a fresh clone too, and a test ties
// the table to the captures when both are present.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"mi/internal/pcap"
	"mi/wire"
)

// captureDir holds the reference captures, relative to this package.
const captureDir = "../../shared/captures"

// captureFiles returns the reference capture files, or skips the test when
// they are not there.
func captureFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(captureDir, "*.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		if _, err := os.Stat(captureDir); err != nil {
			t.Skipf("the reference captures are not present (%s): %v", captureDir, err)
		}
		t.Skipf("the reference captures are not present: no *.pcap in %s", captureDir)
	}
	return files
}

// captureDecode decodes b as one message of proto.
func captureDecode(proto string, b []byte) (wire.Message, error) {
	switch proto {
	case "PLUMI":
		return wire.DecodePLUMI(b)
	case "PMI":
		return wire.DecodePMI(b)
	}
	return nil, fmt.Errorf("no protocol %q", proto)
}

// equateIP lets go-cmp compare the netip.Addr inside LocateReply.
var equateIP = cmpopts.EquateComparable(netip.Addr{})

func addr(user, domain string) wire.Address { return wire.Address{User: user, Domain: domain} }

// capturedMessages is every distinct payload of the four reference
// captures: the UDP datagrams, and the PMI messages of the TCP streams.
var capturedMessages = []struct {
	Proto string
	Wire  string
	Want  wire.Message
}{
	// agent1-node1.pcap, node1-node2.pcap, node2-agent2.pcap
	{"PLUMI", "PRu1@PC-c", &wire.Register{Addr: addr("u1", "PC-c")}},
	{"PLUMI", "PRu2@PC-d", &wire.Register{Addr: addr("u2", "PC-d")}},
	{"PLUMI", "RR0", &wire.RegisterReply{Code: wire.RegisterOK}},
	{"PLUMI", "PLu1@PC-c:u2@PC-d", &wire.Locate{From: addr("u1", "PC-c"), To: addr("u2", "PC-d")}},
	{"PLUMI", "RL0u1@PC-c:u2@PC-d:10.100.100.102:43038", &wire.LocateReply{Code: wire.LocateFound,
		From: addr("u1", "PC-c"), To: addr("u2", "PC-d"), IP: netip.MustParseAddr("10.100.100.102"), Port: 43038}},
	{"PLUMI", "PDu1@PC-c", &wire.Deregister{Addr: addr("u1", "PC-c")}},
	{"PLUMI", "PDu2@PC-d", &wire.Deregister{Addr: addr("u2", "PC-d")}},
	{"PLUMI", "RD0", &wire.DeregisterReply{Code: wire.DeregisterOK}},
	// agent1-agent2.pcap
	{"PMI", "N02u1", &wire.Nick{Nick: "u1"}},
	{"PMI", "N02u2", &wire.Nick{Nick: "u2"}},
	{"PMI", "L08Hola u2!", &wire.Line{Text: "Hola u2!"}},
	{"PMI", "L14Hola! Que tal?", &wire.Line{Text: "Hola! Que tal?"}},
	{"PMI", "L24Be, haig de marxar, adeu", &wire.Line{Text: "Be, haig de marxar, adeu"}},
}

// TestCapturedMessages decodes each captured message to the expected value
// and re-encodes it byte for byte.
func TestCapturedMessages(t *testing.T) {
	for _, c := range capturedMessages {
		t.Run(c.Wire, func(t *testing.T) {
			m, err := captureDecode(c.Proto, []byte(c.Wire))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if diff := cmp.Diff(c.Want, m, equateIP); diff != "" {
				t.Errorf("decoded value differs (-want +got):\n%s", diff)
			}
			if m.Tag() != c.Want.Tag() || m.Len() != len(c.Wire) {
				t.Errorf("tag %q len %d, want %q len %d", m.Tag(), m.Len(), c.Want.Tag(), len(c.Wire))
			}
			out, err := m.Append(nil)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			if diff := cmp.Diff(c.Wire, string(out)); diff != "" {
				t.Errorf("re-encoded bytes differ (-want +got):\n%s", diff)
			}
			// Encoding the expected value gives the same bytes too.
			if out, err := c.Want.Append(nil); err != nil || string(out) != c.Wire {
				t.Errorf("encode want: %q, %v", out, err)
			}
		})
	}
}

// capturePayload is one MI payload found in a capture.
type capturePayload struct{ Proto, Wire string }

// readCaptureStreams reads a capture: its UDP datagrams, and its TCP
// streams, one per direction.
func readCaptureStreams(t *testing.T, file string) (datagrams []pcap.Packet, streams []*pcap.Stream) {
	t.Helper()
	pkts, err := pcap.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if p.Proto == "udp" {
			datagrams = append(datagrams, p)
		}
	}
	streams = pcap.TCPStreams(pkts)
	for _, s := range streams {
		if s.Gaps != 0 {
			t.Errorf("%s: stream %s -> %s misses %d bytes", file, s.Src, s.Dst, s.Gaps)
		}
	}
	return datagrams, streams
}

// readAllPMI reads a PMI stream to its end, returning the messages and the
// concatenation of their re-encodings.
func readAllPMI(r io.Reader) ([]wire.Message, []byte, error) {
	var msgs []wire.Message
	var enc []byte
	rd := wire.NewReader(r)
	for {
		m, err := rd.ReadMessage()
		if err == io.EOF {
			return msgs, enc, nil
		}
		if err != nil {
			return msgs, enc, err
		}
		if enc, err = m.Append(enc); err != nil {
			return msgs, enc, fmt.Errorf("re-encode %#v: %w", m, err)
		}
		msgs = append(msgs, m)
	}
}

// TestCapturesRoundTrip decodes every payload of the reference captures and
// re-encodes it: UDP datagrams one by one, TCP streams per direction, whole
// and fed one byte per Read.
func TestCapturesRoundTrip(t *testing.T) {
	for _, file := range captureFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			datagrams, streams := readCaptureStreams(t, file)
			if len(datagrams)+len(streams) == 0 {
				t.Fatal("no UDP or TCP payload")
			}
			for _, p := range datagrams {
				m, err := wire.DecodePLUMI(p.Payload)
				if err != nil {
					t.Errorf("record %d %s -> %s: %v", p.Index, p.Src, p.Dst, err)
					continue
				}
				out, err := m.Append(nil)
				if err != nil {
					t.Errorf("record %d: re-encode: %v", p.Index, err)
					continue
				}
				if diff := cmp.Diff(string(p.Payload), string(out)); diff != "" {
					t.Errorf("record %d: re-encoded bytes differ (-want +got):\n%s", p.Index, diff)
				}
			}
			for _, s := range streams {
				readers := map[string]io.Reader{
					"whole":      bytes.NewReader(s.Data),
					"1 byte per": iotest.OneByteReader(bytes.NewReader(s.Data)),
				}
				for how, r := range readers {
					msgs, enc, err := readAllPMI(r)
					if err != nil {
						t.Errorf("%s -> %s (%s): after %d messages: %v", s.Src, s.Dst, how, len(msgs), err)
						continue
					}
					if diff := cmp.Diff(string(s.Data), string(enc)); diff != "" {
						t.Errorf("%s -> %s (%s): re-encoded stream differs (-want +got):\n%s", s.Src, s.Dst, how, diff)
					}
				}
			}
		})
	}
}

// TestCapturedMessagesMatchCaptures checks that capturedMessages holds
// exactly the distinct payloads of the captures, so the table cannot rot.
func TestCapturedMessagesMatchCaptures(t *testing.T) {
	seen := map[capturePayload]bool{}
	for _, file := range captureFiles(t) {
		datagrams, streams := readCaptureStreams(t, file)
		for _, p := range datagrams {
			seen[capturePayload{"PLUMI", string(p.Payload)}] = true
		}
		for _, s := range streams {
			msgs, _, err := readAllPMI(bytes.NewReader(s.Data))
			if err != nil {
				t.Errorf("%s: %s -> %s: %v", file, s.Src, s.Dst, err)
			}
			for _, m := range msgs {
				b, _ := m.Append(nil)
				seen[capturePayload{"PMI", string(b)}] = true
			}
		}
	}
	var inCaptures, inTable []capturePayload
	for p := range seen {
		inCaptures = append(inCaptures, p)
	}
	for _, c := range capturedMessages {
		inTable = append(inTable, capturePayload{c.Proto, c.Wire})
	}
	less := func(a, b capturePayload) int { return strings.Compare(a.Proto+" "+a.Wire, b.Proto+" "+b.Wire) }
	slices.SortFunc(inCaptures, less)
	slices.SortFunc(inTable, less)
	if diff := cmp.Diff(inCaptures, inTable); diff != "" {
		t.Errorf("capturedMessages differs from the captures (-captures +table):\n%s", diff)
	}
}

// captureOutcome is what a test compares of a refusal.
type captureOutcome struct {
	Err    error // the sentinel
	Field  string
	Offset int
}

func outcomeOf(err error) captureOutcome {
	var e *wire.Error
	if !errors.As(err, &e) {
		return captureOutcome{Err: err, Field: "(not a *wire.Error)"}
	}
	return captureOutcome{Err: e.Err, Field: e.Field, Offset: e.Offset}
}

// TestDecodeRefusals lists malformed messages by what is wrong with them,
// with the sentinel, field and offset of the error each must give.
func TestDecodeRefusals(t *testing.T) {
	long := strings.Repeat("u", 36) // a user one byte over the limit
	tests := []struct {
		name  string
		proto string
		in    string
		want  captureOutcome
	}{
		{"PLUMI empty input", "PLUMI", "", captureOutcome{wire.ErrTruncated, "type", 0}},
		{"PMI empty input", "PMI", "", captureOutcome{wire.ErrTruncated, "type", 0}},
		{"PLUMI one byte", "PLUMI", "P", captureOutcome{wire.ErrTruncated, "type", 1}},
		{"PLUMI type only PR", "PLUMI", "PR", captureOutcome{wire.ErrTruncated, "addr", 2}},
		{"PLUMI type only RL", "PLUMI", "RL", captureOutcome{wire.ErrTruncated, "code", 2}},
		{"PLUMI type only PL", "PLUMI", "PL", captureOutcome{wire.ErrTruncated, "from", 2}},
		{"PMI type only", "PMI", "N", captureOutcome{wire.ErrTruncated, "length", 1}},
		{"PLUMI unknown type", "PLUMI", "XXu1@PC-c", captureOutcome{wire.ErrUnknownType, "type", 0}},
		{"PLUMI lower-case type", "PLUMI", "pru1@PC-c", captureOutcome{wire.ErrUnknownType, "type", 0}},
		{"PMI unknown type", "PMI", "X02ab", captureOutcome{wire.ErrUnknownType, "type", 0}},
		{"locate without colon", "PLUMI", "PLu1@PC-c", captureOutcome{wire.ErrBadSeparator, "from", 9}},
		{"locate reply found without ip", "PLUMI", "RL0u1@PC-c:u2@PC-d", captureOutcome{wire.ErrBadSeparator, "to", 18}},
		{"locate reply without port", "PLUMI", "RL0a@b.c:d@e.f:1.2.3.4", captureOutcome{wire.ErrBadSeparator, "ip", 22}},
		{"address without @", "PLUMI", "PRu1", captureOutcome{wire.ErrBadSeparator, "addr.user", 4}},
		{"second address without @", "PLUMI", "PLu1@PC-c:u2", captureOutcome{wire.ErrBadSeparator, "to.user", 12}},
		{"address of 38 bytes", "PLUMI", "PR" + long + "@b", captureOutcome{wire.ErrTooLong, "addr", 2}},
		{"user of 36 bytes", "PLUMI", "PR" + long + "@", captureOutcome{wire.ErrTooLong, "addr.user", 2}},
		{"port 0", "PLUMI", "RL0a@b.c:d@e.f:1.2.3.4:0", captureOutcome{wire.ErrBadField, "port", 23}},
		{"port 65536", "PLUMI", "RL0a@b.c:d@e.f:1.2.3.4:65536", captureOutcome{wire.ErrBadField, "port", 23}},
		{"port with a leading zero", "PLUMI", "RL0a@b.c:d@e.f:1.2.3.4:080", captureOutcome{wire.ErrBadField, "port", 23}},
		{"PMI non-digit length", "PMI", "N0x", captureOutcome{wire.ErrBadField, "length", 2}},
		{"PMI length with a sign", "PMI", "L-1", captureOutcome{wire.ErrBadField, "length", 1}},
		{"PMI length larger than the data", "PMI", "N05u1", captureOutcome{wire.ErrTruncated, "nick", 5}},
		{"PMI frame claiming 99 bytes", "PMI", "L99abc", captureOutcome{wire.ErrTruncated, "text", 6}},
		{"PMI bytes after the info", "PMI", "N02u1x", captureOutcome{wire.ErrTrailing, "nick", 5}},
		{"PLUMI datagram of 101 bytes", "PLUMI", "PRu1@PC-c" + strings.Repeat("x", 92), captureOutcome{wire.ErrTooLong, "datagram", 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := captureDecode(tt.proto, []byte(tt.in))
			if err == nil {
				t.Fatalf("%q decoded as %#v", tt.in, m)
			}
			if diff := cmp.Diff(tt.want, outcomeOf(err), cmpopts.EquateErrors()); diff != "" {
				t.Errorf("%q: %v\n(-want +got):\n%s", tt.in, err, diff)
			}
			if !errors.Is(err, tt.want.Err) {
				t.Errorf("errors.Is(%v, %v) is false", err, tt.want.Err)
			}
		})
	}
}

// TestEncodeRefusesLongInfo encodes PMI messages with 100 bytes of info:
// each must fail with ErrTooLong and leave the buffer as it was, up to its
// capacity.
func TestEncodeRefusesLongInfo(t *testing.T) {
	text := strings.Repeat("a", 100)
	tests := []struct {
		name string
		m    wire.Message
		want captureOutcome
	}{
		{"line of 100 bytes", &wire.Line{Text: text}, captureOutcome{wire.ErrTooLong, "text", 3}},
		{"nick of 100 bytes", &wire.Nick{Nick: text}, captureOutcome{wire.ErrTooLong, "nick", 3}},
		{"address of 38 bytes", &wire.Register{Addr: addr(strings.Repeat("u", 36), "b")}, captureOutcome{wire.ErrTooLong, "addr", 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backing := bytes.Repeat([]byte{0xee}, 256)
			copy(backing, "prefix")
			before := bytes.Clone(backing)
			out, err := tt.m.Append(backing[:6])
			if diff := cmp.Diff(tt.want, outcomeOf(err), cmpopts.EquateErrors()); diff != "" {
				t.Errorf("%v\n(-want +got):\n%s", err, diff)
			}
			if string(out) != "prefix" {
				t.Errorf("Append returned %q, want the buffer unchanged", out)
			}
			if !bytes.Equal(backing, before) {
				t.Errorf("Append wrote into the buffer's spare capacity")
			}
		})
	}
	// 99 bytes is the largest info, and makes the largest message.
	out, err := (&wire.Line{Text: text[:99]}).Append(nil)
	if err != nil || len(out) != wire.PMIMax || string(out[:3]) != "L99" {
		t.Errorf("line of 99 bytes: %q, %v", out, err)
	}
}

// captureConversation is the agent1 -> agent2 stream of agent1-agent2.pcap.
const captureConversation = "N02u1L08Hola u2!L24Be, haig de marxar, adeu"

// TestReaderFraming reads PMI streams however they are cut.
func TestReaderFraming(t *testing.T) {
	want := []wire.Message{&wire.Nick{Nick: "u1"}, &wire.Line{Text: "Hola u2!"}, &wire.Line{Text: "Be, haig de marxar, adeu"}}

	t.Run("one byte per read", func(t *testing.T) {
		msgs, enc, err := readAllPMI(iotest.OneByteReader(strings.NewReader(captureConversation)))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, msgs); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if string(enc) != captureConversation {
			t.Errorf("re-encoded %q", enc)
		}
	})

	t.Run("half a message per read", func(t *testing.T) {
		msgs, _, err := readAllPMI(iotest.HalfReader(strings.NewReader(captureConversation)))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, msgs); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("several messages in one write", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			// One Write holds all three messages and then a part of a
			// fourth, whose rest comes in a second Write.
			pw.Write([]byte(captureConversation + "L05ad"))
			pw.Write([]byte("eu!"))
			pw.Close()
		}()
		msgs, _, err := readAllPMI(pr)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(append(want, &wire.Line{Text: "adeu!"}), msgs); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("writer to reader", func(t *testing.T) {
		var buf bytes.Buffer
		w := wire.NewWriter(&buf)
		for _, m := range want {
			if err := w.WriteMessage(m); err != nil {
				t.Fatal(err)
			}
		}
		if buf.String() != captureConversation {
			t.Fatalf("wrote %q", buf.String())
		}
	})

	t.Run("clean end", func(t *testing.T) {
		r := wire.NewReader(strings.NewReader(""))
		for i := 0; i < 2; i++ {
			if m, err := r.ReadMessage(); err != io.EOF {
				t.Errorf("read %d of an empty stream: %v, %v; want io.EOF", i, m, err)
			}
		}
		r = wire.NewReader(strings.NewReader("N02u1"))
		if _, err := r.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadMessage(); err != io.EOF {
			t.Errorf("after the last message: %v, want io.EOF", err)
		}
	})
}

// TestReaderTruncated ends a stream inside a message: the error matches
// both ErrTruncated and io.ErrUnexpectedEOF, and its offset is where the
// stream ended.
func TestReaderTruncated(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		good   int // messages read before the error
		field  string
	}{
		{"one byte of header", "N", 0, "header"},
		{"two bytes of header", "N0", 0, "header"},
		{"header only", "N02", 0, "info"},
		{"half the info", "N02u", 0, "info"},
		{"frame claiming more than the data", "L99abc", 0, "info"},
		{"after a message, inside a header", "N02u1L", 1, "header"},
		{"after two messages, inside an info", "N02u1L08Hola u2!L24Be, haig", 2, "info"},
	}
	for _, tt := range tests {
		for how, r := range map[string]io.Reader{
			"whole":      strings.NewReader(tt.stream),
			"1 byte per": iotest.OneByteReader(strings.NewReader(tt.stream)),
		} {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				msgs, _, err := readAllPMI(r)
				if len(msgs) != tt.good {
					t.Errorf("read %d messages before the error, want %d", len(msgs), tt.good)
				}
				if !errors.Is(err, wire.ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("error %v: want ErrTruncated and io.ErrUnexpectedEOF", err)
				}
				want := captureOutcome{wire.ErrTruncated, tt.field, len(tt.stream)}
				if diff := cmp.Diff(want, outcomeOf(err), cmpopts.EquateErrors()); diff != "" {
					t.Errorf("%v\n(-want +got):\n%s", err, diff)
				}
			})
		}
	}
}

// TestReaderBadMessage puts a malformed message after a good one: the
// error's offset counts from the start of the stream.
func TestReaderBadMessage(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   captureOutcome
	}{
		{"unknown type", "N02u1X02ab", captureOutcome{wire.ErrUnknownType, "type", 5}},
		{"non-digit length", "N02u1L0x", captureOutcome{wire.ErrBadField, "length", 7}},
		{"bad byte in a nick", "N02u1N02a\x01", captureOutcome{wire.ErrBadField, "nick", 9}},
		{"empty nick", "N02u1N00", captureOutcome{wire.ErrBadField, "nick", 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, _, err := readAllPMI(strings.NewReader(tt.stream))
			if len(msgs) != 1 {
				t.Errorf("read %d messages before the error, want 1", len(msgs))
			}
			got := outcomeOf(err)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("%v\n(-want +got):\n%s", err, diff)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%v is io.ErrUnexpectedEOF; only a cut stream is", err)
			}
		})
	}
}
