package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"mi/internal/pcap"
	"mi/wire"
)

var pcapCommand = &command{
	name:     "pcap",
	synopsis: "[-json] FILE...",
	summary:  "list the MI messages of capture files (pcap or pcapng)",
	help: `
Prints one line per message: capture time (UTC), source -> destination,
protocol, type and fields, or the decode error.

UDP datagrams to or from port 3344 are PLUMI: one that does not decode is
listed with its error. On other UDP ports only datagrams that decode as
PLUMI are listed (as Wireshark's MI dissector does), so DNS and the rest of
a capture's UDP traffic are skipped, whatever their port. TCP payloads are
PMI streams, put together per direction and framed by the message lengths,
so a message split over segments, or several in one segment, are still one
line each. PMI has no port of its own, so a TCP connection is PMI if the
first message one of its sides sent decodes as PMI, or the capture ends
inside it after a PMI type and length digits (as Wireshark's MI dissector
decides): other TCP traffic (HTTP, SSH, Redis, ...) is skipped. In a PMI
connection a message that does not decode is listed with its error.

Files are pcapng (tshark, dumpcap, Wireshark) or classic pcap (tcpdump -w),
with IPv4 and IPv6. Exits 0 once every file was read, decode errors
included (they are in the listing); 1 if a file could not be read or is not
a whole capture (the messages before the damage are listed).

Examples:
  lumictl pcap capture.pcap
  lumictl pcap -json a.pcapng b.pcap
  tcpdump -i lo -w lumi.pcap 'udp port 3344'    # a capture of a node's traffic to list
  tshark -i any -w demo.pcapng                  # everything, DNS included: lumictl picks out MI`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		asJSON := fs.Bool("json", false, "print one JSON object per line")
		return func(e *env, args []string) error {
			if len(args) == 0 {
				return usagef("missing FILE")
			}
			return pcapMain(e, args, *asJSON)
		}
	},
}

// capMessage is one MI message, or one MI payload that failed, of a capture.
type capMessage struct {
	File     string
	Time     time.Time
	Index    int // record that completed the message, for ordering
	Src, Dst netip.AddrPort
	Proto    string // "PLUMI" or "PMI"
	Msg      wire.Message
	Err      error
	Payload  []byte // on an error: the datagram, or the rest of the stream
}

// jsonMessage is the -json form of a capMessage.
type jsonMessage struct {
	File     string          `json:"file"`
	Time     string          `json:"time"`
	Src      string          `json:"src"`
	Dst      string          `json:"dst"`
	Protocol string          `json:"protocol"`
	Type     string          `json:"type,omitempty"`
	Fields   json.RawMessage `json:"fields,omitempty"`
	Error    string          `json:"error,omitempty"`
	Payload  *string         `json:"payload,omitempty"`
}

const (
	textTime = "2006-01-02T15:04:05.000Z07:00"
	dnsPort  = 53
)

// errCut marks a datagram whose end the capture did not keep.
var errCut = errors.New("the capture kept only the start of this datagram: snap length too small")

// pcapMain lists the files' messages. A payload that fails to decode is a
// line of the listing; only a file that cannot be read fails the command.
func pcapMain(e *env, files []string, asJSON bool) error {
	failed := false
	for i, file := range files {
		msgs, err := readCapture(file)
		if !asJSON && len(files) > 1 {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprintf(e.stdout, "==> %s <==\n", file)
		}
		for _, m := range msgs {
			if err := printMessage(e.stdout, m, asJSON); err != nil {
				return err
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "lumictl pcap: %v\n", err)
			failed = true
		}
	}
	if failed {
		return errFailed
	}
	return nil
}

// readCapture decodes the MI messages of a capture file, in time order. On
// a read error it returns the messages of the packets read before it.
func readCapture(file string) ([]capMessage, error) {
	pkts, err := pcap.ReadFile(file)
	if len(pkts) == 0 {
		return nil, err
	}
	return captureMessages(file, pkts), err
}

