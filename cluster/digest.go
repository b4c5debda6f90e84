package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// UsersDigest is a short digest of a node's user list: the first 16 hex
// digits of the SHA-256 of the names folded to lower case, sorted, without
// duplicates, each followed by a newline. Two nodes with the same users
// have the same digest, whatever their order or case in the config.
func UsersDigest(users []string) string {
	folded := make([]string, len(users))
	for i, u := range users {
		folded[i] = strings.ToLower(u)
	}
	slices.Sort(folded)
	folded = slices.Compact(folded)
	h := sha256.New()
	for _, u := range folded {
		h.Write([]byte(u))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
