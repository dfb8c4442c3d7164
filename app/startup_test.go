package app_test

// Start-up failures in process: each fails at once with an error naming what
// failed, and leaves nothing behind — no goroutine of the exchange or of the
// embedded server, no listener, and a data directory another start can use.

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/wire"
)

// freeAddr is a loopback address nothing listens on (just now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// busyAddr is a loopback address the test listens on until it ends.
func busyAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// ourGoroutines are the stacks of goroutines running the exchange's or NATS's
// code, but for the test's own.
func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		s := string(g)
		if (strings.Contains(s, "github.com/nats-io/") || strings.Contains(s, "github.com/perpx/perpx/")) &&
			!strings.Contains(s, "app_test.Test") {
			out = append(out, s)
		}
	}
	return out
}

// noLeftovers waits until no more such goroutines run than before.
func noLeftovers(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		g := ourGoroutines()
		if len(g) <= before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left after a failed start (%d before):\n%s", len(g), before, strings.Join(g, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// listenable fails unless addr can be listened on again.
func listenable(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("%s not released: %v", addr, err)
	}
	ln.Close()
}

func TestStartFailuresReleaseEverything(t *testing.T) {
	fileData := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(fileData, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    func(*app.Options) // from: embedded NATS on a random port, nothing else listening
		want []string           // in the error
	}{
		{"nats listen in use", func(o *app.Options) { o.NATSListen = busyAddr(t) }, []string{"--nats-listen", "address already in use"}},
		{"nats monitor in use", func(o *app.Options) { o.NATSMonitor = busyAddr(t) }, []string{"--nats-monitor", "address already in use"}},
		{"http in use", func(o *app.Options) { o.HTTP = busyAddr(t) }, []string{"--http", "address already in use"}},
		{"nats url unreachable", func(o *app.Options) { o.NATSURL = "nats://" + freeAddr(t) }, []string{"connect nats://127.0.0.1:", "no servers"}},
		{"data is a file", func(o *app.Options) { o.Data = fileData }, []string{fileData, "not a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := app.Options{NATSListen: "127.0.0.1:-1", Index: "manual"}
			tc.o(&o)
			for _, s := range []*string{&o.NATSListen, &o.NATSMonitor, &o.HTTP} {
				if strings.HasPrefix(*s, "127.0.0.1:") && *s != "127.0.0.1:-1" {
					tc.want = append(tc.want, *s) // the error names the busy address
				}
			}
			before := len(ourGoroutines())
			t0 := time.Now()
			a, err := app.Start(context.Background(), o)
			if err == nil {
				a.Close(context.Background())
				t.Fatal("started")
			}
			if a != nil {
				t.Errorf("Start returned an App with its error")
			}
			if d := time.Since(t0); d > time.Second {
				t.Errorf("failing took %v", d)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			noLeftovers(t, before)
		})
	}
}

// TestStartFailsLateAndRetries fails after everything but the gateway has
// started (the NATS server with its JetStream store in the data directory,
// its monitor, the journal, the actors, the metrics listener), then starts
// again on the same ports and directory once the cause is gone.
func TestStartFailsLateAndRetries(t *testing.T) {
	dir := t.TempDir()
	o := app.Options{NATSListen: freeAddr(t), NATSMonitor: freeAddr(t), HTTP: freeAddr(t), Index: "manual", Data: dir}
	// The snapshots' directory is a file: recovery, after the journal opened, fails.
	snaps := filepath.Join(dir, "snapshots")
	if err := os.WriteFile(snaps, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	before := len(ourGoroutines())
	a, err := app.Start(context.Background(), o)
	if err == nil {
		a.Close(context.Background())
		t.Fatal("started")
	}
	if !strings.Contains(err.Error(), snaps) {
		t.Errorf("error %q does not name %s", err, snaps)
	}
	noLeftovers(t, before)
	for _, addr := range []string{o.NATSListen, o.NATSMonitor, o.HTTP} {
		listenable(t, addr)
	}

	if err := os.Remove(snaps); err != nil {
		t.Fatal(err)
	}
	a, err = app.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if a.HTTPAddr() != o.HTTP {
		t.Errorf("metrics on %s, want %s", a.HTTPAddr(), o.HTTP)
	}
	nc := connect(t, a.URL())
	if _, err := nc.Request(wire.DefaultSubjects().Depth("BTC-PERP"), nil, wait); err != nil {
		t.Errorf("retried exchange does not answer: %v", err)
	}
	nc.Close()
	resp, err := http.Get("http://" + o.HTTP + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("metrics: %s", resp.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, before)
	for _, addr := range []string{o.NATSListen, o.NATSMonitor, o.HTTP} {
		listenable(t, addr)
	}
}
