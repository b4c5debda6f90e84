package spec

import (
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// IRVersion is the version of the IR schema that IR writes and FromIR
// reads. docs/ir.md says what it guarantees; a change that removes, renames
// or changes the meaning of a field increments it, a new field does not.
const IRVersion = 1

// IR is the checked model as data: what a back end written in another
// language, or an editor, reads instead of the spec. Every field is always
// written (empty lists as []), except the *Hex fields, which appear only when
// the string beside them is not valid UTF-8.
//
// Byte strings (example and invalid inputs, literals, deny, allow, step
// examples) are lossless: X holds the bytes when they are valid UTF-8;
// otherwise X holds them for display, each byte that is not part of valid
// UTF-8 replaced by U+FFFD, and XHex ("x_hex") holds every byte in lowercase
// hex, and is the value. Prose (docs, titles, notes, the field an invalid
// input names) is text: bytes that are not valid UTF-8 become U+FFFD.
type IR struct {
	Version   int          `json:"version"`
	File      string       `json:"file"`
	Kinds     []IRKind     `json:"kinds"`
	Protocols []IRProtocol `json:"protocols"`
	Messages  []IRMessage  `json:"messages"`
	Sequences []IRSequence `json:"sequences"`
	Consts    []IRConst    `json:"consts"`
	Vars      []IRVar      `json:"vars"`
	Scenarios []IRScenario `json:"scenarios"`
	Breaking  []IRBreaking `json:"breaking"`

	// FrameOrder and OpOrder are how a decoder reads a message and runs
	// one op of a plan: the steps in order, the first failing one giving
	// the error (docs/ir.md, "Decoding"). ErrorClasses are the classes
	// an error may have.
	FrameOrder   []FrameStep `json:"frame_order"`
	OpOrder      []FrameStep `json:"op_order"`
	ErrorClasses []string    `json:"error_classes"`

	// SpecVersion is the spec's version statement, 0 without one, and
	// SpecVersionPos its place, zero without one.
	SpecVersion    int   `json:"spec_version"`
	SpecVersionPos IRPos `json:"spec_version_pos"`
}

// IRBreaking is an acknowledged breaking change: a breaking statement.
type IRBreaking struct {
	Subject string `json:"subject"`
	Aspect  string `json:"aspect"`
	Against int    `json:"against"`
	Reason  string `json:"reason"`
	Pos     IRPos  `json:"pos"`
}

// IRVar is a variable of the conformance scenarios.
type IRVar struct {
	Name   string `json:"name"`
	Sample string `json:"sample"`
	Doc    string `json:"doc"`
	Pos    IRPos  `json:"pos"`
}

// IRScenario is a conformance scenario, its steps flat (repeat blocks and
// invalid sends expanded).
type IRScenario struct {
	Target string `json:"target"`
	ID     string `json:"id"`
	Class  string `json:"class"`
	Title  string `json:"title"`
	Exec   bool   `json:"exec"`
	// Features are the optional features it needs (needs feature NAME).
	Features []string         `json:"features,omitempty"`
	Pos      IRPos            `json:"pos"`
	Steps    []IRScenarioStep `json:"steps"`
}

// IRScenarioStep is one step: Op is the statement's word; Min and Max are
// milliseconds; Text is a byte string like an example's.
type IRScenarioStep struct {
	Op       string `json:"op"`
	Role     string `json:"role,omitempty"`
	Text     string `json:"text,omitempty"`
	TextHex  string `json:"text_hex,omitempty"`
	Raw      bool   `json:"raw,omitempty"`
	Bytewise bool   `json:"bytewise,omitempty"`
	Min      int    `json:"min_ms"`
	Max      int    `json:"max_ms"`
	// Of, when set, names a duration var bound at run time; the wait or
	// silent step lasts Percent of it (Max is 0).
	Of      string `json:"of,omitempty"`
	Percent int    `json:"percent,omitempty"`
	Pos     IRPos  `json:"pos"`
}

// IRPos is a place in the spec file: line and column, both from 1.
type IRPos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// IRKind is a kind. Allowed, CanHold, Width, MinLen and MaxLen are derived:
// FromIR recomputes them and refuses an IR whose values disagree.
type IRKind struct {
	Name      string           `json:"name"`
	Base      string           `json:"base"`
	GoType    string           `json:"go_type"`
	Doc       string           `json:"doc"`
	Pos       IRPos            `json:"pos"`
	Attrs     map[string]IRPos `json:"attrs"`
	Min       int              `json:"min"`
	Max       int              `json:"max"`
	UTF8      bool             `json:"utf8"`
	NoControl bool             `json:"nocontrol"`
	Deny      string           `json:"deny"`
	DenyHex   string           `json:"deny_hex,omitempty"`
	Allow     string           `json:"allow"`
	AllowHex  string           `json:"allow_hex,omitempty"`
	Allowed   [][2]int         `json:"allowed"`      // text, dnsname: the byte set; [] for other bases
	DenyRunes string           `json:"deny_runes"`   // the denyrunes attribute as written
	Denied    [][2]int         `json:"denied_runes"` // text, dnsname: the code points denyrunes denies; [] for none
	CanHold   [][2]int         `json:"can_hold"`     // every base: the bytes some value may contain
	Width     int              `json:"width"`        // length of every value; 0 if values vary
	MinLen    int              `json:"min_len"`
	MaxLen    int              `json:"max_len"`
	Parts     []IRItem         `json:"parts"`
	Values    []IRCode         `json:"values"`
	Examples  []IRExample      `json:"examples"`
	Invalid   []IRInvalid      `json:"invalid"`
	// Label and Edge (+EdgeHex) are a hostname's longest label and the
	// bytes a label may not start or end with; Words an enum's values.
	Label   int      `json:"label"`
	Edge    string   `json:"edge"`
	EdgeHex string   `json:"edge_hex,omitempty"`
	Words   []IRWord `json:"words"`
	// Rules are the checks of the kind's decoder, in order (derived);
	// Plan is a struct kind's decode plan, [] for other bases (derived).
	Rules []Rule `json:"rules"`
	Plan  []IROp `json:"plan"`
}

// IRWord is one value of an enum kind: bytes, as an example's input.
type IRWord struct {
	Word    string `json:"word"`
	WordHex string `json:"word_hex,omitempty"`
	Pos     IRPos  `json:"pos"`
}

// IROp is one op of a decode plan (derived): a literal to match (Lit, with
// After the field its error names, and Found when the byte that ended the
// field before it is the literal), or a field (Field, its kind Kind, and
// Term, the byte that ends it, 0 when it runs to the end of its span); the
// fields that do not apply hold their zero values.
type IROp struct {
	Lit    string `json:"lit"`
	LitHex string `json:"lit_hex,omitempty"`
	After  string `json:"after"`
	Found  bool   `json:"found"`
	Field  string `json:"field"`
	Kind   string `json:"kind"`
	Term   int    `json:"term"`
}

// IRPlan is how a message is read (derived): Head, then, when If is set,
// Then if If's field holds its code and Else if not. First names the field
// a length prefix's "truncated" error names, Last its "trailing" error;
// LastThen and LastElse the field a "trailing" error after each branch
// names (LastThen after Head when there is no If).
type IRPlan struct {
	Head     []IROp `json:"head"`
	If       IRCond `json:"if"` // Field "" when the message has no if group
	Then     []IROp `json:"then"`
	Else     []IROp `json:"else"`
	First    string `json:"first"`
	Last     string `json:"last"`
	LastThen string `json:"last_then"`
	LastElse string `json:"last_else"`
}

// IRItem is one item of a message or a struct kind: exactly one of Literal,
// Field and If is set. Pos is the item's place: the literal's string, or
// the same place as Field.Pos or If.Pos.
type IRItem struct {
	Literal    string   `json:"literal,omitempty"`
	LiteralHex string   `json:"literal_hex,omitempty"`
	Field      *IRField `json:"field,omitempty"`
	If         *IRCond  `json:"if,omitempty"`
	Pos        IRPos    `json:"pos"`
}

// IRField is a named use of a kind, which it names.
type IRField struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Pos  IRPos  `json:"pos"`
}

