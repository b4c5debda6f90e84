package lineedit

import "unicode/utf8"

// key is a key press read from the terminal.
type key int

const (
	keyNone      key = iota // not one this editor acts on
	keyRune                 // a character typed
	keyEnter                // Enter (CR, LF, CR LF)
	keyBackspace            // Backspace, ^H
	keyDelete               // Delete: the character under the cursor
	keyLeft                 // ←, ^B
	keyRight                // →, ^F
	keyWordLeft             // Alt-← or Ctrl-←, Alt-b
	keyWordRight            // Alt-→ or Ctrl-→, Alt-f
	keyHome                 // Home, ^A
	keyEnd                  // End, ^E
	keyUp                   // ↑, ^P: the previous line of the history
	keyDown                 // ↓, ^N: the next one
	keyKillEnd              // ^K: delete to the end of the line
	keyKillStart            // ^U: delete to the start of the line
	keyKillWord             // ^W: delete the word before the cursor
	keyTranspose            // ^T: swap the characters around the cursor
	keyClear                // ^L: clear the screen
	keyInterrupt            // ^C
	keyEOF                  // ^D: the end of input on an empty line, else Delete
)

var (
	ctrlKeys = map[byte]key{
		'A' & 0x1f: keyHome, 'B' & 0x1f: keyLeft, 'C' & 0x1f: keyInterrupt, 'D' & 0x1f: keyEOF,
		'E' & 0x1f: keyEnd, 'F' & 0x1f: keyRight, 'K' & 0x1f: keyKillEnd, 'L' & 0x1f: keyClear,
		'N' & 0x1f: keyDown, 'P' & 0x1f: keyUp, 'T' & 0x1f: keyTranspose, 'U' & 0x1f: keyKillStart,
		'W' & 0x1f: keyKillWord,
	}
	ss3Keys   = map[byte]key{'A': keyUp, 'B': keyDown, 'C': keyRight, 'D': keyLeft, 'H': keyHome, 'F': keyEnd}
	tildeKeys = map[string]key{"1": keyHome, "7": keyHome, "4": keyEnd, "8": keyEnd, "3": keyDelete}
)

// maxSeq bounds an escape sequence: longer, it is junk and dropped.
const maxSeq = 32

// nextKey reads the key that b begins with: the key, the character typed
// for keyRune, and the bytes it took, 0 if b holds only the beginning of
// a key (an escape sequence or a UTF-8 character cut by the end of a
// read).
func nextKey(b []byte) (key, rune, int) {
	if len(b) == 0 {
		return keyNone, 0, 0
	}
	switch c := b[0]; c {
	case '\r':
		if len(b) > 1 && b[1] == '\n' {
			return keyEnter, 0, 2
		}
		return keyEnter, 0, 1
	case '\n':
		return keyEnter, 0, 1
	case 0x7f, 'H' & 0x1f:
		return keyBackspace, 0, 1
	case 0x1b:
		return escape(b)
	}
	if c := b[0]; c < 0x20 {
		return ctrlKeys[c], 0, 1
	}
	if !utf8.FullRune(b) {
		return keyNone, 0, 0
	}
	r, n := utf8.DecodeRune(b)
	if !typable(r) {
		return keyNone, 0, n
	}
	return keyRune, r, n
}

// escape reads a key that begins with ESC: CSI (ESC [) and SS3 (ESC O)
// sequences of the cursor keys, Alt with a letter.
func escape(b []byte) (key, rune, int) {
	if len(b) < 2 {
		return keyNone, 0, 0
	}
	switch b[1] {
	case 'b':
		return keyWordLeft, 0, 2
	case 'f':
		return keyWordRight, 0, 2
	case 'O':
		if len(b) < 3 {
			return keyNone, 0, 0
		}
		return ss3Keys[b[2]], 0, 3
	case '[':
	default:
		if b[1] < utf8.RuneSelf {
			return keyNone, 0, 2 // Alt with a key not bound
		}
		return keyNone, 0, 1
	}
	i := 2
	for i < len(b) && i < maxSeq && b[i] >= 0x20 && b[i] <= 0x3f { // parameters, intermediates
		i++
	}
	switch {
	case i == maxSeq:
		return keyNone, 0, i
	case i == len(b):
		return keyNone, 0, 0
	case b[i] < 0x40 || b[i] > 0x7e:
		return keyNone, 0, i // not a sequence: drop what was read of it
	}
	params, final := string(b[2:i]), b[i]
	n := i + 1
	switch final {
	case 'A':
		return keyUp, 0, n
	case 'B':
		return keyDown, 0, n
	case 'C', 'D':
		word := params == "1;3" || params == "1;5" // Alt, Ctrl
		switch {
		case final == 'C' && word:
			return keyWordRight, 0, n
		case final == 'C':
			return keyRight, 0, n
		case word:
			return keyWordLeft, 0, n
		}
		return keyLeft, 0, n
	case 'H':
		return keyHome, 0, n
	case 'F':
		return keyEnd, 0, n
	case '~':
		return tildeKeys[params], 0, n
	}
	return keyNone, 0, n
}
