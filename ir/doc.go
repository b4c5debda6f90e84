// Package ir holds what reads the spec IR (go run ./gen -ir) in languages
// other than Go, and the tests that hold them to the Go decoders: python/
// is a decoder of both protocols written against the IR and docs/ir.md
// alone. Its tests run it over every example and invalid input of the
// spec, and over mutated messages, comparing its verdicts (class, field,
// offset, and the fields of what it accepts) with the generated wire
// package's.
package ir
