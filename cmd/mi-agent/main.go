// Command mi-agent is an MI agent for people and for scripts: it registers
// an MI address with its LUMI node, answers locates, and chats with other
// agents peer to peer.
//
// Usage:
//
//	mi-agent -addr laura@bb.com [-nick laura] [-node host:port] [-dns host:port] [-listen :0] [-json]
//
// Commands on stdin: /call user@domain, /hangup, /who, /register, /help,
// /quit; any other line is sent to the peer, cut at spaces into lines of
// at most wire.MaxLineLen bytes (an empty line is not sent). It deregisters
// on /quit, at the end of stdin and on SIGINT or SIGTERM.
//
// When stdin and stdout are terminals (and without -json), it is a chat
// screen: a prompt with line editing and history, what happens written
// above the line being typed, every line with its time (HH:MM) and nick;
// Ctrl-D and Ctrl-C leave as /quit does. Elsewhere it reads and writes
// plain lines. Whatever comes from the network is shown with control
// characters and bytes that are not UTF-8 escaped.
//
// No one peer can hold the agent: a peer has -handshake-timeout to send
// its nickname (several may be trying at once; the first wins), and
// -message-timeout to finish a message once begun; lines beyond -line-rate
// a second (-line-burst at once) are dropped, and a notice says how many.
// One host has at most two nickname exchanges going at once, and a caller
// who says nothing after its nickname, while you type nothing, gives way
// to the next caller after -silent-grace.
// When stdout is not read, the agent stops reading the peer instead of
// piling its lines up.
//
// It keeps the UDP port it registered from in a state file (-state; by
// default p2p-<nick>.state beside the -log file) and registers from it
// again when it starts, so that its node takes a restarted agent back at
// once; when the port is taken it uses any other.
//
// Datagrams it drops (junk, even spoofed from its node's address) are
// counted and summed up on stderr, not logged one by one, and the datagram
// log is capped by -log-max (10M by default; it moves to FILE.1).
//
// With -json, stdout carries one JSON object per event and nothing else;
// see the README for the schema. Exit status: 0 after a clean deregister, 1
// when it cannot start, register or deregister, 2 bad usage.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, sig, os.Getenv))
}
