package main

import (
	"regexp"
	"strings"

	"mi/agent"
	"mi/plumi"
)

// reasonTexts are the reasons' own texts, by word: what an error's
// message must not start with, as the reason is already said.
var reasonTexts = map[string]string{}

func init() {
	for _, r := range []*plumi.Reason{
		plumi.ErrUserUnknown, plumi.ErrDomainUnknown, plumi.ErrDNSFailure, plumi.ErrBusy, plumi.ErrOffline,
		plumi.ErrNodeTimeout, plumi.ErrBadAddress, agent.ErrInConvers, agent.ErrNotConnected, agent.ErrConnect,
		agent.ErrHandshake, agent.ErrPeer, agent.ErrStalled, agent.ErrSend, plumi.ErrClosed, plumi.ErrNetwork,
		agent.ErrBadCommand, plumi.ErrRefused, plumi.ErrAuthRequired, plumi.ErrDenied,
	} {
		reasonTexts[r.Word()] = r.Error()
	}
}

// plumbing matches the parts of an error chain that speak of Go and its
// sockets rather than of what failed: "dial tcp 1.2.3.4:5", "recvfrom",
// `field "addr.user" at offset 6`, "lumi", `ParseAddr("x")`.
var plumbing = regexp.MustCompile(`^((dial|read|write|listen|accept|bind|close) (tcp|udp|ip|unix)[46]?\b|lookup \S+|open \S*[/.]\S*$|(recvfrom|sendto|connect|socket|setsockopt|read|write|bind|lumi|wire)$|field "|ParseAddr|P(LUMI|MI)( [A-Z]+)?$|address \d+$)`)

// badAddress is the message of an address that does not parse.
var badAddress = regexp.MustCompile(`^(?:bad address )?(.*?"[^"]*"): field "(?:\w+\.)?(\w+)" at offset \d+: [^:]+: (.*)$`)

// oneAttempt mends the grammar of a request tried once.
var oneAttempt = regexp.MustCompile(`after 1 attempts \S+ apart`)

// humanError is an error's message for people: one sentence, what failed
// and why, without the reason said twice or the Go error chain under it
// (kept for -v). Of the chain only its last part, the cause itself ("no
// such file or directory"), is kept, and only after a message that does
// not already say why.
func humanError(reason, msg string) string {
	if text, ok := reasonTexts[reason]; ok {
		for strings.HasPrefix(msg, text+": ") {
			msg = msg[len(text)+2:]
		}
	}
	msg = oneAttempt.ReplaceAllString(msg, "after 1 attempt")
	if m := badAddress.FindStringSubmatch(msg); m != nil {
		return m[1] + " is not a user@domain address (" + m[2] + ": " + m[3] + ")"
	}
	parts := strings.Split(msg, ": ")
	head := 0
	for head < len(parts) && !plumbing.MatchString(parts[head]) {
		head++
	}
	if head == 0 || head == len(parts) {
		return msg
	}
	out := parts[:head]
	if last := parts[len(parts)-1]; head == 1 && !plumbing.MatchString(last) {
		out = append(out, last)
	}
	return strings.Join(out, ": ")
}
