package cluster

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The store's encoding of a binding: this package's own, read and written
// by no other program, so not a wire format of the protocol.
//
// In the bindings hash, the field is the user and the value is four
// fields separated by single spaces:
//
//	VERSION OWNER ONLINE AGENT        e.g. "7 node-a 1 192.0.2.1:40000"
//
// VERSION is decimal without leading zeros, 1 or more (the Lua script of
// CompareAndSet reads it as a string); OWNER a node id; ONLINE "1" or "0";
// AGENT the agent's address as netip.AddrPort.String writes it. A change
// on the changes channel is the user, a space, and the value:
//
//	USER VERSION OWNER ONLINE AGENT   e.g. "alice 7 node-a 1 192.0.2.1:40000"
//
// A user holds no space, so the first space ends it; AGENT is last, so a
// zone of an IPv6 address may hold anything. Decoding accepts only what
// the encoder writes (canonical numbers and addresses), so that a value
// that decodes is re-encoded byte for byte.

// ErrMalformed is wrapped by the error of a value in the store that does
// not decode: written by something other than this package.
var ErrMalformed = errors.New("malformed")

// ErrInvalid is wrapped by the error of a Binding, a Config or a node id
// that this package refuses to write.
var ErrInvalid = errors.New("invalid")

// DecodeError is a value in the store that does not decode. It wraps
// ErrMalformed.
type DecodeError struct {
	Key    string // the key, and the hash field or "message", escaped
	Field  string // the part that is wrong: "version", "owner", "online", "agent", "user", "value"
	Reason string // why, with the offending text escaped and bounded
}

// Error says where the value is, which part is wrong, and why.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("cluster: %s: %s %s: %s", e.Key, ErrMalformed, e.Field, e.Reason)
}

// Unwrap is ErrMalformed.
func (e *DecodeError) Unwrap() error { return ErrMalformed }

// maxShown bounds the bytes of a stored value quoted in errors and logs.
const maxShown = 64

