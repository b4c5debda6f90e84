package spec

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Load reads and checks a spec file.
func Load(path string) (*Spec, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, string(src))
}

// Parse reads and checks a spec; every error starts with file:line.
func Parse(file, src string) (*Spec, error) {
	lines, err := lexLines(file, src)
	if err != nil {
		return nil, err
	}
	p := &parser{file: file, lines: lines, s: &Spec{File: file}}
	if err := p.top(); err != nil {
		return nil, err
	}
	if err := p.s.check(); err != nil {
		return nil, err
	}
	return p.s, nil
}

type parser struct {
	file  string
	lines [][]token
	pos   int
	s     *Spec
}

// specError is an error at a line of the spec.
type specError struct {
	file string
	line int
	msg  string
}

func (e *specError) Error() string { return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg) }

func (p *parser) errf(line int, format string, args ...any) error {
	return &specError{p.file, line, fmt.Sprintf(format, args...)}
}

// stmt is one statement: its words, its line, and whether it opens a block.
type stmt struct {
	words []token
	line  int
	block bool
}

func (st stmt) word(i int) string {
	if i < len(st.words) {
		return st.words[i].text
	}
	return ""
}

// next returns the next statement, or ok=false at a closing brace or EOF.
func (p *parser) next() (st stmt, ok bool) {
	if p.pos >= len(p.lines) {
		return stmt{}, false
	}
	toks := p.lines[p.pos]
	if len(toks) == 1 && toks[0].text == "}" && !toks[0].quoted {
		return stmt{line: toks[0].line}, false
	}
	p.pos++
	st = stmt{words: toks, line: toks[0].line}
	if last := toks[len(toks)-1]; last.text == "{" && !last.quoted {
		st.words, st.block = toks[:len(toks)-1], true
	}
	return st, true
}

// body calls f for each statement of the block just opened, then eats "}".
func (p *parser) body(open int, f func(stmt) error) error {
	for {
		st, ok := p.next()
		if !ok {
			if p.pos >= len(p.lines) {
				return p.errf(open, "block is never closed")
			}
			p.pos++ // the "}"
			return nil
		}
		if err := f(st); err != nil {
			return err
		}
	}
}

// args checks a statement's shape: n words, with the words at the listed
// positions quoted.
func (p *parser) args(st stmt, n int, quotedAt ...int) error {
	if len(st.words) != n {
		return p.errf(st.line, "%q takes %d words, has %d", st.word(0), n, len(st.words))
	}
	for i, w := range st.words {
		want := false
		for _, q := range quotedAt {
			want = want || q == i
		}
		if w.quoted != want {
			if want {
				return p.errf(st.line, "%q: word %d must be a quoted string", st.word(0), i+1)
			}
			return p.errf(st.line, "%q: word %d must not be quoted", st.word(0), i+1)
		}
	}
	return nil
}

func (p *parser) int(st stmt, i int) (int, error) {
	n, err := strconv.Atoi(st.word(i))
	if err != nil || n < 0 {
		return 0, p.errf(st.line, "%q: %q is not a number", st.word(0), st.word(i))
	}
	return n, nil
}

