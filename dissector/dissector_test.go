package dissector_test

// The dissector against the wire package. tshark runs mi.lua over captures
// (the reference's, and captures written here: every example and invalid
// input of the spec, PMI streams cut one byte per segment and several
// messages per segment, long datagrams, PLUMI on a port of its own), and
// every message it shows must be what the wire package decodes from the
// same bytes: the type, every field path with its bytes and value, or the
// error class, field and offset of a refusal. A mismatch shows both sides.

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"mi/gen/spec"
	"mi/internal/pcap"
	"mi/internal/testenv"
	"mi/wire"
	"mi/wire/wiregen"
)

// captureDir holds the reference captures, relative to this package.
const captureDir = "../../shared/captures"

// decoders maps a protocol of the spec to the wire package's decoder.
var decoders = map[string]func([]byte) (wire.Message, error){
	"PMI":   wire.DecodePMI,
	"PLUMI": wire.DecodePLUMI,
}

// tshark returns the tshark command, or skips the test when it is not
// installed (fails under CI=true, where it must be).
func tshark(t *testing.T) string {
	t.Helper()
	return testenv.Program(t, "tshark", "the dissector is tested with it", "Debian/Ubuntu: sudo apt-get install tshark; macOS: brew install wireshark")
}

// model is the checked spec the dissector was generated from.
func model(t *testing.T) *spec.Spec {
	t.Helper()
	s, err := spec.Load("../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Protocols {
		if decoders[p.Name] == nil {
			t.Fatalf("protocol %s has no wire decoder in this test's decoders", p.Name)
		}
	}
	return s
}

// ---------------------------------------------------------------------------
// One message, as either side sees it.

// msg is one message: its tag, its length prefix, its fields in tree order
// (a struct, then its parts), or its error.
type msg struct {
	Type   string
	Length string
	Fields []fieldVal
	Err    *refusal
	Expert string // the dissector's expert note of the error
}

// refusal is what a malformed message is refused with.
type refusal struct {
	Class, Field string
	Offset       int
}

func (r *refusal) String() string {
	return fmt.Sprintf("%s in field %q at offset %d", r.Class, r.Field, r.Offset)
}

// fieldVal is a field: its path, the bytes it covers, and, for a value that
// is not text, the value as tshark shows it (Show) and a code's name (Name,
// PATH.name in the tree).
type fieldVal struct {
	Path, Bytes, Show, Name string
}

