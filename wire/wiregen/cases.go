package wiregen

import (
	"pgregory.net/rapid"

	"mi/wire"
)

// This file holds the types of the generated tables (zgen.go), which do
// not vary with the spec.

// Case is one message type with its generators.
type Case struct {
	Proto, Tag string
	New        func() wire.Message            // a zero message to decode into
	Valid, Bad *rapid.Generator[wire.Message] // Bad is nil when no field can be invalid
}

func asMessage[M wire.Message](g *rapid.Generator[M]) *rapid.Generator[wire.Message] {
	return rapid.Map(g, func(m M) wire.Message { return m })
}

// Example is a message of the spec's examples.
type Example struct{ Proto, Tag, Input string }

// Invalid is an input every decoder must refuse, with the sentinel and field.
type Invalid struct {
	Proto, Input string
	Err          error
	Field        string
}
