package spec

import (
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Load reads and checks a spec file.
func Load(path string) (*Spec, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, string(src))
}

// Parse reads and checks a spec. When the spec does not check, the error is
// an ErrorList of every problem found, each at its file:line:col.
func Parse(file, src string) (*Spec, error) {
	r := &errs{file: file}
	p := &parser{errs: r, lines: lexLines(src, r), s: &Spec{File: file}, damage: newDamage()}
	p.top()
	p.resolveAnswers()
	p.s.check(r, p.damage)
	if len(r.list) > 0 {
		return nil, r.list.sorted()
	}
	return p.s, nil
}

type parser struct {
	*errs
	*damage  // what was refused or is broken: its consequences are not reported
	lines    []line
	pos      int
	s        *Spec
	answered []answersStmt // resolved once every message is read
}

// stmt is one statement: its words, its position, and whether it opens a
// block.
type stmt struct {
	words []token
	pos   Pos
	block bool
	bad   bool // its line did not lex (reported): refused without another word
}

func (st stmt) word(i int) string {
	if i < len(st.words) {
		return st.words[i].text
	}
	return ""
}

// at is the position of word i, or of the statement when it has fewer.
func (st stmt) at(i int) Pos {
	if i < len(st.words) {
		return st.words[i].pos
	}
	return st.pos
}

// topWords start the statements of the top level: met inside a block, one
// of them means that block was never closed.
var topWords = []string{"kind", "protocol", "codes", "message", "sequence", "const", "var", "scenario", "breaking", "version"}

// peek classifies the next line: a statement, a closing brace, or the end.
func (p *parser) peek() (st stmt, close, eof bool) {
	if p.pos >= len(p.lines) {
		return stmt{}, false, true
	}
	toks := p.lines[p.pos].toks
	if len(toks) == 1 && toks[0].text == "}" && !toks[0].quoted {
		return stmt{pos: toks[0].pos}, true, false
	}
	st = stmt{words: toks, pos: toks[0].pos, bad: p.lines[p.pos].bad}
	if last := toks[len(toks)-1]; last.text == "{" && !last.quoted {
		st.block = true
		if len(toks) > 1 { // a lone "{" stays a word, so that it is reported
			st.words = toks[:len(toks)-1]
		}
	}
	return st, false, false
}

// rule says what shape a statement has and what to do with it.
type rule struct {
	words  int   // number of words, keyword included; 0: do checks
	quoted []int // positions of the words that are quoted strings
	block  int   // noBlock, needsBlock or mayBlock
	do     func(st stmt)
}

const (
	noBlock = iota
	needsBlock
	mayBlock
)

// top reads the top-level statements.
func (p *parser) top() {
	rules := map[string]rule{
		"kind":     {0, nil, mayBlock, p.kind},
		"protocol": {3, []int{2}, needsBlock, p.protocol},
		"codes":    {3, []int{2}, needsBlock, p.codes},
		"message":  {5, []int{4}, needsBlock, p.message},
		"sequence": {3, []int{2}, needsBlock, p.sequence},
		"const":    {4, []int{3}, noBlock, p.constant},
		"var":      {4, []int{2, 3}, noBlock, p.variable},
		"scenario": {5, []int{4}, needsBlock, p.scenario},
		"breaking": {0, nil, noBlock, p.breaking},
		"version":  {2, nil, noBlock, p.specVersion},
	}
	for {
		st, close, eof := p.peek()
		switch {
		case eof:
			return
		case close:
			p.errorf(st.pos, "unexpected }: no block is open")
			p.pos++
		default:
			p.pos++
			p.dispatch(st, topLevel, rules)
		}
	}
}

const topLevel = "the top level"