// IRCond is a group present exactly when the codes field named Field, an
// earlier field of the same message, holds the code named Code (whose digit
// is Value, derived).
type IRCond struct {
	Field string   `json:"field"`
	Code  string   `json:"code"`
	Value int      `json:"value"`
	Items []IRItem `json:"items"`
	Pos   IRPos    `json:"pos"`
}

// IRCode is one value of a codes kind.
type IRCode struct {
	Value int    `json:"value"`
	Name  string `json:"name"`
	Doc   string `json:"doc"`
	Pos   IRPos  `json:"pos"`
}

// IRExample is a valid input.
type IRExample struct {
	Input    string `json:"input"`
	InputHex string `json:"input_hex,omitempty"`
	Pos      IRPos  `json:"pos"`
}

// IRInvalid is an input every decoder must refuse with error class Error in
// field Field.
type IRInvalid struct {
	Input    string `json:"input"`
	InputHex string `json:"input_hex,omitempty"`
	Error    string `json:"error"`
	Field    string `json:"field"`
	// Offset is where the model's decoder refuses the input (derived):
	// every decoder must refuse it there.
	Offset int   `json:"offset"`
	Pos    IRPos `json:"pos"`
}

// IRProtocol holds the framing facts of a protocol.
type IRProtocol struct {
	Name         string           `json:"name"`
	Doc          string           `json:"doc"`
	Transport    string           `json:"transport"`
	Port         int              `json:"port"` // 0: dynamic
	PortDoc      string           `json:"port_doc"`
	TagLen       int              `json:"tag_len"`
	LengthDigits int              `json:"length_digits"` // 0: no length prefix
	LengthDoc    string           `json:"length_doc"`
	Max          int              `json:"max"`
	Pos          IRPos            `json:"pos"`
	Attrs        map[string]IRPos `json:"attrs"`
}

// IRMessage is a message type. Role and MaxLen are derived; AnswersAll
// are the tags of the requests a reply answers, empty for other messages.
type IRMessage struct {
	Proto      string      `json:"proto"`
	Tag        string      `json:"tag"`
	GoType     string      `json:"go_type"`
	Doc        string      `json:"doc"`
	Pos        IRPos       `json:"pos"`
	Role       string      `json:"role"`        // "request", "reply" or "other"
	Answers    string      `json:"answers"`     // the first of AnswersAll, for readers of the first version 1
	AnswersAll []string    `json:"answers_all"` // every request a reply answers, in spec order
	Signature  string      `json:"signature"`   // the field that signs the bytes before it; "": none
	Summary    string      `json:"summary"`
	Items      []IRItem    `json:"items"`
	MaxLen     int         `json:"max_len"`
	Examples   []IRExample `json:"examples"`
	Invalid    []IRInvalid `json:"invalid"`
	Plan       IRPlan      `json:"plan"`
}

// IRSequence is an exchange of messages of one protocol.
type IRSequence struct {
	Proto string   `json:"proto"`
	Title string   `json:"title"`
	Pos   IRPos    `json:"pos"`
	Steps []IRStep `json:"steps"`
	Notes []string `json:"notes"`
}

