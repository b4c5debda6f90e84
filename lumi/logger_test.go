package lumi

import (
	"log"
	"log/slog"
	"net/netip"
	"testing"

	"mi/internal/syncbuf"
)

// A nil Config.Logger discards the resolver's events: none reaches
// slog.Default, as in package agent and package node. The same events do
// reach a Logger given, so the resolver did log.
func TestNilLoggerDiscards(t *testing.T) {
	var def syncbuf.Buffer
	oldDefault, oldOut, oldFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewTextHandler(&def, nil)))
	t.Cleanup(func() {
		// SetDefault also sends package log's output to the handler;
		// setting the old default back does not undo that.
		slog.SetDefault(oldDefault)
		log.SetOutput(oldOut)
		log.SetFlags(oldFlags)
	})
	ap := netip.MustParseAddrPort("127.0.0.1:4001")
	events := func(logger *slog.Logger) {
		r := newTestResolver(t, Config{DNSServer: "127.0.0.1:1", Logger: logger})
		r.MarkDown("nil.com", ap)
		r.MarkUp("nil.com", ap)
	}

	events(nil)
	if def.String() != "" {
		t.Errorf("a resolver without Logger wrote to slog.Default:\n%s", def.String())
	}
	var given syncbuf.Buffer
	events(slog.New(slog.NewTextHandler(&given, nil)))
	if given.String() == "" {
		t.Error("the given Logger heard nothing: the test does not make the resolver log")
	}
}
