package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode"

	"mi/wire"
)

var decodeCommand = &command{
	name:     "decode",
	synopsis: "[-hex] MESSAGE",
	summary:  "decode one PMI or PLUMI message and print it as JSON",
	help: `
MESSAGE is decoded as PLUMI if its first bytes are a PLUMI type
(` + strings.Join(wire.PLUMITags[:], " ") + `), else as PMI (` + strings.Join(wire.PMITags[:], " ") + `).
On success it prints one JSON object:

  {"protocol":"PLUMI","type":"PR","fields":{"addr":"u1@PC-c"}}

On failure it prints the error, with the field and byte offset at fault, to
stderr and exits 1.

Examples:
  lumictl decode 'RL0u1@PC-c:u2@PC-d:10.100.100.102:43038'
  lumictl decode N02u1
  lumictl decode -hex '50 52 75 31 40 50 43 2d 63'`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		hexIn := fs.Bool("hex", false, "MESSAGE is hexadecimal bytes (spaces allowed)")
		return func(e *env, args []string) error {
			switch {
			case len(args) == 0:
				return usagef("missing MESSAGE")
			case len(args) > 1:
				return usagef("want one MESSAGE, got %d arguments (quote a message with spaces)", len(args))
			}
			b := []byte(args[0])
			if *hexIn {
				var err error
				if b, err = parseHex(args[0]); err != nil {
					return usagef("-hex: %v", err)
				}
			}
			return decodeMain(e, b)
		}
	},
}

// decoded is the JSON form of a decoded message.
type decoded struct {
	Protocol string          `json:"protocol"`
	Type     string          `json:"type"`
	Fields   json.RawMessage `json:"fields"`
}

func decodeMain(e *env, b []byte) error {
	proto, m, err := decodeAny(b)
	if err != nil {
		fmt.Fprintf(e.stderr, "lumictl decode: %v\n", err)
		pointAt(e.stderr, b, err)
		return errFailed
	}
	fields, err := messageFields(m)
	if err != nil {
		return err
	}
	out, err := json.Marshal(decoded{Protocol: proto, Type: m.Tag(), Fields: fields})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", out)
	return err
}

// parseHex reads hexadecimal bytes, ignoring white space.
func parseHex(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("odd number of hex digits (%d)", len(s))
	}
	return hex.DecodeString(s)
}

// pointAt shows where in b a *wire.Error points, when b prints as is.
func pointAt(w io.Writer, b []byte, err error) {
	var we *wire.Error
	if !errors.As(err, &we) || we.Offset < 0 || we.Offset > len(b) {
		return
	}
	for _, c := range b {
		if c < ' ' || c > '~' {
			return
		}
	}
	fmt.Fprintf(w, "  %s\n  %s^\n", b, strings.Repeat(" ", we.Offset))
}