// IRStep is one message of a sequence, named by its tag.
type IRStep struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Tag        string `json:"tag"`
	Example    string `json:"example"`
	ExampleHex string `json:"example_hex,omitempty"`
	Pos        IRPos  `json:"pos"`
}

// IRConst is a behaviour constant; Unit "ms" makes it a duration.
type IRConst struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
	Unit  string `json:"unit"`
	Doc   string `json:"doc"`
	Pos   IRPos  `json:"pos"`
}

// roleName is the name of a role as the IR writes it.
func roleName(r Role) string {
	switch r {
	case RoleRequest:
		return "request"
	case RoleReply:
		return "reply"
	}
	return "other"
}

// IR returns the model as data. Encoded with encoding/json it loses nothing
// that FromIR needs, byte strings included.
func (s *Spec) IR() *IR {
	ir := &IR{
		Version:   IRVersion,
		File:      text(s.File),
		Kinds:     []IRKind{},
		Protocols: []IRProtocol{},
		Messages:  []IRMessage{},
		Sequences: []IRSequence{},
		Consts:    []IRConst{},
		Vars:      []IRVar{},
		Scenarios: []IRScenario{},
		Breaking:  []IRBreaking{},

		FrameOrder: FrameOrder, OpOrder: OpOrder, ErrorClasses: ErrNames,

		SpecVersion:    s.Version,
		SpecVersionPos: irPos(s.VersionPos),
	}
	for _, b := range s.Breaking {
		ir.Breaking = append(ir.Breaking, IRBreaking{b.Subject, b.Aspect, b.Against, text(b.Reason), irPos(b.Pos)})
	}
	for _, k := range s.Kinds {
		ik := IRKind{
			Name: k.Name, Base: k.Base, GoType: k.GoType, Doc: text(k.Doc), Pos: irPos(k.Pos), Attrs: irAttrs(k.Attrs),
			Min: k.Min, Max: k.Max, UTF8: k.UTF8, NoControl: k.NoControl,
			Allowed:   byteRanges(func(c byte) bool { return k.Allowed[c] }),
			DenyRunes: k.DenyRunesSrc, Denied: runeRanges(k.DenyRunes),
			CanHold: byteRanges(k.CanHold),
			Width:   k.Impl().Width(k), MinLen: k.MinLen(), MaxLen: k.MaxLen(),
			Parts: irItems(k.Parts), Values: []IRCode{},
			Examples: irExamples(k.Examples), Invalid: irInvalid(k.Invalid, k.invalidAt),
			Rules: k.Rules(), Plan: []IROp{}, Label: k.Label, Words: []IRWord{},
		}
		ik.Edge, ik.EdgeHex = byteString(k.Edge)
		for _, w := range k.Words {
			iw := IRWord{Pos: irPos(w.Pos)}
			iw.Word, iw.WordHex = byteString(w.Text)
			ik.Words = append(ik.Words, iw)
		}
		if k.Base == Struct {
			ik.Plan = irOps(k.PartOps())
		}
		ik.Deny, ik.DenyHex = byteString(k.Deny)
		ik.Allow, ik.AllowHex = byteString(k.AllowSrc)
		for _, c := range k.Values {
			ik.Values = append(ik.Values, IRCode{c.Value, c.Name, text(c.Doc), irPos(c.Pos)})
		}
		ir.Kinds = append(ir.Kinds, ik)
	}
	for _, p := range s.Protocols {
		ir.Protocols = append(ir.Protocols, IRProtocol{
			Name: p.Name, Doc: text(p.Doc), Transport: p.Transport, Port: p.Port, PortDoc: text(p.PortDoc),
			TagLen: p.TagLen, LengthDigits: p.LengthDigits, LengthDoc: text(p.LengthDoc), Max: p.Max,
			Pos: irPos(p.Pos), Attrs: irAttrs(p.Attrs),
		})
	}
	for _, m := range s.Messages {
		im := IRMessage{
			Proto: m.Proto.Name, Tag: m.Tag, GoType: m.GoType, Doc: text(m.Doc), Pos: irPos(m.Pos),
			Role: roleName(s.Role(m)), Items: irItems(m.Items), MaxLen: m.MaxLen(),
			Examples: irExamples(m.Examples), Invalid: irInvalid(m.Invalid, s.invalidAt(m.Proto)),
			Plan: irPlan(m.Plan()),
		}
		im.AnswersAll = []string{}
		for _, o := range m.Answers {
			im.AnswersAll = append(im.AnswersAll, o.Tag)
		}
		if len(m.Answers) > 0 {
			im.Answers = m.Answers[0].Tag
		}
		im.Summary = text(m.SummarySrc)
		if m.Signature != nil {
			im.Signature = m.Signature.Name
		}
		ir.Messages = append(ir.Messages, im)
	}
	for _, sq := range s.Sequences {
		is := IRSequence{Proto: sq.Proto.Name, Title: text(sq.Title), Pos: irPos(sq.Pos), Steps: []IRStep{}, Notes: []string{}}
		for _, st := range sq.Steps {
			ist := IRStep{From: st.From, To: st.To, Tag: st.Msg.Tag, Pos: irPos(st.Pos)}
			ist.Example, ist.ExampleHex = byteString(st.Example)
			is.Steps = append(is.Steps, ist)
		}
		for _, n := range sq.Notes {
			is.Notes = append(is.Notes, text(n))
		}
		ir.Sequences = append(ir.Sequences, is)
	}
	for _, c := range s.Consts {
		ir.Consts = append(ir.Consts, IRConst{c.Name, c.Value, c.Unit, text(c.Doc), irPos(c.Pos)})
	}
	for _, v := range s.Vars {
		ir.Vars = append(ir.Vars, IRVar{v.Name, text(v.Sample), text(v.Doc), irPos(v.Pos)})
	}
	for _, sc := range s.Scenarios {
		is := IRScenario{Target: sc.Target, ID: sc.ID, Class: sc.Class, Title: text(sc.Title), Exec: sc.Exec, Features: sc.Features, Pos: irPos(sc.Pos), Steps: []IRScenarioStep{}}
		for _, st := range sc.Steps {
			ist := IRScenarioStep{Op: st.Op, Role: st.Role, Raw: st.Raw, Bytewise: st.Bytewise, Min: st.Min, Max: st.Max, Of: st.Of, Percent: st.Percent, Pos: irPos(st.Pos)}
			ist.Text, ist.TextHex = byteString(st.Text)
			is.Steps = append(is.Steps, ist)
		}
		ir.Scenarios = append(ir.Scenarios, is)
	}
	return ir
}

