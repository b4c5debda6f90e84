package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := runDemo(ctx, &out, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"[pau  ] laura> Hola Pau! Com va per cc.org?",
		"[laura] pau> Hola Laura! Tot bé, i per bb.com?",
		"[laura] pau> Laura, una cosa més: 🎉 funciona!",
		"nodelumi-bb.com.log:\n------ INICI LOG ------\nR: 127.0.0.1:UDP:",
		", PRlaura@bb.com, 14\n",
		", PLlaura@bb.com:pau@cc.org, 25\n",
		", PDpau@cc.org, 12\n",
		"------ FINAL LOG ------",
		"demo OK",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out.String())
	}
}
