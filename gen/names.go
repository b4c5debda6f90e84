package main

import (
	"fmt"
	"strconv"
	"strings"

	"mi/gen/spec"
)

// initialisms keep Go's spelling of common abbreviations.
var initialisms = map[string]string{"ip": "IP", "id": "ID", "ok": "OK", "tcp": "TCP", "udp": "UDP"}

// exported turns a spec name into an exported Go name.
func exported(name string) string {
	if v, ok := initialisms[strings.ToLower(name)]; ok {
		return v
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// kindName is the suffix of a kind's Go functions: parseUser, checkAddress.
func kindName(k *spec.Kind) string {
	if k.GoType != "" {
		return k.GoType
	}
	return exported(k.Name)
}

// goType is the Go type of a value of k.
func goType(k *spec.Kind) string {
	switch k.Base {
	case spec.Text, spec.DNSName:
		return "string"
	case spec.IPv4:
		return "netip.Addr"
	case spec.Uint16:
		return "uint16"
	}
	return k.GoType
}

// zero is the zero value of k's Go type, ready to compare with.
func zero(k *spec.Kind) string {
	switch k.Base {
	case spec.Text, spec.DNSName:
		return `""`
	case spec.IPv4:
		return "(netip.Addr{})"
	case spec.Struct:
		return "(" + k.GoType + "{})"
	}
	return "0"
}

// codeConst is the Go constant of a code: LocateCode Found -> LocateFound.
func codeConst(k *spec.Kind, c *spec.Code) string {
	return strings.TrimSuffix(k.GoType, "Code") + c.Name
}

// q quotes a string as a Go literal.
func q(s string) string { return strconv.Quote(s) }

// lit is the Go expression that appends literal l.
func appendLit(l string) string {
	if len(l) == 1 {
		return fmt.Sprintf("b = append(b, %s)", strconv.QuoteRune(rune(l[0])))
	}
	return fmt.Sprintf("b = append(b, %s...)", q(l))
}

// constName is the exported Go name of a protocol fact: PLUMIMax.
func constName(p *spec.Protocol, what string) string { return p.Name + what }