func irPos(p Pos) IRPos { return IRPos(p) }

func (p IRPos) pos() Pos { return Pos(p) }

func irAttrs(attrs map[string]Pos) map[string]IRPos {
	out := map[string]IRPos{}
	for a, p := range attrs {
		out[a] = irPos(p)
	}
	return out
}

func irItems(items []Item) []IRItem {
	out := []IRItem{}
	for _, it := range items {
		ii := IRItem{Pos: irPos(it.Pos)}
		switch {
		case it.Field != nil:
			ii.Field = &IRField{it.Field.Name, it.Field.Kind.Name, irPos(it.Field.Pos)}
		case it.Cond != nil:
			ii.If = &IRCond{it.Cond.Field.Name, it.Cond.Code.Name, it.Cond.Code.Value, irItems(it.Cond.Items), irPos(it.Cond.Pos)}
		default:
			ii.Literal, ii.LiteralHex = byteString(it.Literal)
		}
		out = append(out, ii)
	}
	return out
}

func irExamples(xs []Example) []IRExample {
	out := []IRExample{}
	for _, e := range xs {
		ie := IRExample{Pos: irPos(e.Pos)}
		ie.Input, ie.InputHex = byteString(e.Input)
		out = append(out, ie)
	}
	return out
}

func irInvalid(xs []Invalid, at func(string) int) []IRInvalid {
	out := []IRInvalid{}
	for _, in := range xs {
		ii := IRInvalid{Error: in.Err, Field: text(in.Field), Offset: at(in.Input), Pos: irPos(in.Pos)}
		ii.Input, ii.InputHex = byteString(in.Input)
		out = append(out, ii)
	}
	return out
}

// invalidAt is where k's decoder refuses input, -1 if it does not.
func (k *Kind) invalidAt(input string) int {
	if _, err := k.ParseKind(input); err != nil {
		return err.Offset
	}
	return -1
}

// invalidAt is where the decoder of p refuses input, -1 if it does not.
func (s *Spec) invalidAt(p *Protocol) func(string) int {
	return func(input string) int {
		if _, err := s.Decode(p, []byte(input)); err != nil {
			return err.Offset
		}
		return -1
	}
}

func irOps(ops []Op) []IROp {
	out := []IROp{}
	for _, op := range ops {
		if op.Field != nil {
			out = append(out, IROp{Field: op.Field.Name, Kind: op.Field.Kind.Name, Term: int(op.Term)})
			continue
		}
		o := IROp{After: op.After, Found: op.Found}
		o.Lit, o.LitHex = byteString(op.Lit)
		out = append(out, o)
	}
	return out
}

func irPlan(pl Plan) IRPlan {
	ip := IRPlan{Head: irOps(pl.Head), Then: irOps(pl.Then), Else: irOps(pl.Else),
		First: pl.First, Last: pl.Last, LastThen: pl.LastThen, LastElse: pl.LastElse, If: IRCond{Items: []IRItem{}}}
	if c := pl.Cond; c != nil {
		ip.If = IRCond{Field: c.Field.Name, Code: c.Code.Name, Value: c.Code.Value, Items: []IRItem{}, Pos: irPos(c.Pos)}
	}
	return ip
}

// byteRanges lists the bytes in a set as inclusive runs [lo, hi], ascending.
func byteRanges(in func(byte) bool) [][2]int {
	out := [][2]int{}
	for c := 0; c < 256; c++ {
		if !in(byte(c)) {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1] == c-1 {
			out[n-1][1] = c
		} else {
			out = append(out, [2]int{c, c})
		}
	}
	return out
}

// runeRanges lists code point ranges as the IR writes them.
func runeRanges(rs []RuneRange) [][2]int {
	out := [][2]int{}
	for _, r := range rs {
		out = append(out, [2]int{int(r.Lo), int(r.Hi)})
	}
	return out
}

// text is s as JSON keeps it: each byte that is not part of valid UTF-8
// becomes U+FFFD, as encoding/json would do.
func text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// byteString is the lossless form of a byte string: the text, and its hex
// when the text alone would lose bytes.
func byteString(s string) (txt, hx string) {
	if utf8.ValidString(s) {
		return s, ""
	}
	return text(s), hex.EncodeToString([]byte(s))
}

