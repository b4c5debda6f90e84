package loadgen

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"mi/node"
)

func TestEcho(t *testing.T) {
	s, err := StartEcho("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, kind := range []Kind{KindPR, KindPL} {
		res, err := Run(context.Background(), Config{Target: s.Addr(), Kind: kind, Domain: "bench.test", Clients: 2, Duration: 100 * time.Millisecond, Echo: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Replies == 0 || res.Bad != 0 || res.Requests < res.Replies {
			t.Errorf("%s: %+v", kind, res)
		}
	}
}

func TestNode(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "n.cfg")
	users := append(Users(KindPL, 3), Users(KindPR, 3)...)
	users = users[:6] // Users(KindPL) already holds the PR users
	if err := (node.Config{Domain: "bench.test", Users: users}).WriteFile(cfg); err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Options{ConfigPath: cfg, Listen: "127.0.0.1:0", LogPath: filepath.Join(dir, "n.log"), HostsFile: "-", DNSServer: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for _, kind := range []Kind{KindPR, KindPL} {
		res, err := Run(ctx, Config{Target: n.Addr(), Kind: kind, Domain: "bench.test", Clients: 3, Duration: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if res.Replies == 0 || res.Bad != 0 {
			t.Errorf("%s: %+v", kind, res)
		}
	}
}
