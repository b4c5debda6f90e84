package main

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mi/wire"
)

// TestLocateSaysWhatItNeeds: a node answers a PL only from the address its
// asker registered from, so locate without -port warns that its port is
// its own, as register does (after the outcome, whose "REASON: message"
// stays the first line), and a locate left unanswered names that as the
// likely cause, with the address the PL came from.
func TestLocateSaysWhatItNeeds(t *testing.T) {
	from, _ := wire.ParseAddress("laura@bb.com")
	to, _ := wire.ParseAddress("pau@cc.org")
	found := &wire.LocateReply{Code: wire.LocateFound, From: from, To: to, IP: netip.MustParseAddr("10.1.2.3"), Port: 4321}
	warning := "lumictl: warning: the PL left from LOCAL, a port of this command alone: laura@bb.com's node answers a PL only from where laura@bb.com registered; give -port, the port it registered from\n"
	timeout := "node_timeout: node NODE did not answer PL after 2 attempts 50ms apart; the likely cause: a node drops a PL whose asker did not register from the address it came from, here LOCAL (register laura@bb.com with the same -port first)\n"
	for _, tc := range []struct {
		name   string
		port   bool // give -port
		reply  wire.Message
		code   int
		stderr string // NODE and LOCAL stand for the node's address and the command's
	}{
		{"found, without -port", false, found, exitOK, warning},
		{"found, with -port", true, found, exitOK, ""},
		{"no answer, with -port", true, nil, 7, timeout},
		{"no answer, without -port", false, nil, 7, timeout + warning}, // the reason's line first
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := serveOnce(t, tc.reply)
			args := []string{"locate", "-node", node, "-attempts", "2", "-retry", "50ms"}
			if tc.port {
				ap, err := freeUDPPort()
				if err != nil {
					t.Fatal(err)
				}
				args = append(args, "-port", strconv.Itoa(int(ap.Port())))
			}
			code, _, stderr := runLumictl(append(args, "laura@bb.com", "pau@cc.org")...)
			stderr = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(strings.ReplaceAll(stderr, node, "NODE"), "LOCAL")
			if diff := cmp.Diff(tc.stderr, stderr); diff != "" || code != tc.code {
				t.Errorf("exit %d, want %d; stderr (-want +got):\n%s", code, tc.code, diff)
			}
		})
	}
}
