package spec

import (
	"strconv"
	"strings"
)

// hostnameBase is a text whose value is also a host name as the spec
// states it: labels separated by dots, none empty (so no leading or
// trailing dot), none longer than label bytes, none starting or ending
// with a byte of edge. Every rule is in the spec and the IR, so a decoder
// in any language checks exactly this, with no DNS library's notion of a
// name (escapes, a trailing root dot) in between.
type hostnameBase struct{ textBase }

func (hostnameBase) Name() string { return Hostname }

func (b hostnameBase) Attrs() []attr {
	return append(b.textBase.Attrs(),
		numberAttr("label", func(k *Kind) *int { return &k.Label }),
		bytesAttr("edge", func(k *Kind) *string { return &k.Edge }))
}

// maxLabel and maxHostname are the limits of RFC 1035 (2.3.4) on a label
// and on a name as text, without its root dot.
const (
	maxLabel    = 63
	maxHostname = 253
)

func (b hostnameBase) Check(k *Kind, r *errs) {
	b.textBase.Check(k, r)
	if k.Max > maxHostname {
		r.errorf(k.limit(), "kind %s: max %d is over %d, the longest host name", k.Name, k.Max, maxHostname)
	}
	if _, ok := k.Attrs["label"]; !ok {
		r.errorf(k.Pos, "kind %s: a hostname needs label, the longest label (at most %d)", k.Name, maxLabel)
	} else if k.Label < 1 || k.Label > maxLabel {
		r.errorf(k.Attrs["label"], "kind %s: label %d: want 1 to %d", k.Name, k.Label, maxLabel)
	}
	if strings.IndexByte(k.Edge, '.') >= 0 {
		r.errorf(k.Attrs["edge"], "kind %s: edge holds the dot, which separates labels", k.Name)
	}
	if k.Min < 1 {
		r.errorf(k.Pos, "kind %s: a hostname needs min 1 or more: an empty value is an empty label", k.Name)
	}
	if !k.Allowed['.'] && k.Label < k.Max && k.Label > 0 {
		r.errorf(k.limit(), "kind %s: max %d is over label %d, and allow leaves no dot to start another label", k.Name, k.Max, k.Label)
	}
	for c := 0; c < 256; c++ {
		if c != '.' && k.Allowed[c] && strings.IndexByte(k.Edge, byte(c)) < 0 {
			return
		}
	}
	r.errorf(k.Pos, "kind %s: allow and edge leave no byte a label could start with", k.Name)
}

func (hostnameBase) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	v, err := decodeText(k, s, off, limit)
	if err != nil {
		return nil, err
	}
	if i, why := BadLabel(v.(string), k.Label, k.Edge); i >= 0 {
		return nil, wireErr("bad_field", "", off+i, "not a host name: %s", why)
	}
	return v, nil
}

// BadLabel is where the first label of v that breaks the host name rules
// starts, and why; -1 when none does.
func BadLabel(v string, label int, edge string) (int, string) {
	for at := 0; ; {
		n := strings.IndexByte(v[at:], '.')
		if n < 0 {
			n = len(v) - at
		}
		l := v[at : at+n]
		switch {
		case l == "":
			return at, "an empty label"
		case len(l) > label:
			return at, "a label over " + strconv.Itoa(label) + " bytes"
		case strings.IndexByte(edge, l[0]) >= 0 || strings.IndexByte(edge, l[len(l)-1]) >= 0:
			return at, "a label starts or ends with " + strconv.Quote(edge)
		}
		at += n + 1
		if at > len(v) {
			return -1, ""
		}
	}
}

func (hostnameBase) DocRules(k *Kind) []string {
	r := append(textRules(k), "labels of 1 to "+strconv.Itoa(k.Label)+" bytes separated by dots")
	if k.Edge != "" {
		r = append(r, "no label starts or ends with "+docByteList(k.Edge))
	}
	return r
}

// Rules are the checks of the decoder as the IR states them (rules.go).
func (hostnameBase) Rules(k *Kind) []Rule {
	return append(textCheckRules(k), Rule{Check: "hostname", Class: "bad_field", At: "byte", Label: k.Label})
}

func (hostnameBase) Aspects() []string {
	return []string{"base", "min", "max", "bytes", "runes", "utf8", "label", "edge"}
}

// A hostname is a text whose receiver also checks its labels: a change
// from or to text narrows or widens by that check, and two hostnames
// compare by their label limits too.
func (hostnameBase) textChecks() []string { return []string{"host names"} }

func (b hostnameBase) Compat(d *diff, o, n *Kind) {
	b.textBase.Compat(d, o, n)
	if o.Base != Hostname || n.Base != Hostname {
		return
	}
	d.limit("label", o, n, o.Label, n.Label, compatLengths)
	var lost, gained []byte
	for c := 0; c < 256; c++ {
		in := func(s string) bool { return strings.IndexByte(s, byte(c)) >= 0 }
		switch {
		case !in(o.Edge) && in(n.Edge):
			lost = append(lost, byte(c))
		case in(o.Edge) && !in(n.Edge):
			gained = append(gained, byte(c))
		}
	}
	op, np := compatAttr(o.Attrs, "edge", o.Pos), compatAttr(n.Attrs, "edge", n.Pos)
	if len(lost) > 0 {
		d.add(true, "edge", op, np, "edge gains %s: a new receiver refuses the labels that start or end with it, which an old peer may send", compatBytes(lost))
	}
	if len(gained) > 0 {
		d.add(false, "edge", op, np, "edge loses %s: an old receiver refuses the labels that start or end with it, which a new peer may send", compatBytes(gained))
	}
}
