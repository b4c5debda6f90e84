package main

import (
	"fmt"
	"strconv"

	"mi/agent"
	"mi/plumi"
)

// The kinds of mi-agent's own failures (plumi.Cause.Kind): commands and
// flags it refuses before the agent is asked.
const (
	causeUnknownCommand plumi.CauseKind = "unknown_command" // Input: the command
	causeUsage          plumi.CauseKind = "usage"           // Input: the command, given the wrong arguments
	causeOwnAddress     plumi.CauseKind = "own_address"     // Addr: /call of one's own address
	causeAddrFlag       plumi.CauseKind = "bad_addr_flag"   // Input, Field, Problem: -addr is no user@domain address
	causeSecretFile     plumi.CauseKind = "secret_file"     // Input (the path), Sys
	causeHostsFile      plumi.CauseKind = "hosts_file"      // Input (the path), Sys: -hosts names a file that cannot be read
	causeAdvertiseFlag  plumi.CauseKind = "bad_advertise"   // Input, Sys: -advertise is no ip
)

// causeKinds are mi-agent's own kinds.
var causeKinds = []plumi.CauseKind{causeUnknownCommand, causeUsage, causeOwnAddress, causeAddrFlag, causeSecretFile, causeHostsFile, causeAdvertiseFlag}

// usages are the commands that take arguments, as they are used.
var usages = map[string]string{"/call": "/call user@domain"}

// sayError is an error event as one line for people, said from its cause:
// what failed and why, in words of its own, without the Go errors under
// it (the message keeps them, for -v and -json). An error with no cause
// said here (an internal one) is shown as its message.
func sayError(e agent.Event) string {
	if s, ok := causeText(e.Cause); ok {
		return s
	}
	return e.Message
}