// captureMessages decodes UDP payloads as PLUMI datagrams and TCP streams as
// PMI messages. A datagram is PLUMI if it is to or from PLUMI's port, or
// else if it decodes as PLUMI: the rule of the Wireshark dissector's
// heuristic, so other protocols on other ports (DNS on a port of its own,
// mDNS, ...) are not listed as failed PLUMI. PMI has no port: a TCP
// connection is PMI if either of its streams opens as PMI (opensPMI), so
// other TCP traffic is not listed either.
func captureMessages(file string, pkts []pcap.Packet) []capMessage {
	var out []capMessage
	var tcp []pcap.Packet
	for _, p := range pkts {
		if p.Src.Port() == dnsPort || p.Dst.Port() == dnsPort {
			continue
		}
		if p.Proto == "tcp" {
			tcp = append(tcp, p)
			continue
		}
		onPort := p.Src.Port() == wire.PLUMIPort || p.Dst.Port() == wire.PLUMIPort
		m := capMessage{File: file, Time: p.Time, Index: p.Index, Src: p.Src, Dst: p.Dst, Proto: protoPLUMI}
		m.Msg, m.Err = wire.DecodePLUMI(p.Payload)
		if m.Err != nil && !onPort {
			continue // not PLUMI
		}
		if p.Cut { // what decodes is not what was sent
			if m.Err == nil {
				m.Err = errCut
			} else {
				m.Err = fmt.Errorf("%w (%v)", m.Err, errCut)
			}
		}
		if m.Err != nil {
			m.Msg, m.Payload = nil, p.Payload
		}
		out = append(out, m)
	}
	streams := pcap.TCPStreams(tcp)
	pmi := map[connection]bool{}
	for _, s := range streams {
		if opensPMI(s.Data) {
			pmi[connectionOf(s)] = true
		}
	}
	for _, s := range streams {
		if pmi[connectionOf(s)] {
			out = append(out, streamMessages(file, s)...)
		}
	}
	// Stable: messages of one segment keep their order.
	slices.SortStableFunc(out, func(a, b capMessage) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Index, b.Index))
	})
	return out
}

// connection is a TCP connection, its two ends in a fixed order, whichever
// of them sent a stream.
type connection [2]netip.AddrPort

func connectionOf(s *pcap.Stream) connection {
	if s.Src.Compare(s.Dst) > 0 {
		return connection{s.Dst, s.Src}
	}
	return connection{s.Src, s.Dst}
}

// opensPMI reports whether a TCP stream that starts with data is PMI, by the
// rule of the Wireshark dissector's heuristic: its first message decodes as
// a PMI message, or the stream ends inside it (the capture stopped) after
// bytes that can start one: a PMI type tag, then length digits. An HTTP
// request, an SSH banner, a Redis command, or an inline one that starts
// with a letter that is a PMI tag ("LLEN k"), is none of these. The
// dissector also wants a message that opens a conversation (N); any PMI
// message opens a stream here, so that a capture started in the middle of
// a chat still lists it.
func opensPMI(data []byte) bool {
	_, err := wire.NewReader(bytes.NewReader(data)).ReadMessage()
	if err == nil {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) && wire.IsPMIHeader(data)
}

// streamMessages reads one direction of a TCP connection as PMI messages.
// A message is dated by the segment that completed it. After an error the
// stream cannot be framed any further, so it ends there.
func streamMessages(file string, s *pcap.Stream) []capMessage {
	var out []capMessage
	r := wire.NewReader(bytes.NewReader(s.Data))
	off := 0
	for {
		m, err := r.ReadMessage()
		if err == io.EOF {
			return out
		}
		cm := capMessage{File: file, Src: s.Src, Dst: s.Dst, Proto: protoPMI, Msg: m, Err: err}
		if err != nil {
			if s.Gaps > 0 {
				cm.Err = fmt.Errorf("%w (the capture missed %d bytes of this stream)", err, s.Gaps)
			}
			cm.Msg = nil
			cm.Payload = s.Data[off:]
			seg := s.At(off)
			cm.Time, cm.Index = seg.Time, seg.Index
			return append(out, cm)
		}
		off += m.Len()
		seg := s.At(off - 1)
		cm.Time, cm.Index = seg.Time, seg.Index
		out = append(out, cm)
	}
}

// maxShown bounds the payload bytes an error line shows.
const maxShown = 120

func printMessage(w io.Writer, m capMessage, asJSON bool) error {
	var fields json.RawMessage
	if m.Msg != nil {
		var err error
		if fields, err = messageFields(m.Msg); err != nil {
			m.Err = err
		}
	}
	payload := m.Payload
	if len(payload) > maxShown {
		payload = payload[:maxShown]
	}
	if asJSON {
		j := jsonMessage{File: m.File, Time: m.Time.UTC().Format(time.RFC3339Nano),
			Src: m.Src.String(), Dst: m.Dst.String(), Protocol: m.Proto}
		if m.Err != nil {
			s := string(payload)
			j.Error, j.Payload = m.Err.Error(), &s
			var we *wire.Error
			if errors.As(m.Err, &we) {
				j.Type = we.Tag
			}
		} else {
			j.Type, j.Fields = m.Msg.Tag(), fields
		}
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	prefix := fmt.Sprintf("%s %s -> %s %s", m.Time.UTC().Format(textTime), m.Src, m.Dst, m.Proto)
	var err error
	if m.Err != nil {
		_, err = fmt.Fprintf(w, "%s error: %v; payload %q\n", prefix, m.Err, payload)
	} else {
		_, err = fmt.Fprintf(w, "%s %s %s\n", prefix, m.Msg.Tag(), compactFields(fields))
	}
	return err
}
