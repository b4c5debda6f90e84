// Command lumictl inspects the MI protocols: it decodes single PMI and PLUMI
// messages and lists the messages of capture files (pcapng or pcap).
//
// Usage:
//
//	lumictl COMMAND [flags] [arguments]
//
// Run "lumictl -h" for the commands and "lumictl COMMAND -h" for one
// command's flags. Exit status: 0 success, 1 a message failed to decode
// (decode) or a file could not be read (pcap, whose listing shows the
// payloads that fail), 2 bad usage.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}