// dispatch checks st against the rules of its context and runs it; a
// statement that is refused has its block skipped. kw is the statement's
// keyword, or the one a misspelt keyword most likely meant ("" if none);
// ok says st was read without an error, its block's statements included.
// A top-level statement refused before it is read is recorded (refuse), so
// that what uses what it declares is not reported again.
func (p *parser) dispatch(st stmt, where string, rules map[string]rule) (kw string, ok bool) {
	n, quiet := len(p.list), p.quiet
	kw = st.word(0)
	refuse := func() (string, bool) {
		if where == topLevel {
			p.refuse(kw, st)
		}
		p.skipBlock(st)
		return kw, false
	}
	if st.bad {
		return refuse()
	}
	r, known := rules[kw]
	if !known || st.words[0].quoted {
		var want []string
		for w := range rules {
			want = append(want, w)
		}
		sort.Strings(want)
		if kw = suggest(st.word(0), want); kw != "" && !st.words[0].quoted {
			p.errorf(st.pos, "unknown statement %q in %s; did you mean %s?", st.word(0), where, kw)
		} else {
			kw = ""
			p.errorf(st.pos, "unknown statement %q in %s (want %s)", st.word(0), where, strings.Join(want, ", "))
		}
		return refuse()
	}
	if r.words > 0 && !p.shape(st, r.words, r.quoted...) {
		return refuse()
	}
	switch {
	case r.block == noBlock && st.block:
		p.errorf(st.at(len(st.words)), "%q takes no block", st.word(0))
		return refuse()
	case r.block == needsBlock && !st.block:
		p.errorf(st.pos, "%q needs a block: end the line with {", st.word(0))
		if where == topLevel {
			p.refuse(kw, st)
		}
		return kw, false
	}
	for _, i := range r.quoted {
		if docWord(st.word(0), i) {
			p.doc(st, i)
		}
	}
	r.do(st)
	return kw, len(p.list) == n && p.quiet == quiet
}

// refuse records what a top-level statement refused unread would have
// declared, kw being its keyword or what a misspelt one meant: uses of it
// are then left unreported, and what cannot tell (the scenarios, checked
// against the whole model) is not checked.
func (p *parser) refuse(kw string, st stmt) {
	switch kw {
	case "kind", "codes":
		p.refused[st.word(1)] = true
	case "protocol":
		p.refusedProto[st.word(1)] = true
	case "message":
		p.refusedTag[st.word(2)] = true
	case "sequence", "scenario", "const", "breaking", "version":
		// nothing uses what they declare
	default: // var, or a statement no one can tell
		p.incomplete = true
	}
}

// docWord reports whether word i of a statement is prose for people, which
// the back ends put in comments, tables and dissector trees.
func docWord(stmt string, i int) bool {
	if rawAttr(stmt) {
		return false // bytes, as a base's attribute takes them
	}
	switch stmt {
	case "example", "invalid", "literal", "step":
		return false
	case "var":
		return i == 3 // word 2 is a sample value
	case "summary":
		return false // a template: checked as one
	}
	return true
}

// doc checks that word i of st is one line of UTF-8 text.
func (p *parser) doc(st stmt, i int) {
	w := st.word(i)
	if j := badUTF8(w); j < len(w) {
		p.errorf(st.words[i].at(j), "%q: text %s is not UTF-8", st.word(0), strconv.Quote(clip(w)))
		return
	}
	for j, c := range w {
		if c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0 || c == 0x2028 || c == 0x2029 {
			p.errorf(st.words[i].at(j), "%q: text %s holds a control character; write one line of text", st.word(0), strconv.Quote(clip(w)))
			return
		}
		// In a Go comment one would make the code read otherwise than
		// it compiles (Trojan Source, CVE-2021-42574).
		if unicode.Is(unicode.Bidi_Control, c) {
			p.errorf(st.words[i].at(j), "%q: text %s holds a bidi control; right-to-left text needs none", st.word(0), strconv.Quote(clip(w)))
			return
		}
	}
}

// shape checks that st has n words (if n > 0) and that exactly the words at
// the positions listed are quoted.
func (p *parser) shape(st stmt, n int, quotedAt ...int) bool {
	if n > 0 && len(st.words) != n {
		p.errorf(st.pos, "%q takes %d words, has %d", st.word(0), n, len(st.words))
		return false
	}
	for i, w := range st.words {
		want := false
		for _, q := range quotedAt {
			want = want || q == i
		}
		if w.quoted != want {
			if want {
				p.errorf(w.pos, "%q: word %d must be a quoted string", st.word(0), i+1)
			} else {
				p.errorf(w.pos, "%q: word %d must not be quoted", st.word(0), i+1)
			}
			return false
		}
	}
	return true
}

