package main

import (
	"strconv"

	"mi/gen/spec"
)

// q quotes a string as a Go literal.
func q(s string) string { return strconv.Quote(s) }

// constName is the exported Go name of a protocol fact: PLUMIMax.
func constName(p *spec.Protocol, what string) string { return p.Name + what }
