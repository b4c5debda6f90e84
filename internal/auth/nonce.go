package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"mi/wire"
)

// Nonces makes the nonces of a node's challenges (RA) and checks them when
// they come back in a PA, with no table: each nonce carries its own proof,
// as a SYN cookie, a DNS server cookie (RFC 7873) or a QUIC Retry token
// does, so that challenges sent to spoofed sources cost the node nothing
// but the answer.
//
// A nonce is 64 bits, the 16 lower-case hex digits of the spec's kind
// nonce:
//
//	bits 63..48  the time it was made, in milliseconds since the Unix
//	             epoch, modulo 2^16 (NonceTimeBits)
//	bits 47..0   the first 48 bits (NonceMACBits) of HMAC-SHA256, keyed
//	             with the node's key, of the nonce's label, the op, the
//	             full time in milliseconds, the source address and port
//	             it was sent to, and the user, folded by the caller
//
// Check takes the time from the nonce and the rest from the PA and its
// source, and computes the MAC again: a nonce holds only from the source it
// was sent to, for that user and op, for wire.AuthNonceTTL after it was
// made. The 16 bits of time only say which instant of the last 65 seconds
// the MAC was made at; a nonce older than that reads as a younger one,
// whose MAC differs.
//
// A forged nonce is accepted with probability 2^-48 per guess (3.6e-15):
// sent at 50,000 a second, one in 180 years. Even then the PA must still
// carry the user's mac. The key is drawn at random when the Nonces is made
// and never leaves it: a node that restarts refuses the nonces it sent
// before, and the agent's PA gets a fresh RA, which it answers
// (plumi.Client answers two).
type Nonces struct {
	key  [32]byte
	macs sync.Pool // of hash.Hash: HMAC-SHA256 under key
}

// The split of a nonce's 64 bits.
const (
	NonceTimeBits = 16
	NonceMACBits  = 64 - NonceTimeBits
)

// NonceSkew is how far after the checker's clock a nonce's time may be:
// the node's workers read the clock once per batch, so a nonce one of them
// made may come back to another whose time was read a little before.
const NonceSkew = time.Second

// nonceLabel starts every MAC, so that no other use of a key could make
// the same bytes.
const nonceLabel = "mi RA nonce 1\x00"

// NewNonces returns Nonces under a key drawn from the system's
// cryptographic source.
func NewNonces() *Nonces {
	n := &Nonces{}
	rand.Read(n.key[:]) // never fails (crypto/rand)
	n.macs.New = func() any { return hmac.New(sha256.New, n.key[:]) }
	return n
}

// Make returns the nonce for an RA of op for user sent to src at t; user
// is folded as the caller compares names (the node: lower case), so that
// the nonce holds for the user however a PA spells it. The same arguments
// within a millisecond make the same nonce.
func (n *Nonces) Make(src netip.AddrPort, user string, op wire.AuthOp, t time.Time) string {
	ms := t.UnixMilli()
	v := uint64(ms)<<NonceMACBits | n.mac(src, user, op, ms)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return hex.EncodeToString(b[:])
}

// Check says whether nonce is one that Make made for src, user and op no
// longer than wire.AuthNonceTTL before now (and no more than NonceSkew
// after it), and when it was made. It compares the MAC in constant time.
func (n *Nonces) Check(nonce string, src netip.AddrPort, user string, op wire.AuthOp, now time.Time) (made time.Time, ok bool) {
	if len(nonce) != 16 {
		return time.Time{}, false
	}
	v, err := strconv.ParseUint(nonce, 16, 64)
	if err != nil {
		return time.Time{}, false
	}
	// The full time is the one nearest now with the nonce's low bits.
	nowMs := now.UnixMilli()
	ms := nowMs + int64(int16(uint16(v>>NonceMACBits)-uint16(nowMs)))
	age := time.Duration(nowMs-ms) * time.Millisecond
	if age >= wire.AuthNonceTTL || age < -NonceSkew {
		return time.Time{}, false
	}
	var got, want [8]byte
	binary.BigEndian.PutUint64(got[:], v<<NonceTimeBits)
	binary.BigEndian.PutUint64(want[:], n.mac(src, user, op, ms)<<NonceTimeBits)
	if subtle.ConstantTimeCompare(got[:NonceMACBits/8], want[:NonceMACBits/8]) != 1 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// mac is the low NonceMACBits of a nonce made at ms for src, user and op.
func (n *Nonces) mac(src netip.AddrPort, user string, op wire.AuthOp, ms int64) uint64 {
	var in [64]byte
	b := append(in[:0], nonceLabel...)
	b = append(b, byte(op))
	b = binary.BigEndian.AppendUint64(b, uint64(ms))
	a := src.Addr().As16() // an IPv4 source as IPv4-mapped, however it came
	b = append(b, a[:]...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	h := n.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(b)
	h.Write([]byte(user))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	n.macs.Put(h)
	return binary.BigEndian.Uint64(sum[:8]) >> NonceTimeBits
}