// body runs f on each statement of the block st opened, through "}". A
// top-level statement inside it means the "}" is missing: that is reported
// at the block's start and the statement is left for the top level.
func (p *parser) body(st stmt, f func(stmt)) {
	for {
		b, close, eof := p.peek()
		switch {
		case eof:
			p.errorf(st.pos, "%s block is never closed: add } after its last statement", st.word(0))
			return
		case close:
			p.pos++
			return
		case !b.words[0].quoted && contains(topWords, b.word(0)):
			p.errorf(st.pos, "%s block is not closed before the %s at line %d: add } after its last statement", st.word(0), b.word(0), b.pos.Line)
			return
		}
		p.pos++
		f(b)
	}
}

// skipBlock passes over the block st opens, if any, nested blocks included.
func (p *parser) skipBlock(st stmt) {
	if st.block {
		p.body(st, p.skipBlock)
	}
}

// name checks that word i of st is an identifier the back ends can use.
func (p *parser) name(st stmt, i int, what string, exported bool) bool {
	w := st.word(i)
	ok := w != ""
	for j := 0; j < len(w); j++ {
		c := w[j]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		ok = ok && (letter || j > 0 && (c >= '0' && c <= '9' || c == '_'))
	}
	if ok && exported && !(w[0] >= 'A' && w[0] <= 'Z') {
		p.errorf(st.at(i), "%s %q must start with a capital letter (it names a Go type)", what, w)
		return false
	}
	if !ok {
		p.errorf(st.at(i), "%s %q is not a name: letters, digits and _, starting with a letter", what, w)
	}
	return ok
}

func (p *parser) int(st stmt, i int) (int, bool) {
	n, err := strconv.Atoi(st.word(i))
	if err != nil || n < 0 || n > maxNumber {
		p.errorf(st.at(i), "%q: %q is not a number from 0 to %d", st.word(0), st.word(i), maxNumber)
		return 0, false
	}
	return n, true
}

// maxNumber bounds every number of a spec: far above any wire limit, far
// below what could overflow a sum of them.
const maxNumber = 1 << 20

// setAttr records where an attribute was set; a second one is an error that
// names the first.
func (p *parser) setAttr(attrs map[string]Pos, owner string, a stmt) bool {
	if first, ok := attrs[a.word(0)]; ok {
		p.errorf(a.pos, "%s: %s set twice (first at %s)", owner, a.word(0), p.at(first))
		return false
	}
	attrs[a.word(0)] = a.pos
	return true
}

// kind: kind NAME BASE [GOTYPE] "doc" [{ attributes }]
func (p *parser) kind(st stmt) {
	k := &Kind{Name: st.word(1), Base: st.word(2), Pos: st.pos, Attrs: map[string]Pos{}}
	n := 4
	if k.Base == Struct {
		n, k.GoType = 5, st.word(3)
	}
	if !p.shape(st, n, n-1) {
		p.refused[k.Name] = true
		p.skipBlock(st)
		return
	}
	k.Doc = st.word(n - 1)
	p.doc(st, n-1)
	ok := p.name(st, 1, "kind name", false)
	if k.Base == Struct {
		ok = p.name(st, 3, "Go type", true) && ok
	}
	b := baseOf(k.Base)
	if b == nil || k.Base == Codes {
		p.errorf(st.at(2), "kind %s: unknown base %q (want %s)%s", k.Name, k.Base, strings.Join(declarableBases(), ", "), didYouMean(k.Base, declarableBases()))
		ok = false
	}
	if first := p.s.Kind(k.Name); first != nil {
		p.errorf(st.at(1), "kind %s declared twice (first at %s)", k.Name, p.at(first.Pos))
		ok = false
	}
	if !ok {
		p.refused[k.Name] = true
		p.skipBlock(st)
		return
	}
	p.s.Kinds = append(p.s.Kinds, k)
	if st.block {
		p.body(st, func(a stmt) {
			if kw, ok := p.kindAttr(k, b, a); !ok && kw != "example" && kw != "invalid" {
				p.broken[k] = true // its checks and uses would only repeat this
			}
		})
	}
}

