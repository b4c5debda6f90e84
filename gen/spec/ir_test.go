package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// roundTrip marshals s's IR to JSON, reads it back strictly and rebuilds
// the model.
func roundTrip(t *testing.T, s *Spec) (*Spec, []byte) {
	t.Helper()
	data, err := json.MarshalIndent(s.IR(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var ir IR
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ir); err != nil {
		t.Fatal(err)
	}
	got, err := FromIR(&ir)
	if err != nil {
		t.Fatalf("FromIR: %v", err)
	}
	return got, data
}

// sameModel reports every difference between two models, element by
// element, and checks that the rebuilt one shares pointers where the
// parser's does (back ends compare them).
func sameModel(t *testing.T, want, got *Spec) {
	t.Helper()
	if d := cmp.Diff(want.File, got.File); d != "" {
		t.Errorf("file (-want +got):\n%s", d)
	}
	for _, list := range []struct {
		what      string
		want, got any
		n, m      int
	}{
		{"kinds", want.Kinds, got.Kinds, len(want.Kinds), len(got.Kinds)},
		{"protocols", want.Protocols, got.Protocols, len(want.Protocols), len(got.Protocols)},
		{"messages", want.Messages, got.Messages, len(want.Messages), len(got.Messages)},
		{"sequences", want.Sequences, got.Sequences, len(want.Sequences), len(got.Sequences)},
		{"consts", want.Consts, got.Consts, len(want.Consts), len(got.Consts)},
	} {
		if list.n != list.m {
			t.Errorf("%s: %d, want %d", list.what, list.m, list.n)
		}
	}
	if t.Failed() {
		return
	}
	for i, k := range want.Kinds {
		if d := cmp.Diff(k, got.Kinds[i]); d != "" {
			t.Errorf("kind %s (-want +got):\n%s", k.Name, d)
		}
		for j, c := range k.Values {
			if d := cmp.Diff(c, got.Kinds[i].Values[j]); d != "" {
				t.Errorf("code %s.%s (-want +got):\n%s", k.Name, c.Name, d)
			}
		}
	}
	for i, p := range want.Protocols {
		if d := cmp.Diff(p, got.Protocols[i]); d != "" {
			t.Errorf("protocol %s (-want +got):\n%s", p.Name, d)
		}
	}
	for i, m := range want.Messages {
		if d := cmp.Diff(m, got.Messages[i]); d != "" {
			t.Errorf("message %s (-want +got):\n%s", m.Tag, d)
		}
		if d := cmp.Diff(m.Examples, got.Messages[i].Examples); d != "" {
			t.Errorf("message %s examples (-want +got):\n%s", m.Tag, d)
		}
		if got, want := got.Role(got.Messages[i]), want.Role(m); got != want {
			t.Errorf("message %s: role %v, want %v", m.Tag, got, want)
		}
	}
	for i, sq := range want.Sequences {
		if d := cmp.Diff(sq, got.Sequences[i]); d != "" {
			t.Errorf("sequence %q (-want +got):\n%s", sq.Title, d)
		}
	}
	for i, c := range want.Consts {
		if d := cmp.Diff(c, got.Consts[i]); d != "" {
			t.Errorf("const %s (-want +got):\n%s", c.Name, d)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("spec (-want +got):\n%s", d)
	}
	sharedPointers(t, got)
}

// sharedPointers checks that references point into the model's own lists.
func sharedPointers(t *testing.T, s *Spec) {
	t.Helper()
	kinds := map[*Kind]bool{}
	codes := map[*Code]bool{}
	for _, k := range s.Kinds {
		kinds[k] = true
		for _, c := range k.Values {
			codes[c] = true
		}
	}
	msgs := map[*Message]bool{}
	for _, m := range s.Messages {
		msgs[m] = true
	}
	var walk func(owner string, items []Item, fields []*Field)
	walk = func(owner string, items []Item, fields []*Field) {
		for _, it := range items {
			switch {
			case it.Field != nil && !kinds[it.Field.Kind]:
				t.Errorf("%s: field %s: kind is not one of the spec's", owner, it.Field.Name)
			case it.Cond != nil:
				found := false
				for _, f := range fields {
					found = found || f == it.Cond.Field
				}
				if !found {
					t.Errorf("%s: if: field is not the message's own", owner)
				}
				if !codes[it.Cond.Code] {
					t.Errorf("%s: if: code is not one of the kind's", owner)
				}
				walk(owner, it.Cond.Items, fields)
			}
		}
	}
	for _, k := range s.Kinds {
		walk("kind "+k.Name, k.Parts, nil)
	}
	for _, m := range s.Messages {
		walk("message "+m.Tag, m.Items, m.Fields())
		for _, o := range m.Answers {
			if !msgs[o] {
				t.Errorf("message %s: answers a message that is not the spec's", m.Tag)
			}
		}
	}
	for _, sq := range s.Sequences {
		for _, st := range sq.Steps {
			if !msgs[st.Msg] {
				t.Errorf("sequence %q: step %s is not one of the spec's messages", sq.Title, st.Msg.Tag)
			}
		}
	}
}

// TestIRRoundTripRealSpec: the project's spec survives JSON and FromIR
// whole, and the IR says what the model derives.
func TestIRRoundTripRealSpec(t *testing.T) {
	if _, err := os.Stat("../../spec/mi.spec"); err != nil {
		t.Skip("spec not found")
	}
	s, err := Load("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	got, data := roundTrip(t, s)
	sameModel(t, s, got)

	ir := s.IR()
	for i, k := range s.Kinds {
		ik := ir.Kinds[i]
		if ik.MinLen != k.MinLen() || ik.MaxLen != k.MaxLen() {
			t.Errorf("kind %s: IR lengths %d..%d, model %d..%d", k.Name, ik.MinLen, ik.MaxLen, k.MinLen(), k.MaxLen())
		}
		for c := 0; c < 256; c++ {
			if in := inRanges(ik.Allowed, c); in != k.Allowed[c] {
				t.Errorf("kind %s: byte %#x allowed %v in the IR, %v in the model", k.Name, c, in, k.Allowed[c])
			}
			if in := inRanges(ik.CanHold, c); in != k.CanHold(byte(c)) {
				t.Errorf("kind %s: byte %#x can_hold %v in the IR, %v in the model", k.Name, c, in, k.CanHold(byte(c)))
			}
		}
	}
	for i, m := range s.Messages {
		if want := roleName(s.Role(m)); ir.Messages[i].Role != want {
			t.Errorf("message %s: role %q, want %q", m.Tag, ir.Messages[i].Role, want)
		}
	}
	// Spot checks a consumer relies on.
	for _, want := range []string{`"role": "reply"`, `"answers": "PL"`, `"port": 3344`, `"allowed": [`, `"if": {`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("IR JSON has no %s", want)
		}
	}
	if bytes.Contains(data, []byte("null")) {
		t.Errorf("IR JSON has a null: every list is written as []")
	}
}

func inRanges(rs [][2]int, c int) bool {
	for _, r := range rs {
		if r[0] <= c && c <= r[1] {
			return true
		}
	}
	return false
}

// bytesSpec holds bytes that are not UTF-8 in every place a byte string
// can: deny, allow, literals, examples, invalid inputs, a step.
const bytesSpec = `
kind line text "any bytes but line breaks" {
    min 0
    max 20
    deny "\r\n"
    example "\xff\xfe"
}
kind word text "lower case and high bytes but ð" {
    min 1
    max 5
    allow "a-z \x80-\xfe"
    deny "\xf0"
}
protocol T "a test protocol, línia" {
    transport tcp
    port dynamic "learned"
    tag 1
    length 2 "the info length"
    max 40
}
message T L Line "a line" {
    field text line
    example "L02\xff\xfe"
    example "L00"
    invalid "L03\xff\xfe\n" bad_field "text"
}
message T W Words "two words around a high byte" {
    field a word
    literal "\xff"
    field b word
    example "W04a\xffb\x80"
    invalid "W04a\xffb\xf0" bad_field "b"
}
sequence T "talk" {
    step x y L "L02\xff\xfe"
    step y x W "W04a\xffb\x80"
    note "a note"
}
`

// TestIRBreaking: breaking statements travel in the IR.
// TestIRRoundTripScratchSpec: the scratch spec, which has a kind of every
// base (an enum's words, a hostname's label and edge, a dnsname),
// survives the IR whole.
func TestIRRoundTripScratchSpec(t *testing.T) {
	mi, err := os.ReadFile("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	extra, err := os.ReadFile("../testdata/extra.spec")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse("scratch.spec", string(mi)+string(extra))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range Bases() {
		if !slices.ContainsFunc(s.Kinds, func(k *Kind) bool { return k.Base == b }) {
			t.Errorf("no kind of base %s in the scratch spec", b)
		}
	}
	got, _ := roundTrip(t, s)
	sameModel(t, s, got)
}

func TestIRBreaking(t *testing.T) {
	s, err := Parse("ok.spec", okSpec+"version 3\nbreaking \"kind word\" max against 2 \"shorter words\"\nbreaking \"message P CD\" removed against 0 \"no one sent it\"\n")
	if err != nil {
		t.Fatal(err)
	}
	got, data := roundTrip(t, s)
	sameModel(t, s, got)
	if len(got.Breaking) != 2 || !strings.Contains(string(data), `"subject": "message P CD"`) ||
		got.Version != 3 || got.Breaking[0].Against != 2 || !strings.Contains(string(data), `"spec_version": 3`) {
		t.Errorf("breaking statements: %+v\n%s", got.Breaking, data)
	}
}

// TestIRKeepsBytes: strings that are not UTF-8 come back byte for byte.
func TestIRKeepsBytes(t *testing.T) {
	s, err := Parse("bytes.spec", bytesSpec)
	if err != nil {
		t.Fatal(err)
	}
	got, data := roundTrip(t, s)
	sameModel(t, s, got)
	for _, want := range []string{"L03\xff\xfe\n", "L02\xff\xfe", "W04a\xffb\x80"} {
		found := false
		for _, m := range got.Messages {
			for _, e := range m.Examples {
				found = found || e.Input == want
			}
			for _, in := range m.Invalid {
				found = found || in.Input == want
			}
		}
		if !found {
			t.Errorf("input %q lost", want)
		}
	}
	if l := got.Messages[1].Items[1].Literal; l != "\xff" {
		t.Errorf("literal %q, want \"\\xff\"", l)
	}
	if k := got.Kind("word"); k.AllowSrc != "a-z \x80-\xfe" || k.Deny != "\xf0" {
		t.Errorf("word: allow %q deny %q", k.AllowSrc, k.Deny)
	}
	for _, want := range []string{
		"\"input\": \"L03\ufffd\ufffd\\n\",", `"input_hex": "4c3033fffe0a"`,
		`"literal_hex": "ff"`, `"example_hex": "4c3032fffe"`, `"deny_hex": "f0"`,
		`"input": "L00",`, `"doc": "a test protocol, línia"`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("IR JSON has no %s", want)
		}
	}
	if strings.Contains(string(data), `"input_hex": "4c3030"`) {
		t.Errorf("a UTF-8 input has a hex form too")
	}
}

// TestIRProseIsText: prose is text, as documented: a byte that is not part
// TestProseIsText: docs must be one line of UTF-8, so that the IR, Go
// comments and doc tables carry them exactly; anything else is refused.
func TestProseIsText(t *testing.T) {
	for _, bad := range []string{`"a line, \xf0 not UTF-8"`, `"two\nlines"`, `"a \u0085 next line"`, `"a \u202e turned line"`, `"an \u2067 isolate"`} {
		_, err := Parse("prose.spec", strings.Replace(bytesSpec, `"a line"`, bad, 1))
		if err == nil || !strings.Contains(err.Error(), "prose.spec:") {
			t.Errorf("doc %s: error %v, want it refused at its line", bad, err)
		}
	}
}

// TestFromIRRefuses: an IR FromIR cannot trust is refused, naming why.
func TestFromIRRefuses(t *testing.T) {
	s, err := Load("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	kind := func(ir *IR, name string) *IRKind {
		for i := range ir.Kinds {
			if ir.Kinds[i].Name == name {
				return &ir.Kinds[i]
			}
		}
		t.Fatalf("no kind %s", name)
		return nil
	}
	msg := func(ir *IR, tag string) *IRMessage {
		for i := range ir.Messages {
			if ir.Messages[i].Tag == tag {
				return &ir.Messages[i]
			}
		}
		t.Fatalf("no message %s", tag)
		return nil
	}
	for _, tc := range []struct {
		name string
		edit func(*IR)
		want string
	}{
		{"version", func(ir *IR) { ir.Version = 2 }, "version 2; this reader takes version 1"},
		{"dangling kind", func(ir *IR) { msg(ir, "N").Items[0].Field.Kind = "nickname" }, `field nick: unknown kind "nickname"`},
		{"kind used before declared", func(ir *IR) { ir.Kinds[0], ir.Kinds[2] = ir.Kinds[2], ir.Kinds[0] }, `kind addr: field user: unknown kind "user"`},
		{"dangling protocol", func(ir *IR) { msg(ir, "N").Proto = "PXMI" }, `unknown protocol "PXMI"`},
		{"dangling answers", func(ir *IR) { m := msg(ir, "RR"); m.Answers, m.AnswersAll = "PQ", []string{"PQ"} }, `message RR: answers "PQ": no other PLUMI message of that tag`},
		{"answers not the first", func(ir *IR) { msg(ir, "RR").Answers = "PD" }, `message RR: answers "PD", but answers_all starts with "PR"`},
		{"answers twice", func(ir *IR) { m := msg(ir, "RR"); m.AnswersAll = []string{"PR", "PR"} }, `message RR: answers PR twice`},
		{"dangling step", func(ir *IR) { ir.Sequences[0].Steps[0].Tag = "Q" }, `step: no PMI message "Q"`},
		{"dangling code", func(ir *IR) { msg(ir, "RL").Items[4].If.Code = "Lost" }, `LocateCode has no code "Lost"`},
		{"dangling cond field", func(ir *IR) { msg(ir, "RL").Items[4].If.Field = "from" }, `"from" is not a codes field`},
		{"unknown base", func(ir *IR) { ir.Kinds[0].Base = "string" }, `kind user: unknown base "string"`},
		{"duplicate kind", func(ir *IR) { ir.Kinds[1].Name = "user" }, "kind user given twice"},
		{"bad hex", func(ir *IR) { e := &msg(ir, "N").Examples[0]; e.InputHex = "zz" }, "bad hex"},
		{"hex and text disagree", func(ir *IR) { e := &msg(ir, "N").Examples[0]; e.InputHex = "4e303275ff" }, "disagree"},
		{"derived allowed", func(ir *IR) { ir.Kinds[0].Allowed = [][2]int{{0, 255}} }, "kind user: allowed disagrees"},
		{"derived max_len", func(ir *IR) { msg(ir, "N").MaxLen = 7 }, "message N: max_len 7, but its items give 102"},
		{"derived role", func(ir *IR) { msg(ir, "PR").Role = "other" }, `role "other", but answers make it "request"`},
		{"derived invalid offset", func(ir *IR) { msg(ir, "N").Invalid[3].Offset = 0 }, "message N: an invalid input's offset disagrees"},
		{"derived kind invalid offset", func(ir *IR) { kind(ir, "domain").Invalid[0].Offset = 99 }, "kind domain: invalid offsets disagrees"},
		{"derived rules", func(ir *IR) { kind(ir, "nick").Rules[0].N = 0 }, "kind nick: rules disagrees"},
		{"derived struct plan", func(ir *IR) { kind(ir, "addr").Plan[0].Term = 0 }, "kind addr: plan disagrees"},
		{"derived message plan", func(ir *IR) { msg(ir, "RL").Plan.If.Value = 1 }, "message RL: plan disagrees"},
		{"check", func(ir *IR) { ir.Protocols[1].Max = 99 }, "message RL: can be 100 bytes, over the PLUMI limit of 99"},
		{"bad field name", func(ir *IR) { msg(ir, "PL").Items[0].Field.Name = "from addr" }, `field name "from addr" is not a name`},
		{"bad Go type", func(ir *IR) { msg(ir, "PL").GoType = "locate" }, `Go type "locate" must start with a capital letter`},
		{"bad tag", func(ir *IR) { msg(ir, "N").Tag = "{" }, `tag "{" is not a word`},
		{"bad transport", func(ir *IR) { ir.Protocols[0].Transport = "sctp" }, `transport must be tcp or udp, not "sctp"`},
		{"negative max", func(ir *IR) { ir.Kinds[0].Max = -1 }, "kind user: max: -1 is not a number"},
		{"go_type on text", func(ir *IR) { ir.Kinds[0].GoType = "User" }, `go_type "User" given to base text`},
		{"code digit", func(ir *IR) { kind(ir, "LocateCode").Values[0].Value = 10 }, "value 10 is not one digit"},
		{"empty item", func(ir *IR) { msg(ir, "PL").Items[1] = IRItem{} }, "item 2 has 0 of literal, field and if"},
		{"breaking of nothing", func(ir *IR) { ir.Breaking = append(ir.Breaking, IRBreaking{"kind nope", "max", 0, "why", IRPos{1, 1}}) }, `breaking "kind nope" max: the spec has no kind nope`},
		{"breaking aspect", func(ir *IR) {
			ir.Breaking = append(ir.Breaking, IRBreaking{"kind user", "port", 0, "why", IRPos{1, 1}})
		}, `breaking "kind user" port: a kind's aspects are`},
		{"breaking of the spec's version", func(ir *IR) {
			ir.Breaking = append(ir.Breaking, IRBreaking{"kind user", "max", ir.SpecVersion, "why", IRPos{1, 1}})
		}, fmt.Sprintf(`breaking "kind user" max against %[1]d: the spec is version %[1]d`, s.Version)},
		{"negative spec version", func(ir *IR) { ir.SpecVersion = -1 }, "spec_version: -1 is not a number"},
		{"spec version without its place", func(ir *IR) { ir.SpecVersionPos = IRPos{} }, fmt.Sprintf("spec_version %d without its statement's spec_version_pos", s.Version)},
	} {
		ir := s.IR()
		tc.edit(ir)
		_, err := FromIR(ir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := FromIR(s.IR()); err != nil {
		t.Errorf("unedited IR: %v", err)
	}
}