// FromIR rebuilds the model that ir describes, resolving the names it uses
// for references: kinds (declared before use, as in a spec), protocols,
// message tags (answers: an earlier message of the same protocol; steps: a
// message of the sequence's protocol), and the field and code of a
// condition. It then checks the model as Parse does and recomputes the
// derived fields, refusing an IR whose derived values disagree. An IR of
// another version is refused; any other problem is reported in an
// ErrorList, each at the place the IR gives.
func FromIR(ir *IR) (*Spec, error) {
	if ir == nil {
		return nil, errors.New("spec IR: nil")
	}
	if ir.Version != IRVersion {
		return nil, fmt.Errorf("spec IR: version %d; this reader takes version %d", ir.Version, IRVersion)
	}
	b := &irReader{errs: &errs{file: ir.File}, s: &Spec{File: ir.File}, kinds: map[string]*Kind{}, protos: map[string]*Protocol{}}
	for i := range ir.Kinds {
		b.kind(&ir.Kinds[i])
	}
	for i := range ir.Protocols {
		b.protocol(&ir.Protocols[i])
	}
	for i := range ir.Messages {
		b.message(&ir.Messages[i])
	}
	b.answers(ir.Messages)
	for i := range ir.Sequences {
		b.sequence(&ir.Sequences[i])
	}
	for _, ic := range ir.Consts {
		b.name(ic.Pos.pos(), "const name", ic.Name, true)
		b.number(ic.Pos.pos(), "const "+ic.Name, ic.Value)
		if ic.Unit != "" && ic.Unit != "ms" {
			b.errorf(ic.Pos.pos(), "const %s: unit %q; want \"\" or \"ms\"", ic.Name, ic.Unit)
		}
		for _, o := range b.s.Consts {
			if o.Name == ic.Name {
				b.errorf(ic.Pos.pos(), "const %s given twice (first at %s)", ic.Name, b.at(o.Pos))
			}
		}
		b.s.Consts = append(b.s.Consts, &Const{Name: ic.Name, Value: ic.Value, Unit: ic.Unit, Doc: ic.Doc, Pos: ic.Pos.pos()})
	}
	for _, iv := range ir.Vars {
		b.s.Vars = append(b.s.Vars, &Var{Name: iv.Name, Sample: iv.Sample, Doc: iv.Doc, Pos: iv.Pos.pos()})
	}
	for _, is := range ir.Scenarios {
		b.scenario(is)
	}
	if ir.SpecVersionPos != (IRPos{}) {
		b.number(ir.SpecVersionPos.pos(), "spec_version", ir.SpecVersion)
		b.setVersion(b.s, ir.SpecVersion, ir.SpecVersionPos.pos())
	} else if ir.SpecVersion != 0 {
		b.errorf(Pos{}, "spec_version %d without its statement's spec_version_pos", ir.SpecVersion)
	}
	for _, ib := range ir.Breaking {
		b.breaking(ib)
	}
	if len(b.list) == 0 {
		b.s.check(b.errs, nil)
	}
	if len(b.list) == 0 {
		b.derived(ir)
	}
	if len(b.list) > 0 {
		return nil, b.list.sorted()
	}
	return b.s, nil
}

// irReader builds a Spec from an IR.
type irReader struct {
	*errs
	s      *Spec
	kinds  map[string]*Kind
	protos map[string]*Protocol
}

func (b *irReader) kind(ik *IRKind) {
	k := &Kind{
		Name: ik.Name, Base: ik.Base, GoType: ik.GoType, Doc: ik.Doc, Pos: ik.Pos.pos(), Attrs: posMap(ik.Attrs),
		Min: ik.Min, Max: ik.Max, UTF8: ik.UTF8, NoControl: ik.NoControl, DenyRunesSrc: ik.DenyRunes,
	}
	owner := "kind " + k.Name
	b.name(k.Pos, "kind name", k.Name, k.Base == Codes)
	switch {
	case k.Base == Struct:
		b.name(k.Pos, owner+": Go type", k.GoType, true)
	case k.Base == Codes && k.GoType != k.Name:
		b.errorf(k.Pos, "%s: go_type %q; a codes kind's is its name", owner, k.GoType)
	case k.Base != Codes && k.GoType != "":
		b.errorf(k.Pos, "%s: go_type %q given to base %s (only struct and codes kinds have one)", owner, k.GoType, k.Base)
	}
	b.number(k.Pos, owner+": min", k.Min)
	b.number(k.Pos, owner+": max", k.Max)
	k.Deny = b.bytes(ik.Deny, ik.DenyHex, k.Pos, owner+": deny")
	k.AllowSrc = b.bytes(ik.Allow, ik.AllowHex, k.Pos, owner+": allow")
	k.Label = ik.Label
	k.Edge = b.bytes(ik.Edge, ik.EdgeHex, k.Pos, owner+": edge")
	for _, iw := range ik.Words {
		k.Words = append(k.Words, Word{b.bytes(iw.Word, iw.WordHex, iw.Pos.pos(), owner+": word"), iw.Pos.pos()})
	}
	k.Examples = b.examples(ik.Examples, owner)
	k.Invalid = b.invalid(ik.Invalid, owner)
	for _, ic := range ik.Values {
		b.name(ic.Pos.pos(), owner+": code name", ic.Name, true)
		if ic.Value < 0 || ic.Value > 9 {
			b.errorf(ic.Pos.pos(), "%s: code %s: value %d is not one digit 0..9", owner, ic.Name, ic.Value)
		}
		for _, o := range k.Values {
			if o.Name == ic.Name || o.Value == ic.Value {
				b.errorf(ic.Pos.pos(), "%s: code %d %s repeats code %d %s (at %s)", owner, ic.Value, ic.Name, o.Value, o.Name, b.at(o.Pos))
			}
		}
		k.Values = append(k.Values, &Code{Value: ic.Value, Name: ic.Name, Doc: ic.Doc, Pos: ic.Pos.pos()})
	}
	if len(ik.Values) > 0 && k.Base != Codes {
		b.errorf(k.Pos, "%s: values given to base %s (only codes kinds have values)", owner, k.Base)
	}
	// Parts may name only kinds declared before this one, so kinds cannot
	// refer to themselves.
	k.Parts = b.items(ik.Parts, owner, nil, false)
	if len(ik.Parts) > 0 && k.Base != Struct {
		b.errorf(k.Pos, "%s: parts given to base %s (only struct kinds have parts)", owner, k.Base)
	}
	ok := true
	if baseOf(k.Base) == nil {
		b.errorf(k.Pos, "%s: unknown base %q", owner, k.Base)
		ok = false
	}
	if first := b.kinds[k.Name]; first != nil {
		b.errorf(k.Pos, "kind %s given twice (first at %s)", k.Name, b.at(first.Pos))
		ok = false
	}
	if ok {
		b.kinds[k.Name] = k
		b.s.Kinds = append(b.s.Kinds, k)
	}
}