// kindAttr reads one statement of a kind's block. Which attributes a kind
// takes, and what their words are, is its base's business (Base.Attrs).
func (p *parser) kindAttr(k *Kind, b Base, a stmt) (kw string, ok bool) {
	owner := "kind " + k.Name
	rules := map[string]rule{
		"example": {2, []int{1}, noBlock, func(a stmt) { k.Examples = append(k.Examples, Example{a.word(1), a.pos}) }},
		"invalid": {4, []int{1, 3}, noBlock, func(a stmt) { p.invalid(&k.Invalid, a) }},
	}
	for _, at := range b.Attrs() {
		rules[at.name] = p.attrRule(k, at)
	}
	if _, ok := rules[a.word(0)]; !ok && knownAttr(a.word(0)) && !a.bad {
		p.errorf(a.pos, "%s: %q means nothing for base %s (it takes %s)", owner, a.word(0), k.Base, strings.Join(append(attrNames(b.Attrs()), "example", "invalid"), ", "))
		p.skipBlock(a)
		return a.word(0), false
	}
	return p.dispatch(a, owner, rules)
}

// knownAttr reports whether some base takes the attribute name.
func knownAttr(name string) bool {
	for _, b := range bases {
		if contains(attrNames(b.Attrs()), name) {
			return true
		}
	}
	return false
}

// invalid: invalid "input" CLASS "field"
func (p *parser) invalid(dst *[]Invalid, a stmt) {
	if !contains(ErrNames, a.word(2)) {
		if s := suggest(a.word(2), ErrNames); s != "" {
			p.errorf(a.at(2), "invalid: unknown error %q; did you mean %s?", a.word(2), s)
		} else {
			p.errorf(a.at(2), "invalid: unknown error %q (want one of %s)", a.word(2), strings.Join(ErrNames, ", "))
		}
		return
	}
	*dst = append(*dst, Invalid{Input: a.word(1), Err: a.word(2), Field: a.word(3), Pos: a.pos})
}

func (p *parser) literal(dst *[]Item, a stmt) {
	if a.word(1) == "" {
		p.errorf(a.at(1), "empty literal")
		return
	}
	*dst = append(*dst, Item{Literal: a.word(1), Pos: a.at(1)})
}

// field: field NAME KIND, in a struct kind (m == nil) or a message.
func (p *parser) field(dst *[]Item, a stmt, owner string, m *Message) {
	if !p.name(a, 1, "field name", false) {
		return
	}
	k := p.s.Kind(a.word(2))
	if k == nil {
		if p.refused[a.word(2)] {
			p.quiet++ // reported where it was refused
			return
		}
		var names []string
		for _, k := range p.s.Kinds {
			names = append(names, k.Name)
		}
		p.errorf(a.at(2), "field %s: unknown kind %q (declare it before use)%s", a.word(1), a.word(2), didYouMean(a.word(2), names))
		return
	}
	f := &Field{Name: a.word(1), Kind: k, Pos: a.pos}
	siblings := fieldsOf(*dst)
	if m != nil {
		siblings = m.Fields()
	}
	for _, g := range siblings {
		if g.Name == f.Name {
			p.errorf(a.at(1), "%s: field %s appears twice (first at %s)", owner, f.Name, p.at(g.Pos))
			return
		}
	}
	*dst = append(*dst, Item{Field: f, Pos: a.pos})
}

