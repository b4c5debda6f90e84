package spec

// attr is an attribute a kind's block may set, as a base declares it in
// its Attrs: the word that names it, the shape of its words, and where its
// value goes in the kind. The parser reads every attribute of every base
// the same way (parser.attrRule), so a base's attributes are its own
// business: a new one is a line of its Attrs and, if no field of Kind
// holds it yet, that field.
type attr struct {
	name  string
	shape attrShape
	at    func(k *Kind) any // a pointer into k, of the type the shape says
}

// attrShape is what an attribute's words are, and where its value goes.
type attrShape int

const (
	attrNumber  attrShape = iota // max 35: a number from 0 to maxNumber, into an *int
	attrFlag                     // utf8: no word, sets a *bool
	attrBytes                    // deny "@: ": a quoted string of any bytes, into a *string
	attrWords                    // word "on": a quoted string of any bytes, a line each, appended to a *[]Word
	attrField                    // field NAME KIND: a struct's field, appended to a *[]Item
	attrLiteral                  // literal "x": a struct's literal, appended to a *[]Item
)

func numberAttr(name string, at func(*Kind) *int) attr {
	return attr{name, attrNumber, func(k *Kind) any { return at(k) }}
}

func flagAttr(name string, at func(*Kind) *bool) attr {
	return attr{name, attrFlag, func(k *Kind) any { return at(k) }}
}

func bytesAttr(name string, at func(*Kind) *string) attr {
	return attr{name, attrBytes, func(k *Kind) any { return at(k) }}
}

func wordsAttr(name string, at func(*Kind) *[]Word) attr {
	return attr{name, attrWords, func(k *Kind) any { return at(k) }}
}

// The attributes more than one base takes.
var (
	minAttr     = numberAttr("min", func(k *Kind) *int { return &k.Min })
	maxAttr     = numberAttr("max", func(k *Kind) *int { return &k.Max })
	fieldAttr   = attr{"field", attrField, func(k *Kind) any { return &k.Parts }}
	literalAttr = attr{"literal", attrLiteral, func(k *Kind) any { return &k.Parts }}
)

// rawAttr reports whether some base takes an attribute name whose quoted
// word is bytes (deny, literal), not text for people: the parser does not
// hold it to the rules of docs.
func rawAttr(name string) bool {
	for _, b := range bases {
		for _, a := range b.Attrs() {
			if a.name == name && (a.shape == attrBytes || a.shape == attrWords || a.shape == attrLiteral) {
				return true
			}
		}
	}
	return false
}

// attrNames lists the names of attrs.
func attrNames(attrs []attr) []string {
	var out []string
	for _, a := range attrs {
		out = append(out, a.name)
	}
	return out
}

// attrRule is how the parser reads attribute at of kind k: the words its
// shape takes, and where the value goes. Set once, but for a list of words
// and the parts of a struct, which gather their lines in order (k.Attrs
// keeps the first line's place).
func (p *parser) attrRule(k *Kind, at attr) rule {
	owner := "kind " + k.Name
	once := func(do func(a stmt)) func(stmt) {
		return func(a stmt) {
			if p.setAttr(k.Attrs, owner, a) {
				do(a)
			}
		}
	}
	switch at.shape {
	case attrNumber:
		return rule{words: 2, do: func(a stmt) {
			v, ok := p.int(a, 1)
			if !ok {
				p.broken[k] = true // its checks would only repeat this
				return
			}
			once(func(stmt) { *at.at(k).(*int) = v })(a)
		}}
	case attrFlag:
		return rule{words: 1, do: once(func(stmt) { *at.at(k).(*bool) = true })}
	case attrBytes:
		return rule{words: 2, quoted: []int{1}, do: once(func(a stmt) { *at.at(k).(*string) = a.word(1) })}
	case attrWords:
		return rule{words: 2, quoted: []int{1}, do: func(a stmt) {
			if _, ok := k.Attrs[at.name]; !ok {
				k.Attrs[at.name] = a.pos
			}
			dst := at.at(k).(*[]Word)
			*dst = append(*dst, Word{a.word(1), a.pos})
		}}
	case attrField:
		return rule{words: 3, do: func(a stmt) {
			if a.word(2) == k.Name {
				p.errorf(a.at(2), "%s: field %s is of the kind being declared", owner, a.word(1))
				return
			}
			p.field(at.at(k).(*[]Item), a, owner, nil)
		}}
	default: // attrLiteral
		return rule{words: 2, quoted: []int{1}, do: func(a stmt) { p.literal(at.at(k).(*[]Item), a) }}
	}
}
