package node

import (
	"strconv"
	"sync/atomic"

	"mi/wire"
)

// counters are what one goroutine of the node counts: each worker has its
// own, and so do the sweep and the DNS lookups between them. Only that
// goroutine writes them, so an Add contends with nobody; they are atomics
// so that a scrape can read them at any time without a lock, and the
// collector sums them then (Node.Collector).
type counters struct {
	received    atomic.Uint64 // datagrams read
	sent        atomic.Uint64 // datagrams sent: replies, forwards, checks, challenges
	requests    [len(wire.PLUMITags) + 1][outcomes]atomic.Uint64
	lateDrops   [dropReasons]atomic.Uint64  // PLs dropped after their DNS lookup; other drops are requests' outcomes
	forwarded   [forwardKinds]atomic.Uint64 // locates forwarded, by where
	routed      atomic.Uint64               // RLs routed back to their asker
	unanswered  [forwardKinds]atomic.Uint64 // forwarded locates that ended with no RL
	takeovers   [takeoverResults]atomic.Uint64
	challenges  [challengeResults]atomic.Uint64
	proofs      [proofResults]atomic.Uint64
	rateLimited [limitKinds]atomic.Uint64
	freezes     atomic.Uint64 // users frozen by refused requests from other addresses
	_           [64]byte      // the next goroutine's counters start on a cache line of their own
}

// invalidType is the row of requests for datagrams that did not decode.
const invalidType = len(wire.PLUMITags)

// typeName is the type label of row i of requests.
func typeName(i int) string {
	if i == invalidType {
		return "invalid"
	}
	return wire.PLUMITags[i]
}

// outcome is what the node did with one datagram it read: the reply it
// sent, what it did instead, or why it dropped it.
type outcome uint8

const (
	outNone         outcome = iota // nothing to say: a check's answer, or a PR while its check is in flight
	outRR0                         // the node's replies, by code
	outRR1                         //
	outRR2                         //
	outRD0                         //
	outRD1                         //
	outRD2                         //
	outRL2                         //
	outRL3                         //
	outForwarded                   // a PL forwarded, an RL routed back
	outResolving                   // a PL waits for its domain's node to be found
	outCheck                       // a PR from a new address started a takeover check
	outCheckPending                // a PR while its check is in flight: its retry gets the verdict
	outChallenged                  // an RA sent: the user must prove its secret
	outSettling                    // with a store: a PR or PD that changes a binding, answered once the store has it
	outDropped                     // first of the drop reasons, in dropReason's order
	outcomes        = outDropped + outcome(dropReasons)
)

// outcomeNames are the outcome label's values. The replies' are the
// replies' own first bytes, as the protocol's documents name them (RR0,
// RL3); a test holds them to the encoder's output.
var outcomeNames = func() (names [outcomes]string) {
	names[outNone] = "none"
	names[outForwarded] = "forwarded"
	names[outResolving] = "resolving"
	names[outCheck] = "check_started"
	names[outCheckPending] = "check_pending"
	names[outChallenged] = "challenged"
	names[outSettling] = "settling"
	names[outRR0] = string(replyRR0)
	names[outRR1] = string(replyRR1)
	names[outRR2] = string(replyRR2)
	names[outRD0] = string(replyRD0)
	names[outRD1] = string(replyRD1)
	names[outRD2] = string(replyRD2)
	names[outRL2] = wire.TagLocateReply + strconv.Itoa(int(wire.LocateUnknown))
	names[outRL3] = wire.TagLocateReply + strconv.Itoa(int(wire.LocateOffline))
	for r := range dropReasons {
		names[outDropped+outcome(r)] = dropLabels[r]
	}
	return names
}()

// replyOutcome is the outcome of sending one of the fieldless replies.
func replyOutcome(reply []byte) outcome {
	for o := outRR0; o <= outRD2; o++ {
		if outcomeNames[o] == string(reply) {
			return o
		}
	}
	return outNone
}

// locateOutcome is the outcome of an RL the node answers with itself.
func locateOutcome(code wire.LocateCode) outcome {
	if code == wire.LocateOffline {
		return outRL3
	}
	return outRL2
}

// forwardKind is where a locate went.
type forwardKind uint8

const (
	toAgent   forwardKind = iota // one of the domain's agents
	toDomain                     // another domain's node
	toSibling                    // another node of this domain, which holds the target's agent
	forwardKinds
)

var forwardNames = [forwardKinds]string{toAgent: "agent", toDomain: "domain", toSibling: "sibling"}

// takeoverResult is a step of a takeover check (core.registerUser).
type takeoverResult uint8

const (
	takeoverStarted takeoverResult = iota // a PR from a new address for a user online elsewhere
	takeoverRefused                       // the registered agent answered: the new address got RR1
	takeoverMoved                         // the registered agent was silent: the new address got RR0
	takeoverResults
)

var takeoverNames = [takeoverResults]string{takeoverStarted: "started", takeoverRefused: "refused", takeoverMoved: "moved"}

// challengeResult is what became of a PR or PD that needed proof.
type challengeResult uint8

const (
	challengeSent    challengeResult = iota
	challengeLimited                 // its source asked more than its rate
	challengeResults
)

var challengeNames = [challengeResults]string{challengeSent: "sent", challengeLimited: "rate_limited"}

// proofResult is what a PA got.
type proofResult uint8

const (
	proofValid   proofResult = iota // its mac holds the secret: done
	proofInvalid                    // it does not: RR2 or RD2
	proofAgain                      // the same PA again: the same answer
	proofStale                      // no nonce for it: a fresh challenge
	proofResults
)

var proofNames = [proofResults]string{proofValid: "valid", proofInvalid: "invalid", proofAgain: "repeated", proofStale: "stale"}

// limitKind is which rate limit stopped a datagram.
type limitKind uint8

const (
	limitAgent     limitKind = iota // PLs of the domain's agents
	limitPeer                       // PLs on behalf of other domains
	limitChallenge                  // challenges sent to one source
	limitKinds
)

var limitNames = [limitKinds]string{limitAgent: "agent", limitPeer: "peer", limitChallenge: "challenge"}
