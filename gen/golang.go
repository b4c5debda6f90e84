package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"mi/gen/spec"
)

// goFiles is the Go back end: the wire package's types and codecs.
func goFiles(s *spec.Spec) ([]file, error) {
	var out []file
	for _, gen := range []struct {
		path string
		fn   func(*bytes.Buffer, *spec.Spec)
	}{
		{"wire/zconst.go", genConsts},
		{"wire/zkinds.go", genKinds},
		{"wire/zmessages.go", genMessages},
	} {
		var b bytes.Buffer
		gen.fn(&b, s)
		f, err := gofile(gen.path, &b)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// w writes Go source lines; gofmt tidies the layout afterwards.
type w struct{ *bytes.Buffer }

// p writes one formatted line.
func (g w) p(format string, args ...any) {
	fmt.Fprintf(g, format, args...)
	g.WriteByte('\n')
}

func newW(b *bytes.Buffer) w { return w{b} }

func genConsts(b *bytes.Buffer, s *spec.Spec) {
	header(b, s, "wire", "time")
	g := newW(b)
	g.p("// Protocol facts.")
	g.p("const (")
	for _, p := range s.Protocols {
		g.p("// %s: %s, over %s.", p.Name, p.Doc, strings.ToUpper(p.Transport))
		g.p("%s = %d // largest message in bytes", constName(p, "Max"), p.Max)
		if p.Port != 0 {
			g.p("%s = %d // %s", constName(p, "Port"), p.Port, p.PortDoc)
		}
		g.p("%s = %d // bytes of the type tag", constName(p, "TagLen"), p.TagLen)
		if p.LengthDigits > 0 {
			g.p("%s = %d // %s", constName(p, "HeaderLen"), p.TagLen+p.LengthDigits, "tag and length")
			g.p("%s = %d // largest info", constName(p, "MaxInfo"), pow10(p.LengthDigits)-1)
		}
	}
	g.p(")\n")
	g.p("var _ time.Duration // not every spec needs every import\n")
	g.p("// Behaviour constants.")
	g.p("const (")
	for _, c := range s.Consts {
		if c.Unit == "ms" {
			g.p("%s = %d * time.Millisecond // %s", c.Name, c.Value, c.Doc)
		} else {
			g.p("%s = %d // %s", c.Name, c.Value, c.Doc)
		}
	}
	g.p(")\n")
	g.p("// Length limits of the field kinds, in bytes.")
	g.p("const (")
	for _, k := range s.Kinds {
		if k.Base != spec.Codes {
			g.p("Max%sLen = %d // %s", k.GoName(), k.MaxLen(), k.Doc)
		}
	}
	g.p(")\n")
	g.p("// Message type tags.")
	g.p("const (")
	for _, m := range s.Messages {
		g.p("Tag%s = %q // %s", m.GoType, m.Tag, m.Doc)
	}
	g.p(")")
	genRoles(g, s)
}

// genRoles writes what each message is for (wire.Role, in wire.go), so
// that a server tells a request it does not serve from a reply sent to it
// by mistake.
func genRoles(g w, s *spec.Spec) {
	for _, p := range s.Protocols {
		g.p("\n// %sRole returns the role of the %s message with tag and, for a", p.Name, p.Name)
		g.p("// reply, the tag of the (first) request it answers; %sAnswers tells", p.Name)
		g.p("// whether it answers another. An unknown tag is RoleOther.")
		g.p("func %sRole(tag string) (Role, string) {", p.Name)
		g.p("switch tag {")
		for _, m := range s.MessagesOf(p) {
			switch s.Role(m) {
			case spec.RoleRequest:
				g.p("case Tag%s: return RoleRequest, \"\"", m.GoType)
			case spec.RoleReply:
				g.p("case Tag%s: return RoleReply, Tag%s", m.GoType, m.Answers[0].GoType)
			}
		}
		g.p("}")
		g.p("return RoleOther, \"\"")
		g.p("}")
		genAnswers(g, s, p)
	}
}

// genAnswers writes whether a reply answers a request, so that a client
// with a request pending knows a reply for it from a stray one.
func genAnswers(g w, s *spec.Spec, p *spec.Protocol) {
	g.p("\n// %sAnswers reports whether the %s message with tag reply answers the", p.Name, p.Name)
	g.p("// request with tag request.")
	g.p("func %sAnswers(reply, request string) bool {", p.Name)
	g.p("switch reply {")
	for _, m := range s.MessagesOf(p) {
		if len(m.Answers) == 0 {
			continue
		}
		var reqs []string
		for _, o := range m.Answers {
			reqs = append(reqs, "request == Tag"+o.GoType)
		}
		g.p("case Tag%s: return %s", m.GoType, strings.Join(reqs, " || "))
	}
	g.p("}")
	g.p("return false")
	g.p("}")
}

func pow10(d int) int {
	n := 1
	for ; d > 0; d-- {
		n *= 10
	}
	return n
}

// classBits writes what holds wire's byteClass bits to the values the
// generator writes its tables with: a constant index out of range does not
// compile, so kinds.go and kinds_go.go cannot drift apart unseen.
func classBits(g w) {
	g.p("\n// The byteClass bits the tables below were written with: if wire's")
	g.p("// kinds.go gives them other values, this file does not compile.")
	for _, c := range []struct {
		name string
		bit  int
	}{{"cPlain", cPlain}, {"cUTF8", cUTF8}, {"cDot", cDot}, {"cEdge", cEdge}} {
		g.p("var _ = [1]struct{}{}[%s-%d]", c.name, c.bit)
	}
}

func genKinds(b *bytes.Buffer, s *spec.Spec) {
	imports := []string{"errors", "net/netip", "strconv", "strings", "unicode/utf8"}
	if slices.ContainsFunc(s.Kinds, func(k *spec.Kind) bool { return k.Base == spec.DNSName }) {
		// Only a dnsname kind calls a DNS library: the wire package of a
		// spec without one does not link it.
		imports = append(imports, "github.com/miekg/dns")
	}
	header(b, s, "wire", imports...)
	g := newW(b)
	g.p("var _ = strings.IndexByte // not every spec needs every import")
	g.p("var _ = errors.New")
	g.p("var _ = utf8.ValidString")
	g.p("var _ netip.Addr")
	g.p("var _ = strconv.Itoa")
	classBits(g)
	for _, k := range s.Kinds {
		g.p("\n// Kind %s (%s): %s.", k.Name, k.Base, k.Doc)
		goOf(k).write(g, k)
	}
}
