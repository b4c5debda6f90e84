// Package spec holds spec/mi.spec, the source of the protocols, for the
// tools that cite it at run time: lumictl conform reports the line of a
// scenario step that failed by finding it in this text, so that the
// generated Go holds no spec line numbers (a line inserted in the spec
// changes no generated file).
package spec

import _ "embed"

// Source is the text of spec/mi.spec.
//
//go:embed mi.spec
var Source string

// File is the path of Source in the repository, as positions cite it.
const File = "spec/mi.spec"
