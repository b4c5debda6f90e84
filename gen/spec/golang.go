package spec

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// This file holds what the Go back end shares between kinds and messages:
// names, and the code that reads, checks and writes a list of items. The
// back end itself is in gen/; each base writes its own functions.

// Go writes Go source lines; gofmt tidies the layout afterwards.
type Go struct{ *bytes.Buffer }

// P writes one formatted line.
func (g Go) P(format string, args ...any) {
	fmt.Fprintf(g, format, args...)
	g.WriteByte('\n')
}

// initialisms keep Go's spelling of common abbreviations.
var initialisms = map[string]string{}

func init() {
	for _, w := range strings.Fields("ACL API ASCII CPU CSS DNS EOF GUID HMAC HTML HTTP HTTPS ID IP JSON MAC OK QPS RAM RPC SMTP SQL SSH TCP TLS TTL UDP UI UID UUID URI URL UTF8 VM XML XMPP") {
		initialisms[strings.ToLower(w)] = w
	}
}

// Exported turns a spec name into an exported Go name: ttl -> TTL,
// peer_ip -> PeerIP, user -> User.
func Exported(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if v, ok := initialisms[strings.ToLower(part)]; ok {
			b.WriteString(v)
		} else if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// GoName is the suffix of a kind's Go functions: parseUser, checkAddress.
func (k *Kind) GoName() string {
	if k.GoType != "" {
		return k.GoType
	}
	return Exported(k.Name)
}

// CodeConst is the Go constant of a code: LocateCode Found -> LocateFound.
func CodeConst(k *Kind, c *Code) string {
	return strings.TrimSuffix(k.GoType, "Code") + c.Name
}

// Lower is a Go name with its first letter (or a leading initialism) lower-cased.
func Lower(s string) string {
	if s == strings.ToUpper(s) {
		return strings.ToLower(s)
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// GoCtx says how item code reads and fails inside one function.
type GoCtx struct {
	Dst   string              // value prefix: "m." or "v."
	Wrap  func(string) string // wraps an error expression
	Ret   string              // what precedes the error in a return
	Limit string              // end of the current span
}

func (c *GoCtx) fail(sentinel, field, off, reason string) string {
	return fmt.Sprintf("return %s%s", c.Ret, c.Wrap(fmt.Sprintf("fieldErr(%s, %q, %s, %s)", sentinel, field, off, reason)))
}

// rest is the unread span.
func (c *GoCtx) rest() string {
	if c.Limit == "len(s)" {
		return "s[off:]"
	}
	return "s[off:" + c.Limit + "]"
}

// DecodeOps writes the code that runs ops over s[off:limit], as the model's
// decoder does (decode.go); framed says a length prefix bounds the input.
// needOff says whether code after the ops reads off.
func (g Go) DecodeOps(c *GoCtx, ops []Op, framed, needOff bool) {
	for i, op := range ops {
		last := i == len(ops)-1 && !needOff
		if op.Lit != "" {
			if !op.Found {
				g.P("if !strings.HasPrefix(%s, %q) { %s }", c.rest(), op.Lit, c.fail("ErrBadSeparator", op.After, "off", strconv.Quote("want "+strconv.Quote(op.Lit))))
			}
			switch {
			case last:
			case len(op.Lit) == 1:
				g.P("off++")
			default:
				g.P("off += %d", len(op.Lit))
			}
			continue
		}
		f := op.Field
		switch w := f.Kind.Impl().Width(f.Kind); {
		case w > 0:
			g.P("if off+%d > %s { %s }", w, c.Limit, c.fail("ErrTruncated", f.Name, "off", `"missing"`))
			g.P("end = off + %d", w)
		default:
			if !framed {
				g.P("if off == len(s) { %s }", c.fail("ErrTruncated", f.Name, "off", `"missing"`))
			}
			if op.Term != 0 {
				g.P("if end = strings.IndexByte(%s, %q); end < 0 { %s }", c.rest(), op.Term, c.fail("ErrBadSeparator", f.Name, c.Limit, strconv.Quote("missing "+strconv.QuoteRune(rune(op.Term)))))
				g.P("end += off")
			} else {
				g.P("end = %s", c.Limit)
			}
		}
		g.P("if %s%s, err = parse%s(s, off, end, %q); err != nil { return %s%s }", c.Dst, Exported(f.Name), f.Kind.GoName(), f.Name, c.Ret, c.Wrap("err"))
		if !last {
			g.P("off = end")
		}
	}
}

// CheckItems writes the encoder's validation of items, tracking the offset
// each field would have on the wire.
func (g Go) CheckItems(c *GoCtx, items []Item) {
	for i, it := range items {
		last := i == len(items)-1
		switch {
		case it.Literal != "":
			if !last {
				g.P("off += %d", len(it.Literal))
			}
		case it.Field != nil:
			f := it.Field
			v := c.Dst + Exported(f.Name)
			g.P("if err := check%s(%s, %q, off); err != nil { return %s }", f.Kind.GoName(), v, f.Name, c.Wrap("err"))
			if !last {
				g.P("off += len%s(%s)", f.Kind.GoName(), v)
			}
		case it.Cond != nil:
			cd := it.Cond
			g.P("if %s%s == %s {", c.Dst, Exported(cd.Field.Name), CodeConst(cd.Field.Kind, cd.Code))
			g.CheckItems(c, cd.Items)
			g.P("} else {")
			for _, f := range fieldsOf(cd.Items) {
				g.P("if %s%s != %s { %s }", c.Dst, Exported(f.Name), f.Kind.Impl().GoZero(f.Kind),
					c.fail("ErrAbsent", f.Name, "off", strconv.Quote(fmt.Sprintf("set, but %s is not %s", cd.Field.Name, cd.Code.Name))))
			}
			g.P("}")
		}
	}
}

// walkItems writes, for each item in wire order, the line lit or field
// gives, with a condition's items under an if: the shape that the encoder
// and the length computation share.
func (g Go) walkItems(dst string, items []Item, lit func(string) string, field func(*Field) string) {
	for _, it := range items {
		switch {
		case it.Literal != "":
			g.P("%s", lit(it.Literal))
		case it.Field != nil:
			g.P("%s", field(it.Field))
		case it.Cond != nil:
			g.P("if %s%s == %s {", dst, Exported(it.Cond.Field.Name), CodeConst(it.Cond.Field.Kind, it.Cond.Code))
			g.walkItems(dst, it.Cond.Items, lit, field)
			g.P("}")
		}
	}
}

// AppendItems writes the encoder of items.
func (g Go) AppendItems(dst string, items []Item) {
	g.walkItems(dst, items, appendLit, func(f *Field) string {
		return fmt.Sprintf("b = append%s(b, %s%s)", f.Kind.GoName(), dst, Exported(f.Name))
	})
}

// LenItems writes the length computation of items.
func (g Go) LenItems(dst string, items []Item) {
	g.walkItems(dst, items, func(l string) string { return fmt.Sprintf("n += %d", len(l)) }, func(f *Field) string {
		return fmt.Sprintf("n += len%s(%s%s)", f.Kind.GoName(), dst, Exported(f.Name))
	})
}

// appendLit is the Go statement that appends literal l.
func appendLit(l string) string {
	if len(l) == 1 {
		return fmt.Sprintf("b = append(b, %s)", strconv.QuoteRune(rune(l[0])))
	}
	return fmt.Sprintf("b = append(b, %s...)", strconv.Quote(l))
}

// FieldsOf lists the fields of items in wire order, descending into conditions.
func FieldsOf(items []Item) []*Field { return fieldsOf(items) }