func (m msg) String() string {
	if m.Err != nil {
		return fmt.Sprintf("type %q, malformed: %s", m.Type, m.Err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "type %q", m.Type)
	if m.Length != "" {
		fmt.Fprintf(&b, " length %s", m.Length)
	}
	for _, f := range m.Fields {
		fmt.Fprintf(&b, ", %s=%q", f.Path, f.Bytes)
		if f.Show != "" {
			fmt.Fprintf(&b, " (%s", f.Show)
			if f.Name != "" {
				fmt.Fprintf(&b, " %s", f.Name)
			}
			b.WriteString(")")
		}
	}
	return b.String()
}

// fromWire is what the wire package decodes from b, one message of p.
func fromWire(s *spec.Spec, p *spec.Protocol, b []byte) msg {
	var m msg
	if len(b) >= p.TagLen {
		m.Type = string(b[:p.TagLen])
	}
	wm, err := decoders[p.Name](b)
	if err != nil {
		var e *wire.Error
		if !errors.As(err, &e) {
			m.Err = &refusal{Class: "not a *wire.Error: " + err.Error()}
			return m
		}
		class := wire.ErrorClass(err)
		if class == "" {
			class = "unknown sentinel " + e.Err.Error()
		}
		m.Err = &refusal{class, e.Field, e.Offset}
		return m
	}
	if p.LengthDigits > 0 {
		m.Length = strconv.Itoa(len(b) - p.TagLen - p.LengthDigits)
	}
	sm := specMessage(s, p, wm.Tag())
	rv := reflect.ValueOf(wm).Elem()
	for _, f := range sm.Fields() {
		if c := sm.CondOf(f); c != nil && rv.FieldByName(spec.Exported(c.Field.Name)).Uint() != uint64(c.Code.Value) {
			continue // the if group is not there
		}
		v := rv.FieldByName(spec.Exported(f.Name))
		m.Fields = append(m.Fields, wireField(f.Name, f.Kind, v))
		for _, part := range spec.FieldsOf(f.Kind.Parts) {
			m.Fields = append(m.Fields, wireField(f.Name+"."+part.Name, part.Kind, v.FieldByName(spec.Exported(part.Name))))
		}
	}
	return m
}

// wireField is a Go value of the wire package in its wire form.
func wireField(path string, k *spec.Kind, v reflect.Value) fieldVal {
	f := fieldVal{Path: path}
	switch k.Base {
	case spec.Codes:
		f.Bytes = strconv.FormatUint(v.Uint(), 10)
		f.Show, f.Name = f.Bytes, fmt.Sprint(v.Interface())
	case spec.Text, spec.DNSName:
		f.Bytes = v.String()
	case spec.Struct:
		f.Bytes = fmt.Sprint(v.Interface())
	default: // numbers, addresses: tshark shows them as Go prints them
		f.Bytes = fmt.Sprint(v.Interface())
		f.Show = f.Bytes
	}
	return f
}

func specMessage(s *spec.Spec, p *spec.Protocol, tag string) *spec.Message {
	for _, m := range s.MessagesOf(p) {
		if m.Tag == tag {
			return m
		}
	}
	return nil
}

// specKind is the kind of a field path of message tag, or nil.
func specKind(s *spec.Spec, p *spec.Protocol, tag, path string) *spec.Kind {
	m := specMessage(s, p, tag)
	if m == nil {
		return nil
	}
	name, part, _ := strings.Cut(path, ".")
	for _, f := range m.Fields() {
		if f.Name != name {
			continue
		}
		if part == "" {
			return f.Kind
		}
		for _, pf := range spec.FieldsOf(f.Kind.Parts) {
			if pf.Name == part {
				return pf.Kind
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// tshark's side: PDML.

type pdmlNode struct {
	Name     string     `xml:"name,attr"`
	ShowName string     `xml:"showname,attr"`
	Show     string     `xml:"show,attr"`
	Value    string     `xml:"value,attr"`
	Fields   []pdmlNode `xml:"field"`
	Protos   []pdmlNode `xml:"proto"`
}

type pdmlPacket struct {
	Protos []pdmlNode `xml:"proto"`
}

// find returns the first node named name below n (n included).
func (n *pdmlNode) find(name string) *pdmlNode {
	if n.Name == name {
		return n
	}
	for i := range n.Fields {
		if f := n.Fields[i].find(name); f != nil {
			return f
		}
	}
	return nil
}

// packet is what tshark shows of one frame.
type packet struct {
	Num      int
	UDP      bool
	Src, Dst string
	Msgs     []msg
	Protos   []string // the protocol of each message
	Unframed int      // stream segments after a header that frames nothing
	Problems []string
}

// fromPDML reads one message of p from its proto node.
func fromPDML(s *spec.Spec, p *spec.Protocol, n *pdmlNode) (msg, []string) {
	var m msg
	var problems []string
	abbr := strings.ToLower(p.Name) + "."
	var class, field, offset string
	var walk func(nodes []pdmlNode)
	walk = func(nodes []pdmlNode) {
		for i := range nodes {
			f := &nodes[i]
			raw, err := hex.DecodeString(f.Value)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: value %q is not hex", f.Name, f.Value))
			}
			path := strings.TrimPrefix(f.Name, abbr)
			switch {
			case f.Name == "_ws.expert":
				if e := f.find("_ws.expert.message"); e != nil {
					m.Expert = e.Show
				}
				if f.find(abbr+"dissector_bug") != nil {
					problems = append(problems, "dissector bug: "+m.Expert)
				}
				continue
			case !strings.HasPrefix(f.Name, abbr):
				problems = append(problems, fmt.Sprintf("field %s (%s) in the %s tree", f.Name, f.ShowName, p.Name))
			case path == "type":
				m.Type = string(raw)
			case path == "length":
				m.Length = f.Show
			case path == "error":
			case path == "error.class":
				class = f.Show
			case path == "error.field":
				field = f.Show
			case path == "error.offset":
				offset = f.Show
			case path == "error.reason":
			case path == "malformed":
			default:
				path, _, _ = strings.Cut(path, "-") // a type suffix
				if code, ok := strings.CutSuffix(path, ".name"); ok && len(m.Fields) > 0 && m.Fields[len(m.Fields)-1].Path == code {
					if k := specKind(s, p, m.Type, code); k != nil && k.Base == spec.Codes {
						m.Fields[len(m.Fields)-1].Name = f.Show // the code's name
						continue
					}
				}
				fv := fieldVal{Path: path, Bytes: string(raw)}
				k := specKind(s, p, m.Type, path)
				switch {
				case k == nil:
					problems = append(problems, fmt.Sprintf("field %s: message %q has no such field", f.Name, m.Type))
				case k.Base != spec.Text && k.Base != spec.DNSName && k.Base != spec.Struct:
					fv.Show = f.Show
				}
				m.Fields = append(m.Fields, fv)
			}
			walk(f.Fields)
		}
	}
	walk(n.Fields)
	if class != "" || field != "" || offset != "" {
		off, err := strconv.Atoi(offset)
		if err != nil {
			problems = append(problems, fmt.Sprintf("error offset %q", offset))
		}
		m.Err = &refusal{class, field, off}
	}
	return m, problems
}

// runTshark dissects a capture with mi.lua and returns its packets.
func runTshark(t *testing.T, s *spec.Spec, file string, args ...string) []packet {
	t.Helper()
	script, err := filepath.Abs("mi.lua")
	if err != nil {
		t.Fatal(err)
	}
	// A home of its own: no personal plugin (an installed mi.lua) or
	// preference of the user's may change what tshark does.
	home := t.TempDir()
	cmd := exec.Command(tshark(t), append([]string{"-n", "-X", "lua_script:" + script, "-r", file, "-T", "pdml"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" && !strings.HasPrefix(l, "Running as user") {
			t.Errorf("tshark on %s says: %s", filepath.Base(file), l)
		}
	}
	if bytes.Contains(stdout.Bytes(), []byte("Lua Error")) {
		t.Errorf("tshark on %s: a Lua error in the output", filepath.Base(file))
	}
	var doc struct {
		Packets []pdmlPacket `xml:"packet"`
	}
	if err := xml.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("tshark on %s: PDML: %v", file, err)
	}
	byAbbr := map[string]*spec.Protocol{}
	for _, p := range s.Protocols {
		byAbbr[strings.ToLower(p.Name)] = p
	}
	var out []packet
	for _, pp := range doc.Packets {
		var pk packet
		var ip, port [2]string
		for i := range pp.Protos {
			n := &pp.Protos[i]
			switch n.Name {
			case "frame":
				if f := n.find("frame.number"); f != nil {
					pk.Num, _ = strconv.Atoi(f.Show)
				}
			case "ip":
				for j, name := range []string{"ip.src", "ip.dst"} {
					if f := n.find(name); f != nil {
						ip[j] = f.Show
					}
				}
			case "udp", "tcp":
				pk.UDP = n.Name == "udp"
				for j, name := range []string{n.Name + ".srcport", n.Name + ".dstport"} {
					if f := n.find(name); f != nil {
						port[j] = f.Show
					}
				}
			}
			if p := byAbbr[n.Name]; p != nil && n.find(n.Name+".unframed") != nil {
				pk.Unframed++
			} else if p != nil {
				m, problems := fromPDML(s, p, n)
				pk.Msgs = append(pk.Msgs, m)
				pk.Protos = append(pk.Protos, p.Name)
				pk.Problems = append(pk.Problems, problems...)
			}
		}
		pk.Src, pk.Dst = ip[0]+":"+port[0], ip[1]+":"+port[1]
		out = append(out, pk)
	}
	return out
}

// ---------------------------------------------------------------------------
// Expectations: what each frame and each stream must show.

// capture is a capture file with what the wire package says of it.
type capture struct {
	name     string
	file     string
	args     []string           // more tshark flags (decode as)
	frames   map[int]*datagram  // UDP frames, by number
	streams  map[string]*stream // TCP streams, by "src -> dst"
	compared map[string]int     // payloads compared, by what they are
}

type datagram struct {
	proto   *spec.Protocol
	payload []byte
	claimed bool // the dissector must show it (its port, or it decodes)
}

type stream struct {
	proto *spec.Protocol
	data  []byte
	fin   bool // the last data segment carries FIN
}

func newCapture(name string) *capture {
	return &capture{name: name, frames: map[int]*datagram{}, streams: map[string]*stream{}, compared: map[string]int{}}
}

func direction(src, dst netip.AddrPort) string { return src.String() + " -> " + dst.String() }

// frameStream cuts a stream protocol's data into messages as the spec frames
// them (tag, then the length digits), stopping where the data ends inside a
// message (unless the stream ends there, fin: then that message is what is
// left) or where a header frames nothing (an unknown tag, a length that is
// not digits: the message is the rest, and lost is set).
func frameStream(p *spec.Protocol, data []byte, fin bool) (msgs [][]byte, lost bool) {
	h := p.TagLen + p.LengthDigits
	for len(data) > 0 {
		n, short := len(data), false
		switch {
		case len(data) < p.TagLen:
			short = true
		case unknownTag(p, data[:p.TagLen]):
			lost = true
		case len(data) < h:
			short = true
		default:
			info, err := strconv.Atoi(string(data[p.TagLen:h]))
			switch {
			case err != nil || strings.ContainsAny(string(data[p.TagLen:h]), "+-"):
				lost = true
			case len(data) < h+info:
				short = true
			default:
				n = h + info
			}
		}
		if short && !fin {
			break
		}
		msgs = append(msgs, data[:n])
		data = data[n:]
	}
	return msgs, lost
}

func unknownTag(p *spec.Protocol, tag []byte) bool {
	_, err := decoders[p.Name](tag)
	return errors.Is(err, wire.ErrUnknownType)
}

// check runs tshark on c and compares every message with the wire package.
func (c *capture) check(t *testing.T, s *spec.Spec) {
	t.Helper()
	pkts := runTshark(t, s, c.file, c.args...)
	got := map[string][]msg{}
	unframed := map[string]bool{} // directions with segments left unframed
	seen := map[int]bool{}
	for _, pk := range pkts {
		for _, pr := range pk.Problems {
			t.Errorf("%s frame %d: %s", c.name, pk.Num, pr)
		}
		if !pk.UDP {
			dir := pk.Src + " -> " + pk.Dst
			got[dir] = append(got[dir], pk.Msgs...)
			if pk.Unframed > 0 {
				unframed[dir] = true
				c.compared["segments left unframed"]++
			}
			continue
		}
		d := c.frames[pk.Num]
		seen[pk.Num] = true
		switch {
		case d == nil:
			if len(pk.Msgs) > 0 {
				t.Errorf("%s frame %d: dissected as %s, but it holds no message: %v", c.name, pk.Num, pk.Protos, pk.Msgs)
			}
		case !d.claimed:
			if len(pk.Msgs) > 0 {
				t.Errorf("%s frame %d: %q, which is no valid %s message, is claimed by the heuristic: %v", c.name, pk.Num, d.payload, d.proto.Name, pk.Msgs)
			}
			c.compared["datagrams left alone"]++
		case len(pk.Msgs) != 1:
			t.Errorf("%s frame %d: %q: %d messages dissected, want 1 (%s)", c.name, pk.Num, d.payload, len(pk.Msgs), fromWire(s, d.proto, d.payload))
		default:
			c.compare(t, fmt.Sprintf("frame %d", pk.Num), d.payload, pk.Msgs[0], fromWire(s, d.proto, d.payload))
			c.compared[d.proto.Name+" datagrams"]++
		}
	}
	for num := range c.frames {
		if !seen[num] {
			t.Errorf("%s: tshark shows no frame %d", c.name, num)
		}
	}
	for dir, st := range c.streams {
		frames, lost := frameStream(st.proto, st.data, st.fin)
		if unframed[dir] && !lost {
			t.Errorf("%s %s: segments left unframed, but every header of the stream frames its message", c.name, dir)
		}
		delete(unframed, dir)
		g := got[dir]
		for i, f := range frames {
			want := fromWire(s, st.proto, f)
			if i >= len(g) {
				t.Errorf("%s %s: message %d %q: not dissected (%d dissected); wire: %s", c.name, dir, i, f, len(g), want)
				continue
			}
			c.compare(t, fmt.Sprintf("%s message %d", dir, i), f, g[i], want)
			c.compared[st.proto.Name+" messages"]++
		}
		for i := len(frames); i < len(g); i++ {
			t.Errorf("%s %s: message %d dissected beyond the %d the stream holds: %s", c.name, dir, i, len(frames), g[i])
		}
		delete(got, dir)
	}
	for dir := range unframed {
		t.Errorf("%s %s: segments left unframed in a stream that holds none", c.name, dir)
	}
	for dir, g := range got {
		if len(g) > 0 {
			t.Errorf("%s %s: %d messages dissected in a stream that holds none: %v", c.name, dir, len(g), g)
		}
	}
}

// compare reports a difference between the dissector's message and the
// wire package's, showing both.
func (c *capture) compare(t *testing.T, where string, in []byte, got, want msg) {
	t.Helper()
	ok := got.Type == want.Type && reflect.DeepEqual(got.Err, want.Err)
	if want.Err == nil && got.Err == nil {
		ok = ok && got.Length == want.Length && reflect.DeepEqual(got.Fields, want.Fields)
	}
	if e := want.Err; e != nil && ok {
		note := fmt.Sprintf("field %q at offset %d: %s:", e.Field, e.Offset, strings.ReplaceAll(e.Class, "_", " "))
		if !strings.Contains(got.Expert, note) {
			t.Errorf("%s %s: %q: expert note %q does not say %q", c.name, where, in, got.Expert, note)
		}
	}
	if !ok {
		t.Errorf("%s %s: %q:\n  dissector: %s\n  wire:      %s", c.name, where, in, got, want)
	}
}

// ---------------------------------------------------------------------------
// The tests.

// TestReferenceCaptures dissects the reference implementation's captures.
func TestReferenceCaptures(t *testing.T) {
	s := model(t)
	tshark(t)
	files, _ := filepath.Glob(filepath.Join(captureDir, "*.pcap"))
	if len(files) == 0 {
		t.Skipf("the reference captures are not present (no *.pcap in %s)", captureDir)
	}
	udp, tcp := protocolsOf(s)
	total := 0
	for _, file := range files {
		c := newCapture(filepath.Base(file))
		c.file = file
		pkts, err := pcap.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			if p.Proto == "udp" && udp != nil {
				m := fromWire(s, udp, p.Payload)
				onPort := int(p.Src.Port()) == udp.Port || int(p.Dst.Port()) == udp.Port
				c.frames[p.Index+1] = &datagram{proto: udp, payload: p.Payload, claimed: onPort || m.Err == nil}
			}
		}
		for _, st := range pcap.TCPStreams(pkts) {
			if tcp != nil {
				c.streams[direction(st.Src, st.Dst)] = &stream{proto: tcp, data: st.Data}
			}
		}
		c.check(t, s)
		t.Logf("%s: %s", c.name, figures(c.compared))
		for _, n := range c.compared {
			total += n
		}
	}
	if total == 0 {
		t.Error("no payload compared in the reference captures")
	}
}

// protocolsOf returns the spec's datagram protocol and its stream protocol
// (a tcp one with a length prefix), either nil if it has none.
func protocolsOf(s *spec.Spec) (udp, tcp *spec.Protocol) {
	for _, p := range s.Protocols {
		switch {
		case p.Transport == "udp" && udp == nil:
			udp = p
		case p.Transport == "tcp" && p.LengthDigits > 0 && tcp == nil:
			tcp = p
		}
	}
	return udp, tcp
}

func figures(m map[string]int) string {
	var parts []string
	known := []string{"PLUMI datagrams", "datagrams left alone", "PMI messages", "segments left unframed"}
	for _, k := range known {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	for k, v := range m {
		if !slices.Contains(known, k) {
			parts = append(parts, fmt.Sprintf("%d %s", v, k))
		}
	}
	if len(parts) == 0 {
		return "nothing compared"
	}
	return strings.Join(parts, ", ") + " compared"
}

var (
	client  = netip.MustParseAddr("10.0.0.1")
	server  = netip.MustParseAddr("10.0.0.2")
	other   = netip.MustParseAddr("10.0.0.3")
	padding = strings.Repeat("x", 1000)
)

// datagrams are the datagram protocol's inputs: every example and invalid
// input of the spec, and datagrams over its limit.
func datagrams(udp *spec.Protocol) [][]byte {
	var out [][]byte
	for _, e := range wiregen.Examples {
		if e.Proto == udp.Name {
			out = append(out, []byte(e.Input))
		}
	}
	for _, in := range wiregen.Invalids {
		if in.Proto == udp.Name {
			out = append(out, []byte(in.Input))
		}
	}
	first := wiregen.Examples[0].Input
	for _, e := range wiregen.Examples {
		if e.Proto == udp.Name {
			first = e.Input
			break
		}
	}
	for _, n := range []int{udp.Max + 1, udp.Max + 50, 1000} {
		out = append(out, []byte(first+padding[:n-len(first)]))
	}
	return out
}

// TestSpecDatagrams sends every datagram input to the protocol's port, where
// the dissector shows each, valid or not, and between two other ports, where
// its heuristic must claim the valid ones only.
func TestSpecDatagrams(t *testing.T) {
	s := model(t)
	tshark(t)
	udp, _ := protocolsOf(s)
	if udp == nil || udp.Port == 0 {
		t.Skip("the spec has no datagram protocol with a port")
	}
	c := newCapture("datagrams.pcap")
	w := newPcap()
	nodePort := netip.AddrPortFrom(server, uint16(udp.Port))
	agent := netip.AddrPortFrom(client, 40000)
	a, b := netip.AddrPortFrom(client, 45678), netip.AddrPortFrom(other, 45679)
	for _, in := range datagrams(udp) {
		c.frames[w.udp(agent, nodePort, in)] = &datagram{proto: udp, payload: in, claimed: true}
		m := fromWire(s, udp, in)
		c.frames[w.udp(a, b, in)] = &datagram{proto: udp, payload: in, claimed: m.Err == nil}
	}
	c.file = w.write(t, c.name)
	c.check(t, s)
	t.Logf("%s: %s", c.name, figures(c.compared))
}

// streamInputs are the stream protocol's examples, starting with an opener
// (a message that starts a sequence), as one stream.
func streamInputs(s *spec.Spec, tcp *spec.Protocol) []byte {
	var out []byte
	for _, sq := range s.Sequences {
		if sq.Proto == tcp && len(sq.Steps) > 0 {
			out = append(out, sq.Steps[0].Example...)
			break
		}
	}
	for _, e := range wiregen.Examples {
		if e.Proto == tcp.Name {
			out = append(out, e.Input...)
		}
	}
	return out
}

// TestSpecStreams sends the stream protocol's examples over TCP to an
// ephemeral port (the heuristic claims the connection by its opener),
// whole in one segment, one byte per segment and in segments of 7 bytes,
// both ways; plays the spec's sequences; and sends every invalid input on a
// connection of its own to a port given to the dissector with "decode as",
// whole and one byte per segment, the stream ending (FIN) right after it.
func TestSpecStreams(t *testing.T) {
	s := model(t)
	tshark(t)
	_, tcp := protocolsOf(s)
	if tcp == nil {
		t.Skip("the spec has no stream protocol")
	}
	c := newCapture("streams.pcap")
	w := newPcap()
	data := streamInputs(s, tcp)
	var back []byte // the examples in reverse order, for the other way
	for i := len(wiregen.Examples) - 1; i >= 0; i-- {
		if e := wiregen.Examples[i]; e.Proto == tcp.Name {
			back = append(back, e.Input...)
		}
	}
	srv := netip.AddrPortFrom(server, 43038)
	port := uint16(51000)
	for _, size := range []int{len(data), 1, 7} {
		cl := netip.AddrPortFrom(client, port)
		port++
		conn := w.tcpOpen(cl, srv)
		conn.send(cl, data, size, false)
		conn.send(srv, back, size, true)
		c.streams[direction(cl, srv)] = &stream{proto: tcp, data: data}
		c.streams[direction(srv, cl)] = &stream{proto: tcp, data: back, fin: true}
	}
	for _, sq := range s.Sequences {
		if sq.Proto != tcp {
			continue
		}
		cl := netip.AddrPortFrom(client, port)
		port++
		conn := w.tcpOpen(cl, srv)
		ends := map[string]netip.AddrPort{}
		for i, st := range sq.Steps {
			if ends[st.From] == (netip.AddrPort{}) {
				ends[st.From] = map[bool]netip.AddrPort{true: cl, false: srv}[i == 0 || st.From == sq.Steps[0].From]
			}
			from := ends[st.From]
			to := srv
			if from == srv {
				to = cl
			}
			conn.send(from, []byte(st.Example), len(st.Example), false)
			dir := direction(from, to)
			if c.streams[dir] == nil {
				c.streams[dir] = &stream{proto: tcp}
			}
			c.streams[dir].data = append(c.streams[dir].data, st.Example...)
		}
	}
	decodeAs := netip.AddrPortFrom(server, 47000)
	for _, in := range wiregen.Invalids {
		if in.Proto != tcp.Name {
			continue
		}
		if in.Input == "" {
			t.Logf("invalid input %q: an empty input is no TCP payload", in.Input)
			continue
		}
		for _, size := range []int{len(in.Input), 1} {
			cl := netip.AddrPortFrom(client, port)
			port++
			conn := w.tcpOpen(cl, decodeAs)
			conn.send(cl, []byte(in.Input), size, true)
			c.streams[direction(cl, decodeAs)] = &stream{proto: tcp, data: []byte(in.Input), fin: true}
		}
	}
	c.args = []string{"-d", fmt.Sprintf("tcp.port==%d,%s", decodeAs.Port(), strings.ToLower(tcp.Name))}
	c.file = w.write(t, c.name)
	c.check(t, s)
	t.Logf("%s: %s", c.name, figures(c.compared))
}
