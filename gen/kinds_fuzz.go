package main

import (
	"fmt"

	"mi/gen/spec"
)

// fuzzKinds is the fuzz back end's part of each base: the Go call that
// fuzzes what package wire exports to parse or check a whole value of a
// kind (package fuzz: fuzzParse or fuzzCheck), or "" when it exports
// nothing. The target is FuzzKind<GoName>. Each base of gen/spec has an
// entry (TestEveryBaseHasEveryBackEnd).
var fuzzKinds = map[string]func(k *spec.Kind) string{
	spec.Text:     fuzzCheck,
	spec.DNSName:  fuzzCheck,
	spec.Hostname: fuzzCheck,
	spec.IPv4:     noFuzz,
	spec.Uint16:   noFuzz,
	spec.Uint8:    noFuzz,
	spec.Struct:   fuzzParse,
	spec.Codes:    noFuzz,
	spec.Enum:     fuzzCheck,
}

// fuzzCall is the fuzz call of k, or "".
func fuzzCall(k *spec.Kind) string { return fuzzKinds[k.Base](k) }

// fuzzCheck fuzzes a kind's exported CheckN, as the Go back end writes it
// for a kind of Go type string.
func fuzzCheck(k *spec.Kind) string {
	return fmt.Sprintf("fuzzCheck(f, %q, wire.Check%s)", k.Name, k.GoName())
}

// fuzzParse fuzzes a struct kind's exported ParseN.
func fuzzParse(k *spec.Kind) string {
	return fmt.Sprintf("fuzzParse(f, %q, wire.Parse%s)", k.Name, k.GoType)
}

// noFuzz is the entry of a base whose lone values the wire package does
// not export a parser or checker of.
func noFuzz(*spec.Kind) string { return "" }