// quote escapes s for an error or a log line, keeping at most maxShown
// bytes of it.
func quote(s string) string {
	if len(s) <= maxShown {
		return strconv.Quote(s)
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
}

// checkUser says why u cannot be the User of a Binding: it is the hash
// field and the first word of a change, so it is not empty and holds no
// space or control byte; it is valid UTF-8 and folded to lower case, so
// that one user has one key.
func checkUser(u string) string {
	if u == "" {
		return "empty"
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c == 0x7f {
			return fmt.Sprintf("byte %#02x at %d", c, i)
		}
	}
	if !utf8.ValidString(u) {
		return "invalid UTF-8"
	}
	if strings.ToLower(u) != u {
		return "not folded to lower case"
	}
	return ""
}

// CheckNodeID reports whether id can be a node's id: 1 to 64 bytes of
// A-Z a-z 0-9 . _ -.
func CheckNodeID(id string) error {
	if why := checkID(id); why != "" {
		return fmt.Errorf("cluster: node id %s: %w: %s", quote(id), ErrInvalid, why)
	}
	return nil
}

func checkID(id string) string {
	if id == "" {
		return "empty"
	}
	if len(id) > 64 {
		return fmt.Sprintf("%d bytes, more than 64", len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Sprintf("byte %q at %d: want A-Z a-z 0-9 . _ -", c, i)
		}
	}
	return ""
}

// checkAgent says why a cannot be a binding's agent: it must be a valid
// address and port that its string form gives back.
func checkAgent(a netip.AddrPort) string {
	if !a.IsValid() {
		return "no address"
	}
	if a.Port() == 0 {
		return "port 0"
	}
	if b, err := netip.ParseAddrPort(a.String()); err != nil || b != a {
		return fmt.Sprintf("%s does not read back", quote(a.String()))
	}
	return ""
}

// Check reports whether the store can hold b: a User (see Binding), an
// Owner that is a node id, a valid Agent with a port.
func (b Binding) Check() error {
	if why := checkUser(b.User); why != "" {
		return fmt.Errorf("cluster: binding user %s: %w: %s", quote(b.User), ErrInvalid, why)
	}
	if why := checkID(b.Owner); why != "" {
		return fmt.Errorf("cluster: binding of %s: owner %s: %w: %s", b.User, quote(b.Owner), ErrInvalid, why)
	}
	if why := checkAgent(b.Agent); why != "" {
		return fmt.Errorf("cluster: binding of %s: agent: %w: %s", b.User, ErrInvalid, why)
	}
	return nil
}

// appendValue appends the hash value of b (the encoding above).
func appendValue(dst []byte, b Binding) []byte {
	dst = strconv.AppendUint(dst, b.Version, 10)
	dst = append(dst, ' ')
	dst = append(dst, b.Owner...)
	if b.Online {
		dst = append(dst, " 1 "...)
	} else {
		dst = append(dst, " 0 "...)
	}
	return b.Agent.AppendTo(dst)
}

// appendChange appends the changes-channel message of b.
func appendChange(dst []byte, b Binding) []byte {
	dst = append(dst, b.User...)
	dst = append(dst, ' ')
	return appendValue(dst, b)
}

// decodeValue decodes the hash value v of user's field of key.
func decodeValue(key, user, v string) (Binding, error) {
	bad := func(field, reason string) (Binding, error) {
		return Binding{}, &DecodeError{Key: key + "[" + quote(user) + "]", Field: field, Reason: reason}
	}
	if why := checkUser(user); why != "" {
		return bad("user", why)
	}
	b, field, why := parseValue(v)
	if why != "" {
		return bad(field, why)
	}
	b.User = user
	return b, nil
}

// decodeChange decodes a message m of the changes channel key.
func decodeChange(key, m string) (Binding, error) {
	bad := func(field, reason string) (Binding, error) {
		return Binding{}, &DecodeError{Key: key + " message", Field: field, Reason: reason}
	}
	user, v, ok := strings.Cut(m, " ")
	if !ok {
		return bad("value", fmt.Sprintf("%s has no space", quote(m)))
	}
	if why := checkUser(user); why != "" {
		return bad("user", fmt.Sprintf("%s: %s", quote(user), why))
	}
	b, field, why := parseValue(v)
	if why != "" {
		return bad(field, why)
	}
	b.User = user
	return b, nil
}

// parseValue parses a hash value, or says which field is wrong and why.
func parseValue(v string) (b Binding, field, why string) {
	f := strings.SplitN(v, " ", 4)
	if len(f) != 4 {
		return b, "value", fmt.Sprintf("%s: %d fields, want 4", quote(v), len(f))
	}
	var err error
	switch b.Version, err = strconv.ParseUint(f[0], 10, 64); {
	case err != nil:
		return b, "version", fmt.Sprintf("%s is not a number up to %d", quote(f[0]), uint64(math.MaxUint64))
	case f[0][0] == '0':
		return b, "version", fmt.Sprintf("%s: want 1 or more without leading zeros", quote(f[0]))
	}
	b.Owner = f[1]
	if why := checkID(b.Owner); why != "" {
		return b, "owner", fmt.Sprintf("%s: %s", quote(b.Owner), why)
	}
	switch f[2] {
	case "1":
		b.Online = true
	case "0":
	default:
		return b, "online", fmt.Sprintf("%s: want 1 or 0", quote(f[2]))
	}
	if b.Agent, err = netip.ParseAddrPort(f[3]); err != nil {
		return b, "agent", fmt.Sprintf("%s: not an address and port", quote(f[3]))
	}
	if why := checkAgent(b.Agent); why != "" {
		return b, "agent", why
	}
	if b.Agent.String() != f[3] {
		return b, "agent", fmt.Sprintf("%s: not in canonical form", quote(f[3]))
	}
	return b, "", ""
}
