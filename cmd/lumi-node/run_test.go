package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that the node and the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-h"}, exitOK, "usage: lumi-node [flags]"},
		{[]string{"-nosuchflag"}, exitUsage, "flag provided but not defined"},
		{[]string{"-peer", "nonsense"}, exitUsage, "-peer"},
		{[]string{"extra"}, exitUsage, "unexpected arguments"},
		{[]string{"-config", filepath.Join(t.TempDir(), "missing.cfg")}, exitError, "cannot start"},
	} {
		var stderr syncBuffer
		code := run(context.Background(), tc.args, strings.NewReader(""), io.Discard, &stderr, nil)
		if code != tc.code || !strings.Contains(stderr.String(), tc.out) {
			t.Errorf("run(%q) = %d, stderr:\n%s\nwant %d and %q", tc.args, code, stderr.String(), tc.code, tc.out)
		}
	}
}

// TestServe starts the command with stdin at EOF (it must go on serving),
// registers a user over UDP, and stops it as a signal would.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nodelumi.cfg")
	logPath := filepath.Join(dir, "node.log")
	if err := os.WriteFile(cfg, []byte("bb.com\nu1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan netip.AddrPort, 1)
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-config", cfg, "-listen", "127.0.0.1:0", "-log", logPath, "-hosts", "-"},
			strings.NewReader(""), io.Discard, &stderr, func(ap netip.AddrPort) { addrc <- ap })
	}()
	var addr netip.AddrPort
	select {
	case addr = <-addrc:
	case code := <-done:
		t.Fatalf("exited %d:\n%s", code, stderr.String())
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.WriteToUDPAddrPort([]byte("PRu1@bb.com"), addr); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 128)
	n, _, err := conn.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "RR0" {
		t.Fatalf("reply %q, %v", buf[:n], err)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "------ INICI LOG ------\nR: 127.0.0.1:UDP:") || !strings.HasSuffix(string(b), "------ FINAL LOG ------\n") {
		t.Errorf("log:\n%s", b)
	}
	if !strings.Contains(stderr.String(), "console input ended; serving on") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// TestQuit: the console's quit command stops the node with status 0.
func TestQuit(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nodelumi.cfg")
	if err := os.WriteFile(cfg, []byte("bb.com\nu1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"-config", cfg, "-listen", "127.0.0.1:0", "-log", "-", "-hosts", "-"},
			strings.NewReader("add u2\nlist\nquit\n"), &stdout, &stderr, nil)
	}()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
	if !strings.Contains(stdout.String(), "added u2") || !strings.Contains(stdout.String(), "not registered") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	b, _ := os.ReadFile(cfg)
	if string(b) != "bb.com\nu1\nu2\n" {
		t.Errorf("config:\n%s", b)
	}
}