func (b *irReader) protocol(ip *IRProtocol) {
	p := &Protocol{
		Name: ip.Name, Doc: ip.Doc, Transport: ip.Transport, Port: ip.Port, PortDoc: ip.PortDoc,
		TagLen: ip.TagLen, LengthDigits: ip.LengthDigits, LengthDoc: ip.LengthDoc, Max: ip.Max,
		Pos: ip.Pos.pos(), Attrs: posMap(ip.Attrs),
	}
	owner := "protocol " + p.Name
	b.name(p.Pos, "protocol name", p.Name, true)
	if p.Transport != "tcp" && p.Transport != "udp" {
		b.errorf(p.Pos, "%s: transport must be tcp or udp, not %q", owner, p.Transport)
	}
	if p.Port < 0 || p.Port > 65535 {
		b.errorf(p.Pos, "%s: port %d is not 1..65535 (or 0, dynamic)", owner, p.Port)
	}
	b.number(p.Pos, owner+": tag_len", p.TagLen)
	b.number(p.Pos, owner+": length_digits", p.LengthDigits)
	b.number(p.Pos, owner+": max", p.Max)
	if first := b.protos[p.Name]; first != nil {
		b.errorf(p.Pos, "protocol %s given twice (first at %s)", p.Name, b.at(first.Pos))
		return
	}
	b.protos[p.Name] = p
	b.s.Protocols = append(b.s.Protocols, p)
}

func (b *irReader) message(im *IRMessage) {
	m := &Message{Tag: im.Tag, GoType: im.GoType, Doc: im.Doc, Pos: im.Pos.pos()}
	owner := "message " + im.Proto + " " + im.Tag
	b.word(m.Pos, owner+": tag", m.Tag)
	b.name(m.Pos, owner+": Go type", m.GoType, true)
	m.Proto = b.protos[im.Proto]
	if m.Proto == nil {
		b.errorf(m.Pos, "%s: unknown protocol %q", owner, im.Proto)
		return
	}
	for _, o := range b.s.Messages {
		switch {
		case o.Proto == m.Proto && o.Tag == m.Tag:
			b.errorf(m.Pos, "%s given twice (first at %s)", owner, b.at(o.Pos))
			return
		case o.GoType == m.GoType:
			b.errorf(m.Pos, "%s: Go type %s given twice (first at %s)", owner, m.GoType, b.at(o.Pos))
			return
		}
	}
	m.Items = b.items(im.Items, owner, m, true)
	m.Examples = b.examples(im.Examples, owner)
	m.Invalid = b.invalid(im.Invalid, owner)
	if im.Summary != "" {
		var msg string
		if m.Summary, msg = ParseSummary(m, im.Summary); msg != "" {
			b.errorf(m.Pos, "%s: summary: %s", owner, msg)
		}
		m.SummarySrc = im.Summary
	}
	if im.Signature != "" {
		f := fieldNamed(m, im.Signature)
		if msg := signatureRule(m, f); msg != "" {
			b.errorf(m.Pos, "%s: signature %s %s", owner, im.Signature, msg)
		}
		m.Signature = f
	}
	b.s.Messages = append(b.s.Messages, m)
}

// answers points each reply at the requests it answers, once every
// message is read: answers_all, whose first is answers (an IR that gives
// only answers, as version 1 first did, answers that one).
func (b *irReader) answers(ims []IRMessage) {
	for _, im := range ims {
		m := b.s.message(b.protos[im.Proto], im.Tag)
		tags := im.AnswersAll
		if len(tags) == 0 && im.Answers != "" {
			tags = []string{im.Answers}
		}
		if m == nil || len(tags) == 0 {
			continue
		}
		if im.Answers != tags[0] {
			b.errorf(m.Pos, "message %s: answers %q, but answers_all starts with %q", m.Tag, im.Answers, tags[0])
		}
		for _, tag := range tags {
			o := b.s.message(m.Proto, tag)
			switch {
			case o == nil || o == m:
				b.errorf(m.Pos, "message %s: answers %q: no other %s message of that tag", m.Tag, tag, m.Proto.Name)
			case slices.Contains(m.Answers, o):
				b.errorf(m.Pos, "message %s: answers %s twice", m.Tag, tag)
			default:
				m.Answers = append(m.Answers, o)
			}
		}
	}
}