// protocol: protocol NAME "doc" { transport, port, tag, length, max }
func (p *parser) protocol(st stmt) {
	pr := &Protocol{Name: st.word(1), Doc: st.word(2), Pos: st.pos, Attrs: map[string]Pos{}}
	ok := p.name(st, 1, "protocol name", true)
	for _, o := range p.s.Protocols {
		if o.Name == pr.Name {
			p.errorf(st.at(1), "protocol %s declared twice (first at %s)", pr.Name, p.at(o.Pos))
			ok = false
		}
	}
	if !ok {
		p.refusedProto[pr.Name] = true
		p.skipBlock(st)
		return
	}
	p.s.Protocols = append(p.s.Protocols, pr)
	owner := "protocol " + pr.Name
	set := func(f func(a stmt) bool) func(stmt) {
		return func(a stmt) {
			if f(a) {
				p.setAttr(pr.Attrs, owner, a)
			}
		}
	}
	number := func(dst *int, i int) func(stmt) {
		return set(func(a stmt) bool {
			v, ok := p.int(a, i)
			*dst = v
			return ok
		})
	}
	rules := map[string]rule{
		"transport": {2, nil, noBlock, set(func(a stmt) bool {
			pr.Transport = a.word(1)
			if pr.Transport != "tcp" && pr.Transport != "udp" {
				p.errorf(a.at(1), "%s: transport must be tcp or udp, not %q", owner, pr.Transport)
				return false
			}
			return true
		})},
		"port": {3, []int{2}, noBlock, set(func(a stmt) bool {
			pr.PortDoc = a.word(2)
			if a.word(1) == "dynamic" {
				return true
			}
			v, ok := p.int(a, 1)
			if ok && (v < 1 || v > 65535) {
				p.errorf(a.at(1), "%s: port %d is not 1..65535 (or dynamic)", owner, v)
				ok = false
			}
			pr.Port = v
			return ok
		})},
		"tag": {2, nil, noBlock, number(&pr.TagLen, 1)},
		"length": {3, []int{2}, noBlock, func(a stmt) {
			pr.LengthDoc = a.word(2)
			number(&pr.LengthDigits, 1)(a)
		}},
		"max": {2, nil, noBlock, number(&pr.Max, 1)},
	}
	p.body(st, func(a stmt) {
		if _, ok := p.dispatch(a, owner, rules); !ok {
			p.protos[pr] = true
		}
	})
}

// codes: codes GOTYPE "doc" { VALUE NAME "doc" ... }
func (p *parser) codes(st stmt) {
	k := &Kind{Name: st.word(1), Base: Codes, GoType: st.word(1), Doc: st.word(2), Pos: st.pos, Attrs: map[string]Pos{}}
	ok := p.name(st, 1, "codes type", true)
	if first := p.s.Kind(k.Name); first != nil {
		p.errorf(st.at(1), "kind %s declared twice (first at %s)", k.Name, p.at(first.Pos))
		ok = false
	}
	if !ok {
		p.refused[k.Name] = true
		p.skipBlock(st)
		return
	}
	p.s.Kinds = append(p.s.Kinds, k)
	owner := "codes " + k.Name
	n := len(p.list)
	defer func() {
		if len(p.list) > n {
			p.broken[k] = true // an if on it would only repeat this
		}
	}()
	p.body(st, func(a stmt) {
		if a.bad {
			p.skipBlock(a)
			p.broken[k] = true
			return
		}
		if a.block {
			p.errorf(a.pos, "%s: a code takes no block", owner)
			p.skipBlock(a)
			return
		}
		if !p.shape(a, 3, 2) || !p.name(a, 1, "code name", true) {
			return
		}
		p.doc(a, 2)
		v, err := strconv.Atoi(a.word(0))
		if err != nil || v < 0 || v > 9 || len(a.word(0)) != 1 {
			p.errorf(a.pos, "%s: value %q is not one digit 0..9", owner, a.word(0))
			return
		}
		for _, c := range k.Values {
			switch {
			case c.Value == v:
				p.errorf(a.pos, "%s: value %d given twice (first at %s)", owner, v, p.at(c.Pos))
				return
			case c.Name == a.word(1):
				p.errorf(a.at(1), "%s: name %s given twice (first at %s)", owner, c.Name, p.at(c.Pos))
				return
			}
		}
		k.Values = append(k.Values, &Code{Value: v, Name: a.word(1), Doc: a.word(2), Pos: a.pos})
	})
	if len(k.Values) == 0 {
		p.errorf(st.pos, "%s: lists no value; a code field could never decode", owner)
	}
}

func (p *parser) proto(st stmt, i int) *Protocol {
	var names []string
	for _, pr := range p.s.Protocols {
		if pr.Name == st.word(i) {
			return pr
		}
		names = append(names, pr.Name)
	}
	if p.refusedProto[st.word(i)] {
		p.quiet++ // reported where it was refused
		return nil
	}
	p.errorf(st.at(i), "unknown protocol %q (declare it before use)%s", st.word(i), didYouMean(st.word(i), names))
	return nil
}

