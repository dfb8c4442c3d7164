package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/natsrv"
)

// TestStrayArgument: the flag package stops at an argument that is no flag,
// so the flags after it would be ignored; the face refuses to start instead
// (here it would otherwise fail later, connecting to a closed port).
func TestStrayArgument(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"--nats-url", "nats://127.0.0.1:1", "stray", "--listen", "127.0.0.1:0"}, &stderr)
	if code != 2 || !strings.HasPrefix(stderr.String(), `binance: unexpected argument "stray"`) {
		t.Errorf("exit %d, stderr:\n%s", code, &stderr)
	}
}

// TestPasswordFromEnvironment: as the exchange's, the face's NATS password
// comes from $PERPX_NATS_PASSWORD when no flag gives it, so an admin's
// password need not show in the process list; -h does not print it.
func TestPasswordFromEnvironment(t *testing.T) {
	const secret = "env-secret-7f3a"
	t.Setenv("PERPX_NATS_PASSWORD", secret)
	var help bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &help); code != 0 || strings.Contains(help.String(), secret) {
		t.Errorf("-h: exit %d, and it shows the password:\n%s", code, &help)
	}
	srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", Users: []config.User{{User: "ops", Password: secret, Admin: true}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"--nats-url", srv.ClientURL(), "--nats-user", "ops", "--open", "--listen", "127.0.0.1:0"}, w)
		w.Close()
	}()
	ready := make(chan []string, 1)
	go func() {
		var lines []string
		for sc := bufio.NewScanner(r); sc.Scan(); {
			if lines = append(lines, sc.Text()); strings.Contains(sc.Text(), "msg=ready") {
				ready <- nil
				_, _ = io.Copy(io.Discard, r)
				return
			}
		}
		ready <- lines
	}()
	select {
	case lines := <-ready:
		if lines != nil {
			t.Fatalf("the face did not start:\n%s", strings.Join(lines, "\n"))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not ready within 10 s")
	}
	cancel()
	if code := <-exited; code != 0 {
		t.Errorf("exit %d", code)
	}
}