func (p *parser) top() error {
	for {
		st, ok := p.next()
		if !ok {
			if p.pos < len(p.lines) {
				return p.errf(st.line, "unexpected }")
			}
			return nil
		}
		var err error
		switch st.word(0) {
		case "kind":
			err = p.kind(st)
		case "protocol":
			err = p.protocol(st)
		case "codes":
			err = p.codes(st)
		case "message":
			err = p.message(st)
		case "sequence":
			err = p.sequence(st)
		case "const":
			err = p.constant(st)
		default:
			err = p.errf(st.line, "unknown statement %q (want kind, protocol, codes, message, sequence or const)", st.word(0))
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) noBlock(st stmt) error {
	if st.block {
		return p.errf(st.line, "%q takes no block", st.word(0))
	}
	return nil
}

// kind: kind NAME BASE [GOTYPE] "doc" [{ attributes }]
func (p *parser) kind(st stmt) error {
	k := &Kind{Name: st.word(1), Base: st.word(2), Line: st.line}
	n := 4
	if k.Base == Struct {
		n, k.GoType = 5, st.word(3)
	}
	if err := p.args(st, n, n-1); err != nil {
		return err
	}
	k.Doc = st.word(n - 1)
	switch k.Base {
	case Text, DNSName, Struct, IPv4, Uint16:
	default:
		return p.errf(st.line, "kind %s: unknown base %q (want text, dnsname, struct, ipv4 or uint16)", k.Name, k.Base)
	}
	if p.s.Kind(k.Name) != nil {
		return p.errf(st.line, "kind %s declared twice", k.Name)
	}
	p.s.Kinds = append(p.s.Kinds, k)
	if !st.block {
		return nil
	}
	return p.body(st.line, func(a stmt) error { return p.kindAttr(k, a) })
}

func (p *parser) kindAttr(k *Kind, a stmt) error {
	if err := p.noBlock(a); err != nil {
		return err
	}
	var err error
	switch a.word(0) {
	case "min", "max":
		if err = p.args(a, 2); err != nil {
			return err
		}
		v, err := p.int(a, 1)
		if a.word(0) == "min" {
			k.Min = v
		} else {
			k.Max = v
		}
		return err
	case "example":
		k.Examples = append(k.Examples, a.word(1))
		return p.args(a, 2, 1)
	case "utf8":
		k.UTF8 = true
		return p.args(a, 1)
	case "nocontrol":
		k.NoControl = true
		return p.args(a, 1)
	case "deny":
		err = p.args(a, 2, 1)
		k.Deny += a.word(1)
	case "allow":
		err = p.args(a, 2, 1)
		k.AllowSrc += a.word(1)
	case "field", "literal":
		if k.Base != Struct {
			return p.errf(a.line, "kind %s: %q only in a struct kind", k.Name, a.word(0))
		}
		it, err := p.item(a, nil)
		if err != nil {
			return err
		}
		k.Parts = append(k.Parts, it)
		return nil
	default:
		return p.errf(a.line, "kind %s: unknown attribute %q", k.Name, a.word(0))
	}
	return err
}

// item reads a field or literal of a message or struct.
func (p *parser) item(a stmt, m *Message) (Item, error) {
	switch a.word(0) {
	case "literal":
		if err := p.args(a, 2, 1); err != nil {
			return Item{}, err
		}
		if a.word(1) == "" {
			return Item{}, p.errf(a.line, "empty literal")
		}
		return Item{Literal: a.word(1)}, nil
	case "field":
		if err := p.args(a, 3); err != nil {
			return Item{}, err
		}
		k := p.s.Kind(a.word(2))
		if k == nil {
			return Item{}, p.errf(a.line, "field %s: unknown kind %q", a.word(1), a.word(2))
		}
		f := &Field{Name: a.word(1), Kind: k, Line: a.line}
		if m != nil {
			for _, g := range m.Fields() {
				if g.Name == f.Name {
					return Item{}, p.errf(a.line, "field %s appears twice in message %s", f.Name, m.Tag)
				}
			}
		}
		return Item{Field: f}, nil
	}
	return Item{}, p.errf(a.line, "unknown statement %q", a.word(0))
}

// protocol: protocol NAME "doc" { transport, port, tag, length, max }
func (p *parser) protocol(st stmt) error {
	if err := p.args(st, 3, 2); err != nil {
		return err
	}
	if !st.block {
		return p.errf(st.line, "protocol %s needs a block", st.word(1))
	}
	pr := &Protocol{Name: st.word(1), Doc: st.word(2), Line: st.line}
	for _, o := range p.s.Protocols {
		if o.Name == pr.Name {
			return p.errf(st.line, "protocol %s declared twice", pr.Name)
		}
	}
	p.s.Protocols = append(p.s.Protocols, pr)
	return p.body(st.line, func(a stmt) error {
		if err := p.noBlock(a); err != nil {
			return err
		}
		var err error
		switch a.word(0) {
		case "transport":
			err = p.args(a, 2)
			pr.Transport = a.word(1)
			if pr.Transport != "tcp" && pr.Transport != "udp" {
				return p.errf(a.line, "transport must be tcp or udp")
			}
		case "port":
			if err = p.args(a, 3, 2); err != nil {
				return err
			}
			pr.PortDoc = a.word(2)
			if a.word(1) != "dynamic" {
				pr.Port, err = p.int(a, 1)
			}
		case "tag":
			if err = p.args(a, 2); err == nil {
				pr.TagLen, err = p.int(a, 1)
			}
		case "length":
			if err = p.args(a, 3, 2); err == nil {
				pr.LengthDoc = a.word(2)
				pr.LengthDigits, err = p.int(a, 1)
			}
		case "max":
			if err = p.args(a, 2); err == nil {
				pr.Max, err = p.int(a, 1)
			}
		default:
			err = p.errf(a.line, "protocol %s: unknown attribute %q", pr.Name, a.word(0))
		}
		return err
	})
}

// codes: codes GOTYPE "doc" { VALUE NAME "doc" ... }
func (p *parser) codes(st stmt) error {
	if err := p.args(st, 3, 2); err != nil {
		return err
	}
	if !st.block {
		return p.errf(st.line, "codes %s needs a block", st.word(1))
	}
	k := &Kind{Name: st.word(1), Base: Codes, GoType: st.word(1), Doc: st.word(2), Line: st.line}
	if p.s.Kind(k.Name) != nil {
		return p.errf(st.line, "kind %s declared twice", k.Name)
	}
	p.s.Kinds = append(p.s.Kinds, k)
	return p.body(st.line, func(a stmt) error {
		if err := p.noBlock(a); err != nil {
			return err
		}
		if err := p.args(a, 3, 2); err != nil {
			return err
		}
		v, err := p.int(a, 0)
		if err != nil || v > 9 {
			return p.errf(a.line, "codes %s: value %q is not one digit", k.Name, a.word(0))
		}
		for _, c := range k.Values {
			if c.Value == v || c.Name == a.word(1) {
				return p.errf(a.line, "codes %s: %s repeats value or name", k.Name, a.word(1))
			}
		}
		k.Values = append(k.Values, &Code{Value: v, Name: a.word(1), Doc: a.word(2)})
		return nil
	})
}

func (p *parser) proto(st stmt, name string) (*Protocol, error) {
	for _, pr := range p.s.Protocols {
		if pr.Name == name {
			return pr, nil
		}
	}
	return nil, p.errf(st.line, "unknown protocol %q (declare it before use)", name)
}

// message: message PROTO TAG GOTYPE "doc" { items, examples, invalids }
func (p *parser) message(st stmt) error {
	if err := p.args(st, 5, 4); err != nil {
		return err
	}
	pr, err := p.proto(st, st.word(1))
	if err != nil {
		return err
	}
	m := &Message{Proto: pr, Tag: st.word(2), GoType: st.word(3), Doc: st.word(4), Line: st.line}
	for _, o := range p.s.Messages {
		if (o.Proto == pr && o.Tag == m.Tag) || o.GoType == m.GoType {
			return p.errf(st.line, "message %s %s declared twice", m.Tag, m.GoType)
		}
	}
	p.s.Messages = append(p.s.Messages, m)
	if !st.block {
		return p.errf(st.line, "message %s needs a block", m.Tag)
	}
	return p.body(st.line, func(a stmt) error { return p.messageStmt(m, a) })
}

func (p *parser) messageStmt(m *Message, a stmt) error {
	switch a.word(0) {
	case "example":
		if err := p.args(a, 2, 1); err != nil {
			return err
		}
		m.Examples = append(m.Examples, a.word(1))
		return nil
	case "invalid":
		if err := p.args(a, 4, 1, 3); err != nil {
			return err
		}
		if !strings.Contains(" "+strings.Join(ErrNames, " ")+" ", " "+a.word(2)+" ") {
			return p.errf(a.line, "invalid: unknown error %q (want one of %s)", a.word(2), strings.Join(ErrNames, ", "))
		}
		m.Invalid = append(m.Invalid, Invalid{Input: a.word(1), Err: a.word(2), Field: a.word(3), Line: a.line})
		return nil
	case "if":
		return p.cond(m, a)
	case "answers":
		if err := p.args(a, 2); err != nil {
			return err
		}
		for _, o := range p.s.MessagesOf(m.Proto) {
			if o.Tag == a.word(1) && o != m {
				m.Answers = o
				return nil
			}
		}
		return p.errf(a.line, "answers: no %s request %q declared before %s", m.Proto.Name, a.word(1), m.Tag)
	}
	if err := p.noBlock(a); err != nil {
		return err
	}
	it, err := p.item(a, m)
	if err == nil {
		m.Items = append(m.Items, it)
	}
	return err
}

// cond: if FIELD CODE { items }
func (p *parser) cond(m *Message, a stmt) error {
	if err := p.args(a, 3); err != nil {
		return err
	}
	if !a.block {
		return p.errf(a.line, "if needs a block")
	}
	var f *Field
	for _, g := range m.Fields() {
		if g.Name == a.word(1) {
			f = g
		}
	}
	if f == nil || f.Kind.Base != Codes {
		return p.errf(a.line, "if: %q is not a codes field declared earlier in %s", a.word(1), m.Tag)
	}
	c := &Cond{Field: f}
	for _, v := range f.Kind.Values {
		if v.Name == a.word(2) {
			c.Code = v
		}
	}
	if c.Code == nil {
		return p.errf(a.line, "if: %s has no code %q", f.Kind.Name, a.word(2))
	}
	m.Items = append(m.Items, Item{Cond: c})
	return p.body(a.line, func(b stmt) error {
		if err := p.noBlock(b); err != nil {
			return err
		}
		it, err := p.item(b, m)
		if err == nil {
			c.Items = append(c.Items, it)
		}
		return err
	})
}

// sequence: sequence PROTO "title" { step FROM TO TAG "example"; note "text" }
func (p *parser) sequence(st stmt) error {
	if err := p.args(st, 3, 2); err != nil {
		return err
	}
	pr, err := p.proto(st, st.word(1))
	if err != nil {
		return err
	}
	sq := &Sequence{Proto: pr, Title: st.word(2)}
	p.s.Sequences = append(p.s.Sequences, sq)
	return p.body(st.line, func(a stmt) error {
		switch a.word(0) {
		case "note":
			if err := p.args(a, 2, 1); err != nil {
				return err
			}
			sq.Notes = append(sq.Notes, a.word(1))
			return nil
		case "step":
			if err := p.args(a, 5, 4); err != nil {
				return err
			}
			for _, m := range p.s.MessagesOf(pr) {
				if m.Tag == a.word(3) {
					sq.Steps = append(sq.Steps, Step{From: a.word(1), To: a.word(2), Msg: m, Example: a.word(4)})
					return nil
				}
			}
			return p.errf(a.line, "step: no %s message %q declared before", pr.Name, a.word(3))
		}
		return p.errf(a.line, "sequence: unknown statement %q", a.word(0))
	})
}

// const: const NAME VALUE[ms] "doc"
func (p *parser) constant(st stmt) error {
	if err := p.args(st, 4, 3); err != nil {
		return err
	}
	if err := p.noBlock(st); err != nil {
		return err
	}
	c := &Const{Name: st.word(1), Doc: st.word(3)}
	v := st.word(2)
	if strings.HasSuffix(v, "ms") {
		c.Unit, v = "ms", strings.TrimSuffix(v, "ms")
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return p.errf(st.line, "const %s: %q is not a number (a duration ends in ms)", c.Name, st.word(2))
	}
	c.Value = n
	p.s.Consts = append(p.s.Consts, c)
	return nil
}