// message: message PROTO TAG GOTYPE "doc" { items, examples, invalids }
func (p *parser) message(st stmt) {
	pr := p.proto(st, 1)
	ok := p.name(st, 3, "Go type", true) && pr != nil
	m := &Message{Proto: pr, Tag: st.word(2), GoType: st.word(3), Doc: st.word(4), Pos: st.pos}
	for _, o := range p.s.Messages {
		switch {
		case o.Proto == pr && o.Tag == m.Tag:
			p.errorf(st.at(2), "message %s %s declared twice (first at %s)", pr.Name, m.Tag, p.at(o.Pos))
			ok = false
		case o.GoType == m.GoType:
			p.errorf(st.at(3), "message type %s declared twice (first at %s)", m.GoType, p.at(o.Pos))
			ok = false
		}
	}
	if !ok {
		p.refusedTag[m.Tag] = true
		p.skipBlock(st)
		return
	}
	p.s.Messages = append(p.s.Messages, m)
	owner := "message " + m.Tag
	var summaries, signatures []stmt // read once the fields are known
	rules := map[string]rule{
		"example":   {2, []int{1}, noBlock, func(a stmt) { m.Examples = append(m.Examples, Example{a.word(1), a.pos}) }},
		"invalid":   {4, []int{1, 3}, noBlock, func(a stmt) { p.invalid(&m.Invalid, a) }},
		"field":     {3, nil, noBlock, func(a stmt) { p.item(m, &m.Items, a) }},
		"literal":   {2, []int{1}, noBlock, func(a stmt) { p.item(m, &m.Items, a) }},
		"if":        {3, nil, needsBlock, func(a stmt) { p.cond(m, a) }},
		"answers":   {0, nil, noBlock, func(a stmt) { p.answers(m, a) }},
		"summary":   {2, []int{1}, noBlock, func(a stmt) { summaries = append(summaries, a) }},
		"signature": {2, nil, noBlock, func(a stmt) { signatures = append(signatures, a) }},
	}
	p.body(st, func(a stmt) {
		switch kw, ok := p.dispatch(a, owner, rules); {
		case ok:
		case kw == "field", kw == "literal", kw == "if", kw == "":
			// Its items are not what the spec meant: its checks and
			// examples would only repeat this.
			p.msgs[m] = true
		}
	})
	if p.msgs[m] {
		return // its summary and signature may name a field it lost
	}
	for i, a := range summaries {
		if i > 0 {
			p.errorf(a.pos, "%s: summary given twice (first at %s)", owner, p.at(summaries[0].pos))
			continue
		}
		m.Summary = p.summary(m, a)
	}
	for i, a := range signatures {
		if i > 0 {
			p.errorf(a.pos, "%s: signature given twice (first at %s)", owner, p.at(signatures[0].pos))
			continue
		}
		f := fieldNamed(m, a.word(1))
		if msg := signatureRule(m, f); msg != "" {
			p.errorf(a.at(1), "%s: signature %s %s", owner, a.word(1), msg)
			continue
		}
		m.Signature = f
	}
}

