package main

import (
	"fmt"
	"strconv"
	"strings"

	"mi/gen/spec"
)

// This file holds what the Go back end shares between kinds and messages:
// the code that reads, checks and writes a list of items, as the model's
// decoder does (gen/spec/decode.go).

// lower is a Go name with its first letter (or a leading initialism) lower-cased.
func lower(s string) string {
	if s == strings.ToUpper(s) {
		return strings.ToLower(s)
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// goCtx says how item code reads and fails inside one function.
type goCtx struct {
	Dst   string              // value prefix: "m." or "v."
	Wrap  func(string) string // wraps an error expression
	Ret   string              // what precedes the error in a return
	Limit string              // end of the current span
}

// fail is the statement that returns the error of a field check with a
// fixed reason.
func (c *goCtx) fail(sentinel, field, off, reason string) string {
	return c.ret(fmt.Sprintf("fieldErr(%s, %q, %s, %s)", sentinel, field, off, reason))
}

// ret is the statement that returns the error err.
func (c *goCtx) ret(err string) string { return "return " + c.Ret + c.Wrap(err) }

// rest is the unread span.
func (c *goCtx) rest() string {
	if c.Limit == "len(s)" {
		return "s[off:]"
	}
	return "s[off:" + c.Limit + "]"
}

// decodeOps writes the code that runs ops over s[off:limit], as the model's
// decoder does (decode.go); framed says a length prefix bounds the input.
// needOff says whether code after the ops reads off.
func (g w) decodeOps(c *goCtx, ops []spec.Op, framed, needOff bool) {
	for i, op := range ops {
		last := i == len(ops)-1 && !needOff
		if op.Lit != "" {
			if !op.Found {
				g.p("if !strings.HasPrefix(%s, %q) { %s }", c.rest(), op.Lit, c.fail("ErrBadSeparator", op.After, "off", strconv.Quote("want "+strconv.Quote(op.Lit))))
			}
			switch {
			case last:
			case len(op.Lit) == 1:
				g.p("off++")
			default:
				g.p("off += %d", len(op.Lit))
			}
			continue
		}
		f := op.Field
		switch w := f.Kind.Impl().Width(f.Kind); {
		case w > 0:
			g.p("if off+%d > %s { %s }", w, c.Limit, c.fail("ErrTruncated", f.Name, "off", `"missing"`))
			g.p("end = off + %d", w)
		default:
			if !framed {
				g.p("if off == len(s) { %s }", c.fail("ErrTruncated", f.Name, "off", `"missing"`))
			}
			if op.Term != 0 {
				g.p("if end = strings.IndexByte(%s, %q); end < 0 { %s }", c.rest(), op.Term, c.fail("ErrBadSeparator", f.Name, c.Limit, strconv.Quote("missing "+strconv.QuoteRune(rune(op.Term)))))
				g.p("end += off")
			} else {
				g.p("end = %s", c.Limit)
			}
		}
		g.p("if %s%s, err = parse%s(s, off, end, %q); err != nil { return %s%s }", c.Dst, spec.Exported(f.Name), f.Kind.GoName(), f.Name, c.Ret, c.Wrap("err"))
		if !last {
			g.p("off = end")
		}
	}
}

// checkItems writes the encoder's validation of items, tracking the offset
// each field would have on the wire.
func (g w) checkItems(c *goCtx, items []spec.Item) {
	for i, it := range items {
		last := i == len(items)-1
		switch {
		case it.Literal != "":
			if !last {
				g.p("off += %d", len(it.Literal))
			}
		case it.Field != nil:
			f := it.Field
			v := c.Dst + spec.Exported(f.Name)
			g.p("if err := check%s(%s, %q, off); err != nil { return %s }", f.Kind.GoName(), v, f.Name, c.Wrap("err"))
			if !last {
				g.p("off += len%s(%s)", f.Kind.GoName(), v)
			}
		case it.Cond != nil:
			cd := it.Cond
			g.p("if %s%s == %s {", c.Dst, spec.Exported(cd.Field.Name), spec.CodeConst(cd.Field.Kind, cd.Code))
			g.checkItems(c, cd.Items)
			g.p("} else {")
			for _, f := range spec.FieldsOf(cd.Items) {
				g.p("if %s%s != %s { %s }", c.Dst, spec.Exported(f.Name), goOf(f.Kind).zero(f.Kind),
					c.fail("ErrAbsent", f.Name, "off", strconv.Quote(fmt.Sprintf("set, but %s is not %s", cd.Field.Name, cd.Code.Name))))
			}
			g.p("}")
		}
	}
}

// walkItems writes, for each item in wire order, the line lit or field
// gives, with a condition's items under an if: the shape that the encoder
// and the length computation share.
func (g w) walkItems(dst string, items []spec.Item, lit func(string) string, field func(*spec.Field) string) {
	for _, it := range items {
		switch {
		case it.Literal != "":
			g.p("%s", lit(it.Literal))
		case it.Field != nil:
			g.p("%s", field(it.Field))
		case it.Cond != nil:
			g.p("if %s%s == %s {", dst, spec.Exported(it.Cond.Field.Name), spec.CodeConst(it.Cond.Field.Kind, it.Cond.Code))
			g.walkItems(dst, it.Cond.Items, lit, field)
			g.p("}")
		}
	}
}

// appendItems writes the encoder of items.
func (g w) appendItems(dst string, items []spec.Item) {
	g.walkItems(dst, items, appendLit, func(f *spec.Field) string {
		return fmt.Sprintf("b = append%s(b, %s%s)", f.Kind.GoName(), dst, spec.Exported(f.Name))
	})
}

// lenItems writes the length computation of items.
func (g w) lenItems(dst string, items []spec.Item) {
	g.walkItems(dst, items, func(l string) string { return fmt.Sprintf("n += %d", len(l)) }, func(f *spec.Field) string {
		return fmt.Sprintf("n += len%s(%s%s)", f.Kind.GoName(), dst, spec.Exported(f.Name))
	})
}

// appendLit is the Go statement that appends literal l.
func appendLit(l string) string {
	if len(l) == 1 {
		return fmt.Sprintf("b = append(b, %s)", strconv.QuoteRune(rune(l[0])))
	}
	return fmt.Sprintf("b = append(b, %s...)", strconv.Quote(l))
}
