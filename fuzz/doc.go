// Package fuzz holds the native Go fuzz targets of the wire codecs:
// go test -fuzz=FuzzDecodePLUMI ./fuzz/ (or make fuzz for all of them).
// Their seed corpus in testdata/fuzz is generated from spec/mi.spec (files
// named spec-*); any other file there is a crasher kept as a regression case.
package fuzz