// fieldNamed is m's field named name, or nil.
func fieldNamed(m *Message, name string) *Field {
	for _, f := range m.Fields() {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// summary reads a message's summary template, reporting what is wrong.
func (p *parser) summary(m *Message, a stmt) []SummaryPart {
	parts, off, msg := parseSummary(m, a.word(1))
	if msg != "" {
		p.errorf(a.words[1].at(off), "message %s: summary: %s", m.Tag, msg)
		return nil
	}
	m.SummarySrc = a.word(1)
	return parts
}

// ParseSummary reads a summary template of m: text with $field references
// and [groups] shown only when every field in them is present. msg says
// what is wrong, if anything.
func ParseSummary(m *Message, t string) (parts []SummaryPart, msg string) {
	parts, _, msg = parseSummary(m, t)
	return parts, msg
}

// parseSummary is ParseSummary, with the offset in t of what is wrong.
func parseSummary(m *Message, t string) (parts []SummaryPart, off int, msg string) {
	parts, rest, msg := summaryParts(m, t, false)
	if msg == "" && rest != "" {
		msg = "a ] closes no ["
	}
	return parts, len(t) - len(rest), msg
}

// summaryParts reads t up to the ] that closes a group (inGroup) or its
// end; rest starts at that ], or at what is wrong when msg says something is.
func summaryParts(m *Message, t string, inGroup bool) (parts []SummaryPart, rest, msg string) {
	for t != "" {
		switch c := t[0]; {
		case c == '$':
			j := 1
			for j < len(t) && (t[j] == '_' || t[j] >= 'a' && t[j] <= 'z' || t[j] >= 'A' && t[j] <= 'Z' || isDigit(t[j])) {
				j++
			}
			var f *Field
			var names []string
			for _, g := range m.Fields() {
				if g.Name == t[1:j] {
					f = g
				}
				names = append(names, g.Name)
			}
			if f == nil {
				return nil, t, strconv.Quote(t[:j]) + " is not a field of the message" + didYouMean(t[1:j], names)
			}
			parts, t = append(parts, SummaryPart{Field: f}), t[j:]
		case c == '[':
			if inGroup {
				return nil, t, "groups do not nest"
			}
			g, r, msg := summaryParts(m, t[1:], true)
			switch {
			case msg != "":
				return nil, r, msg
			case r == "":
				return nil, t, "a [ is never closed"
			}
			parts, t = append(parts, SummaryPart{Group: g}), r[1:]
		case c == ']':
			return parts, t, ""
		default:
			j := strings.IndexAny(t, "$[]")
			if j < 0 {
				j = len(t)
			}
			parts, t = append(parts, SummaryPart{Text: t[:j]}), t[j:]
		}
	}
	return parts, "", ""
}

// item adds a field or literal to dst, refusing it after an if group.
func (p *parser) item(m *Message, dst *[]Item, a stmt) {
	if n := len(m.Items); n > 0 && m.Items[n-1].Cond != nil {
		p.errorf(a.pos, "message %s: %s after the if group (at %s): an if group must be the last item", m.Tag, a.word(0), p.at(m.Items[n-1].Pos))
		return
	}
	if a.word(0) == "literal" {
		p.literal(dst, a)
		return
	}
	p.field(dst, a, "message "+m.Tag, m)
}

// answers: answers TAG... The tags are resolved once every message is
// read (resolveAnswers): a reply may answer a request declared after it,
// so that an extension's request can be answered by the base protocol's
// replies where they stand.
func (p *parser) answers(m *Message, a stmt) {
	if !p.shape(a, 0) {
		return
	}
	for _, o := range p.answered {
		if o.m == m {
			p.errorf(a.pos, "message %s: answers given twice (first at %s)", m.Tag, p.at(o.st.pos))
			return
		}
	}
	if len(a.words) < 2 {
		p.errorf(a.pos, "message %s: answers names no request", m.Tag)
		return
	}
	p.answered = append(p.answered, answersStmt{m, a})
}

// answersStmt is an answers statement waiting for every message to be read.
type answersStmt struct {
	m  *Message
	st stmt
}

// resolveAnswers points each reply at the requests its answers statement
// names: messages of its protocol, other than itself, each named once.
func (p *parser) resolveAnswers() {
	for _, a := range p.answered {
		m := a.m
		for i, w := range a.st.words[1:] {
			o := p.s.message(m.Proto, w.text)
			switch {
			case o == nil && p.refusedTag[w.text]:
				// reported where it was refused
			case o == nil:
				p.errorf(a.st.at(i+1), "answers: no %s message %q%s", m.Proto.Name, w.text, didYouMean(w.text, tagsOf(p.s.MessagesOf(m.Proto))))
			case o == m:
				p.errorf(a.st.at(i+1), "answers: message %s cannot answer itself", m.Tag)
			case slices.Contains(m.Answers, o):
				p.errorf(a.st.at(i+1), "answers: %s named twice", w.text)
			default:
				m.Answers = append(m.Answers, o)
			}
		}
	}
}

// cond: if FIELD CODE { items }
func (p *parser) cond(m *Message, a stmt) {
	read := false
	defer func() {
		if !read {
			p.skipBlock(a) // a refused group's items are not read
		}
	}()
	for _, it := range m.Items {
		if it.Cond != nil {
			p.errorf(a.pos, "message %s: a second if group (first at %s): a message has at most one", m.Tag, p.at(it.Pos))
			return
		}
	}
	var f *Field
	var names []string
	for _, g := range m.Fields() {
		if g.Kind.Base == Codes {
			names = append(names, g.Name)
		}
		if g.Name == a.word(1) {
			f = g
		}
	}
	switch {
	case f == nil && p.msgs[m], f != nil && p.broken[f.Kind]:
		p.quiet++ // the field or its codes were refused, and reported
		return
	case f == nil || f.Kind.Base != Codes:
		p.errorf(a.at(1), "if: %q is not a codes field declared earlier in %s%s", a.word(1), m.Tag, didYouMean(a.word(1), names))
		return
	}
	c := &Cond{Field: f, Pos: a.pos}
	names = nil
	for _, v := range f.Kind.Values {
		if v.Name == a.word(2) {
			c.Code = v
		}
		names = append(names, v.Name)
	}
	if c.Code == nil {
		p.errorf(a.at(2), "if: %s has no code %q%s", f.Kind.Name, a.word(2), didYouMean(a.word(2), names))
		return
	}
	owner := "message " + m.Tag
	p.body(a, func(b stmt) {
		p.dispatch(b, "an if group", map[string]rule{
			"field":   {3, nil, noBlock, func(b stmt) { p.field(&c.Items, b, owner, m) }},
			"literal": {2, []int{1}, noBlock, func(b stmt) { p.literal(&c.Items, b) }},
		})
	})
	m.Items = append(m.Items, Item{Cond: c, Pos: a.pos})
	read = true
}

// sequence: sequence PROTO "title" { step FROM TO TAG "example"; note "text" }
func (p *parser) sequence(st stmt) {
	pr := p.proto(st, 1)
	if pr == nil {
		p.skipBlock(st)
		return
	}
	sq := &Sequence{Proto: pr, Title: st.word(2), Pos: st.pos}
	p.s.Sequences = append(p.s.Sequences, sq)
	rules := map[string]rule{
		"note": {2, []int{1}, noBlock, func(a stmt) { sq.Notes = append(sq.Notes, a.word(1)) }},
		"step": {5, []int{4}, noBlock, func(a stmt) {
			for _, m := range p.s.MessagesOf(pr) {
				if m.Tag == a.word(3) {
					sq.Steps = append(sq.Steps, Step{From: a.word(1), To: a.word(2), Msg: m, Example: a.word(4), Pos: a.pos})
					return
				}
			}
			if p.refusedTag[a.word(3)] {
				return // reported where it was refused
			}
			p.errorf(a.at(3), "step: no %s message %q declared before%s", pr.Name, a.word(3), didYouMean(a.word(3), tagsOf(p.s.MessagesOf(pr))))
		}},
	}
	p.body(st, func(a stmt) { p.dispatch(a, "sequence "+strconv.Quote(sq.Title), rules) })
}

// const: const NAME VALUE[ms] "doc"
func (p *parser) constant(st stmt) {
	if !p.name(st, 1, "const name", true) {
		return
	}
	c := &Const{Name: st.word(1), Doc: st.word(3), Pos: st.pos}
	for _, o := range p.s.Consts {
		if o.Name == c.Name {
			p.errorf(st.at(1), "const %s declared twice (first at %s)", c.Name, p.at(o.Pos))
			return
		}
	}
	v := st.word(2)
	if strings.HasSuffix(v, "ms") {
		c.Unit, v = "ms", strings.TrimSuffix(v, "ms")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxNumber {
		p.errorf(st.at(2), "const %s: %q is not a number from 0 to %d (a duration ends in ms)", c.Name, st.word(2), maxNumber)
		return
	}
	c.Value = n
	p.s.Consts = append(p.s.Consts, c)
}

// tagsOf lists the tags of ms.
func tagsOf(ms []*Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Tag)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
