package spec

import "sort"

// Base is a base kind: everything the model knows about one lexical shape
// of field. Each lives in a file of its own (kind_*.go) and is listed in
// bases; a base that misses a part of this interface does not compile.
// What a back end writes for a base is the back end's: an entry per base
// in each (gen/kinds_*.go), which gen's tests require of every base listed
// here.
type Base interface {
	// Name is the word that names the base in a kind statement.
	Name() string
	// Attrs lists the block attributes a kind of this base takes, besides
	// example and invalid: their words and where their values go.
	Attrs() []attr
	// Check reports what is wrong with k's attributes and fills in what
	// follows from them (a text's byte set, a number's default range).
	Check(k *Kind, r *errs)
	// Bounds are the shortest and longest encodings of a value.
	Bounds(k *Kind) (min, max int)
	// CanHold reports whether some value may contain byte c.
	CanHold(k *Kind, c byte) bool
	// Width is the length of every value, or 0 if values vary.
	Width(k *Kind) int
	// Decode reads a value from s[off:limit], the whole field. An error
	// with no field names the field itself; offsets count in s.
	Decode(k *Kind, s string, off, limit int) (any, *WireError)
	// Encode appends the wire form of a value Decode returned.
	Encode(k *Kind, b []byte, v any) []byte

	// DocRules are the kind's rules for the reference page.
	DocRules(k *Kind) []string
	// Rules are the checks Decode makes, in its order, as data: what the
	// IR gives a decoder in another language (rules.go, docs/ir.md).
	Rules(k *Kind) []Rule

	// Domain names what the values of the base's kinds are, for compat:
	// a kind whose base changes to another of its domain is judged by its
	// values (Compat), not by the bases' names; kinds of different domains
	// cannot read each other's values.
	Domain() string
	// Compat reports the changes on the wire from o to n: n is of this
	// base, o of this base or another of its Domain, whose change it
	// reports too.
	Compat(d *diff, o, n *Kind)
	// Aspects are the aspects Compat files its breaking changes under, as
	// a breaking statement names them (Aspects in breaking.go).
	Aspects() []string
}

// bases lists every base kind. Adding one is a new kind_*.go file, a line
// here, and its entry in each back end of gen/ (kinds_*.go).
var bases = []Base{
	textBase{},
	dnsnameBase{},
	hostnameBase{},
	ipv4Base{},
	uint16Base{decimal{16}},
	uint8Base{decimal{8}},
	structBase{},
	codesBase{},
	enumBase{},
}

func baseOf(name string) Base {
	for _, b := range bases {
		if b.Name() == name {
			return b
		}
	}
	return nil
}

// declarableBases are the bases a kind statement may name.
func declarableBases() []string {
	var out []string
	for _, b := range bases {
		if b.Name() != Codes {
			out = append(out, b.Name())
		}
	}
	sort.Strings(out)
	return out
}

// Bases lists the names of every base, codes included, in the order they
// are registered: what each back end must have an entry for.
func Bases() []string {
	var out []string
	for _, b := range bases {
		out = append(out, b.Name())
	}
	return out
}

// Impl returns the behaviour of k's base.
func (k *Kind) Impl() Base { return baseOf(k.Base) }
