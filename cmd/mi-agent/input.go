package main

import (
	"strings"
	"unicode/utf8"

	"mi/wire"
)

// splitInput cuts a line typed for the peer into the lines sent, each of
// at most wire.MaxLineLen bytes: after the last space that fits (the space
// stays at the end of its part, so the parts joined give the line back),
// or, in a word longer than a line, at the last UTF-8 boundary that fits
// (a byte that is not UTF-8 counts as one character). A line that is
// empty or only spaces gives none.
func splitInput(line string) []string {
	if strings.TrimSpace(line) == "" {
		return nil
	}
	var parts []string
	for len(line) > wire.MaxLineLen {
		cut := strings.LastIndexByte(line[:wire.MaxLineLen], ' ') + 1
		if cut == 0 {
			for cut < len(line) {
				_, n := utf8.DecodeRuneInString(line[cut:])
				if cut+n > wire.MaxLineLen {
					break
				}
				cut += n
			}
		}
		parts = append(parts, line[:cut])
		line = line[cut:]
	}
	return append(parts, line)
}