// items rebuilds a list of items. m is the message they belong to (nil for
// a struct's parts); an if group is allowed only when cond is set, as the
// last item, and its field must be a codes field of m before it.
func (b *irReader) items(iis []IRItem, owner string, m *Message, cond bool) []Item {
	var out []Item
	for i, ii := range iis {
		pos := ii.Pos.pos()
		n := 0
		for _, set := range []bool{ii.Literal != "" || ii.LiteralHex != "", ii.Field != nil, ii.If != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			b.errorf(pos, "%s: item %d has %d of literal, field and if; want exactly one", owner, i+1, n)
			continue
		}
		switch {
		case ii.Field != nil:
			f := &Field{Name: ii.Field.Name, Pos: ii.Field.Pos.pos()}
			b.name(f.Pos, owner+": field name", f.Name, false)
			f.Kind = b.kinds[ii.Field.Kind]
			if f.Kind == nil {
				b.errorf(f.Pos, "%s: field %s: unknown kind %q (a kind is declared before use)", owner, f.Name, ii.Field.Kind)
				continue
			}
			siblings := fieldsOf(out)
			if m != nil {
				siblings = append(fieldsOf(m.Items), siblings...)
			}
			for _, g := range siblings {
				if g.Name == f.Name {
					b.errorf(f.Pos, "%s: field %s appears twice (first at %s)", owner, f.Name, b.at(g.Pos))
				}
			}
			out = append(out, Item{Field: f, Pos: pos})
		case ii.If != nil:
			if !cond || i != len(iis)-1 {
				b.errorf(pos, "%s: an if group may only be the last item of a message", owner)
				continue
			}
			c := &Cond{Pos: ii.If.Pos.pos()}
			for _, g := range fieldsOf(out) {
				if g.Name == ii.If.Field {
					c.Field = g
				}
			}
			if c.Field == nil || c.Field.Kind.Base != Codes {
				b.errorf(c.Pos, "%s: if: %q is not a codes field before the group", owner, ii.If.Field)
				continue
			}
			for _, v := range c.Field.Kind.Values {
				if v.Name == ii.If.Code {
					c.Code = v
				}
			}
			if c.Code == nil {
				b.errorf(c.Pos, "%s: if: %s has no code %q", owner, c.Field.Kind.Name, ii.If.Code)
				continue
			}
			// The group's fields must not repeat the message's: m.Items
			// does not hold out yet, so check against both.
			tmp := &Message{Items: out}
			c.Items = b.items(ii.If.Items, owner, tmp, false)
			out = append(out, Item{Cond: c, Pos: pos})
		default:
			out = append(out, Item{Literal: b.bytes(ii.Literal, ii.LiteralHex, pos, owner+": literal"), Pos: pos})
		}
	}
	return out
}

func (b *irReader) examples(xs []IRExample, owner string) []Example {
	var out []Example
	for _, e := range xs {
		out = append(out, Example{Input: b.bytes(e.Input, e.InputHex, e.Pos.pos(), owner+": example"), Pos: e.Pos.pos()})
	}
	return out
}

func (b *irReader) invalid(xs []IRInvalid, owner string) []Invalid {
	var out []Invalid
	for _, in := range xs {
		if !contains(ErrNames, in.Error) {
			b.errorf(in.Pos.pos(), "%s: invalid: unknown error %q (want one of %s)", owner, in.Error, strings.Join(ErrNames, ", "))
		}
		out = append(out, Invalid{Input: b.bytes(in.Input, in.InputHex, in.Pos.pos(), owner+": invalid"), Err: in.Error, Field: in.Field, Pos: in.Pos.pos()})
	}
	return out
}

func (b *irReader) sequence(is *IRSequence) {
	sq := &Sequence{Title: is.Title, Pos: is.Pos.pos()}
	owner := fmt.Sprintf("sequence %q", is.Title)
	sq.Proto = b.protos[is.Proto]
	if sq.Proto == nil {
		b.errorf(sq.Pos, "%s: unknown protocol %q", owner, is.Proto)
		return
	}
	for _, ist := range is.Steps {
		st := Step{From: ist.From, To: ist.To, Pos: ist.Pos.pos()}
		b.word(st.Pos, owner+": step from", st.From)
		b.word(st.Pos, owner+": step to", st.To)
		st.Example = b.bytes(ist.Example, ist.ExampleHex, st.Pos, owner+": step")
		for _, m := range b.s.MessagesOf(sq.Proto) {
			if m.Tag == ist.Tag {
				st.Msg = m
			}
		}
		if st.Msg == nil {
			b.errorf(st.Pos, "%s: step: no %s message %q", owner, sq.Proto.Name, ist.Tag)
			continue
		}
		sq.Steps = append(sq.Steps, st)
	}
	if len(is.Notes) > 0 {
		sq.Notes = append([]string(nil), is.Notes...)
	}
	b.s.Sequences = append(b.s.Sequences, sq)
}

// scenario rebuilds a scenario, refusing words the parser would not read;
// the checker does the rest.
func (b *irReader) scenario(is IRScenario) {
	sc := &Scenario{Target: is.Target, ID: is.ID, Class: is.Class, Title: is.Title, Exec: is.Exec, Features: is.Features, Pos: is.Pos.pos()}
	owner := "scenario " + is.ID
	if !contains(Targets, sc.Target) || !contains(Classes, sc.Class) || !validID(sc.ID) {
		b.errorf(sc.Pos, "%s: target %q, class %q or id not as a spec would write them", owner, sc.Target, sc.Class)
	}
	for _, ist := range is.Steps {
		st := ScenarioStep{Op: ist.Op, Role: ist.Role, Raw: ist.Raw, Bytewise: ist.Bytewise, Min: ist.Min, Max: ist.Max, Of: ist.Of, Percent: ist.Percent, Pos: ist.Pos.pos()}
		if _, ok := stepShape[st.Op]; !ok {
			b.errorf(st.Pos, "%s: unknown step %q", owner, st.Op)
		}
		st.Text = b.bytes(ist.Text, ist.TextHex, st.Pos, owner+": step")
		sc.Steps = append(sc.Steps, st)
	}
	b.s.Scenarios = append(b.s.Scenarios, sc)
}

