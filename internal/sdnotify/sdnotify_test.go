package sdnotify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNotifyWithoutSocket(t *testing.T) {
	t.Setenv(EnvVar, "")
	sent, err := Notify(Ready)
	if sent || err != nil {
		t.Fatalf("Notify without %s = %v, %v; want false, nil", EnvVar, sent, err)
	}
}

func TestNotifyReachesListener(t *testing.T) {
	l, err := Listen(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv(EnvVar, l.Path())
	if !strings.HasPrefix(l.Env(), EnvVar+"=/") {
		t.Errorf("Env() = %q", l.Env())
	}
	for _, state := range []string{Reloading(), Ready + "\nX_LUMI_ADDR=127.0.0.1:1"} {
		if sent, err := Notify(state); !sent || err != nil {
			t.Fatalf("Notify(%q) = %v, %v", state, sent, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := l.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(kv) != 2 || kv[0] != "RELOADING=1" || !strings.HasPrefix(kv[1], "MONOTONIC_USEC=") {
		t.Errorf("reload notification = %q", kv)
	}
	if err := l.Wait(ctx, Ready); err != nil {
		t.Fatalf("Wait(READY=1): %v", err)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	l, err := Listen(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv(EnvVar, l.Path())
	Notify(Stopping) // not what Wait waits for
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx, Ready); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want the context's deadline", err)
	}
}

func TestNotifyMissingSocket(t *testing.T) {
	l, err := Listen(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// A path that names no socket fails with an error, not silently.
	t.Setenv(EnvVar, l.Path()+".missing")
	if sent, err := Notify(Ready); sent || err == nil {
		t.Fatalf("Notify to a missing socket = %v, %v; want an error", sent, err)
	}
}