// causeText says c, and whether it knows c's kind.
func causeText(c plumi.Cause) (string, bool) {
	var s string
	switch c.Kind {
	case plumi.CauseNXDomain:
		s = "no LUMI node for domain " + c.Domain + ": the domain does not exist (NXDOMAIN)"
	case plumi.CauseNoNode:
		s = "no LUMI node for domain " + c.Domain + ": the domain names none (no SRV record, no address)"
	case plumi.CauseNoAddress:
		s = "no LUMI node for domain " + c.Domain + ": its SRV records name hosts without an address"
	case plumi.CauseNotOffered:
		s = "no LUMI node for domain " + c.Domain + `: its SRV record says it runs none (target ".")`
	case plumi.CauseNotADomain:
		s = strconv.Quote(c.Domain) + " is not a domain name"
	case plumi.CauseDNSRcode:
		s = fmt.Sprintf("cannot find the LUMI node of %s: DNS server %s answered %s", c.Domain, c.Server, c.Rcode)
	case plumi.CauseDNSTimeout:
		s = fmt.Sprintf("cannot find the LUMI node of %s: DNS server %s did not answer (%s)", c.Domain, c.Server, count(c.Attempts, "query", "queries"))
	case plumi.CauseDNSError:
		s = "cannot find the LUMI node of " + c.Domain + ": DNS failed: " + c.Sys
		if c.Server != "" {
			s = "cannot find the LUMI node of " + c.Domain + ": DNS server " + c.Server + ": " + c.Sys
		}
	case plumi.CauseNoSuchUser:
		s = c.Addr + ": no such user in " + c.Domain
	case plumi.CauseUnknownTarget:
		s = c.Addr + ": no such user, or no such domain"
	case plumi.CauseBusy:
		s = c.Addr + " is busy in another conversation"
	case plumi.CauseOffline:
		s = c.Addr + " is offline"
	case plumi.CauseRegisterRefused:
		s = fmt.Sprintf("node %s refused to register %s: it has no such user; or another agent registered %s from another address "+
			"and answers the node's check (if that agent is yours, stop it, or wait until it stops answering, and start again); "+
			"or too many refused requests for %s from other addresses froze it for a while", c.Node, c.Addr, c.Addr, c.Addr)
	case agent.CauseRegisterHeld:
		s = fmt.Sprintf("node %s refused to register %s: %s is registered by an agent that answers at %s, "+
			"a port of this host that another program holds, the one %s registered from last; "+
			"stop that agent, or wait until it stops answering, and start again", c.Node, c.Addr, c.Addr, c.Remote, c.Addr)
	case plumi.CauseDeregisterRefused:
		s = fmt.Sprintf("node %s refused to deregister %s: not a user of its domain, or not registered from this address, or frozen for a while", c.Node, c.Addr)
	case plumi.CauseProofDenied:
		s = fmt.Sprintf("node %s denied the proof for %s: the secret is not the user's", c.Node, c.Addr)
	case plumi.CauseProofChallenged:
		s = fmt.Sprintf("node %s challenged the proof for %s %s", c.Node, c.Addr, count(c.Attempts, "time", "times"))
	case plumi.CauseAuthRequired:
		s = fmt.Sprintf("node %s requires proof of %s's secret: give it with -secret-file", c.Node, c.Addr)
	case plumi.CauseNodeTimeout:
		s = fmt.Sprintf("node %s did not answer %s after %s", c.Node, c.Tag, count(c.Attempts, "attempt", "attempts"))
		if c.Attempts > 1 {
			s += fmt.Sprintf(" %v apart", c.Wait)
		}
	case plumi.CauseNodeUnreachable:
		s = "node " + c.Node + " is unreachable: nothing listens at its address"
		if c.Tag != "" {
			s = fmt.Sprintf("node %s refused %s at attempt %d of %d: nothing listens at its address", c.Node, c.Tag, c.Attempt, c.Attempts)
		}
	case plumi.CauseNodeSocket:
		s = "cannot reach node " + c.Node + ": " + c.Sys
	case plumi.CauseBadAddress:
		s = fmt.Sprintf("%q is not a user@domain address (%s: %s)", c.Input, c.Field, c.Problem)
	case plumi.CauseBadNode:
		s = "no node address"
		if c.Input != "" {
			s = fmt.Sprintf("%q is not a node's host:port: %s", c.Input, c.Sys)
		}
	case plumi.CauseClosed:
		s = "stopped: the agent is closing"
	case plumi.CauseCancelled:
		s = "cancelled"
	case agent.CauseBadNick:
		s = fmt.Sprintf("%q cannot be a nickname: %s", c.Input, c.Problem)
	case agent.CauseNotIPv4:
		s = "cannot advertise " + c.Input + ": locate replies carry IPv4 addresses only"
	case agent.CauseLogOpen:
		s = "-log " + c.Input + ": " + c.Sys // the file -log names
	case agent.CauseListen:
		s = "cannot listen for chats on " + c.Input + ": " + c.Sys
	case agent.CauseNoResolver:
		s = "cannot look nodes up in DNS: " + c.Sys
	case agent.CauseConnect:
		s = fmt.Sprintf("cannot connect to %s at %s: %s", c.Addr, c.Remote, c.Sys)
	case agent.CauseNoNick:
		s = fmt.Sprintf("dropped %s: no nickname within %v", c.Remote, c.Wait)
	case agent.CauseClosedEarly:
		s = "dropped " + c.Remote + ": it closed the connection before its nickname"
	case agent.CauseNotNick:
		s = "dropped " + c.Remote + ": not a nickname (" + c.Sys + ")"
		if c.Tag != "" {
			s = fmt.Sprintf("dropped %s: it sent %q before its nickname", c.Remote, c.Tag)
		}
	case agent.CauseNickUnsent:
		s = "cannot send the nickname to " + c.Remote + ": " + c.Sys
	case agent.CausePeerStalled:
		s = fmt.Sprintf("dropped %s: a message began but did not end within %v", c.Peer, c.Wait)
	case agent.CausePeerCut:
		s = c.Peer + " closed the connection inside a message"
	case agent.CausePeerBroke:
		s = "dropped " + c.Peer + ": " + c.Sys
	case agent.CauseSendFailed:
		s = "cannot send to " + c.Peer + ": " + c.Sys
	case agent.CauseTalking:
		s = "already talking to " + c.Peer + "; /hangup first"
	case agent.CauseCalling:
		s = "a call is already in progress"
	case agent.CauseOvertaken:
		s = "another conversation started while calling " + c.Addr
	case agent.CauseNotTalking:
		s = "not in a conversation; /call user@domain first"
	case causeUnknownCommand:
		s = "unknown command " + c.Input + "; /help lists them"
	case causeUsage:
		s = "usage: " + usages[c.Input]
	case causeOwnAddress:
		s = c.Addr + " is your own address; /call someone else"
	case causeAddrFlag:
		s = fmt.Sprintf("-addr %q is not a user@domain address (%s: %s)", c.Input, c.Field, c.Problem)
	case causeSecretFile:
		s = "-secret-file " + c.Input + ": " + c.Sys
	case causeHostsFile:
		s = "-hosts " + c.Input + ": " + c.Sys
	case causeAdvertiseFlag:
		s = fmt.Sprintf("-advertise %q is not an ip address", c.Input)
	default:
		return "", false
	}
	return s, true
}

// count is n things, in the singular for one.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