// breaking rebuilds a breaking statement, refusing what the parser would;
// the checker looks for its subject.
func (b *irReader) breaking(ib IRBreaking) {
	b.addBreaking(b.s, &Breaking{Subject: ib.Subject, Aspect: ib.Aspect, Against: ib.Against, Reason: ib.Reason, Pos: ib.Pos.pos()}, ib.Pos.pos())
}

// bytes decodes a lossless byte string: hx when given, after checking that
// txt is its display form.
func (b *irReader) bytes(txt, hx string, pos Pos, what string) string {
	if hx == "" {
		return txt
	}
	raw, err := hex.DecodeString(hx)
	if err != nil {
		b.errorf(pos, "%s: bad hex %q: %v", what, clip(hx), err)
		return txt
	}
	if text(string(raw)) != txt {
		b.errorf(pos, "%s: the text %q and the hex %s disagree", what, clip(txt), clip(hx))
	}
	return string(raw)
}

// derived refuses an IR whose derived fields disagree with the model that
// its source fields give.
func (b *irReader) derived(ir *IR) {
	for i, k := range b.s.Kinds {
		ik := &ir.Kinds[i]
		for _, d := range []struct {
			name string
			ok   bool
		}{
			{"allowed", slices.Equal(ik.Allowed, byteRanges(func(c byte) bool { return k.Allowed[c] }))},
			{"denied_runes", slices.Equal(ik.Denied, runeRanges(k.DenyRunes))},
			{"can_hold", slices.Equal(ik.CanHold, byteRanges(k.CanHold))},
			{"width", ik.Width == k.Impl().Width(k)},
			{"min_len", ik.MinLen == k.MinLen()},
			{"max_len", ik.MaxLen == k.MaxLen()},
			{"rules", reflect.DeepEqual(ik.Rules, k.Rules())},
			{"plan", k.Base != Struct && len(ik.Plan) == 0 || k.Base == Struct && reflect.DeepEqual(ik.Plan, irOps(k.PartOps()))},
			{"invalid offsets", offsetsAgree(ik.Invalid, k.invalidAt)},
		} {
			if !d.ok {
				b.errorf(k.Pos, "kind %s: %s disagrees with the kind's other fields (it is derived from them)", k.Name, d.name)
			}
		}
	}
	for i, m := range b.s.Messages {
		im := &ir.Messages[i]
		if im.MaxLen != m.MaxLen() {
			b.errorf(m.Pos, "message %s: max_len %d, but its items give %d", m.Tag, im.MaxLen, m.MaxLen())
		}
		if !reflect.DeepEqual(im.Plan, irPlan(m.Plan())) {
			b.errorf(m.Pos, "message %s: plan disagrees with the message's items (it is derived from them)", m.Tag)
		}
		if !offsetsAgree(im.Invalid, b.s.invalidAt(m.Proto)) {
			b.errorf(m.Pos, "message %s: an invalid input's offset disagrees with where the model refuses it", m.Tag)
		}
		if r := roleName(b.s.Role(m)); im.Role != r {
			b.errorf(m.Pos, "message %s: role %q, but answers make it %q", m.Tag, im.Role, r)
		}
		if n := len(m.Items); n > 0 && m.Items[n-1].Cond != nil {
			c := m.Items[n-1].Cond
			if v := im.Items[len(im.Items)-1].If.Value; v != c.Code.Value {
				b.errorf(c.Pos, "message %s: if: value %d, but code %s is %d", m.Tag, v, c.Code.Name, c.Code.Value)
			}
		}
	}
}

// offsetsAgree reports whether each invalid input's offset is where at
// refuses it.
func offsetsAgree(xs []IRInvalid, at func(string) int) bool {
	for _, x := range xs {
		in := x.Input
		if x.InputHex != "" {
			raw, _ := hex.DecodeString(x.InputHex)
			in = string(raw)
		}
		if at(in) != x.Offset {
			return false
		}
	}
	return true
}

// name checks that w is a name as the parser reads one: letters, digits
// and _, starting with a letter (a capital when it names a Go type).
func (b *irReader) name(pos Pos, what, w string, exported bool) {
	ok := w != ""
	for j := 0; j < len(w); j++ {
		c := w[j]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		ok = ok && (letter || j > 0 && (isDigit(c) || c == '_'))
	}
	switch {
	case !ok:
		b.errorf(pos, "%s %q is not a name: letters, digits and _, starting with a letter", what, w)
	case exported && !(w[0] >= 'A' && w[0] <= 'Z'):
		b.errorf(pos, "%s %q must start with a capital letter", what, w)
	}
}

// word checks that w could be an unquoted word of a spec: printable ASCII
// without space, quote, # or braces.
func (b *irReader) word(pos Pos, what, w string) {
	ok := w != ""
	for j := 0; j < len(w); j++ {
		ok = ok && w[j] > ' ' && w[j] < 0x7f && !strings.ContainsRune("#{}\"", rune(w[j]))
	}
	if !ok {
		b.errorf(pos, "%s %q is not a word: printable ASCII without space, #, braces or quotes", what, w)
	}
}

// number checks that n is a number a spec could hold.
func (b *irReader) number(pos Pos, what string, n int) {
	if n < 0 || n > maxNumber {
		b.errorf(pos, "%s: %d is not a number from 0 to %d", what, n, maxNumber)
	}
}

func posMap(attrs map[string]IRPos) map[string]Pos {
	out := map[string]Pos{}
	for a, p := range attrs {
		out[a] = p.pos()
	}
	return out
}
