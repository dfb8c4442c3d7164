package main

// Start-up failures of the real binary (this test binary re-executed as the
// exchange, see TestMain): each exits at once with a non-zero status and one
// slog text line on stderr that says what failed.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/actors"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/journal"
	"github.com/perpx/perpx/natsrv"
)

// exchangeArgs are a quiet exchange's: embedded NATS on a random port,
// nothing else listening, manual index, no bots.
func exchangeArgs(data string, more ...string) []string {
	return append([]string{"--nats-listen", "127.0.0.1:-1", "--nats-monitor", "", "--nats-ws", "", "--http", "", "--binance-http", "",
		"--index", "manual", "--bots", "0", "--data", data}, more...)
}

func exchangeCmd(ctx context.Context, t *testing.T, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+strings.Join(args, "\x1f"))
	cmd.Dir = t.TempDir() // a default --data would land here
	return cmd
}

// runExchange runs the exchange to its exit: its status and stderr.
func runExchange(t *testing.T, args []string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exchangeCmd(ctx, t, args)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the exchange did not exit within 10 s; stderr:\n%s", stderr.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	}
	t.Fatal(err)
	return 0, ""
}

// oneLine: a single line, slog's text format at ERROR with msg and an err
// value.
var oneLine = regexp.MustCompile(`^time=\S+ level=ERROR msg="([^"]+)" err="(.+)"\n$`)

// readyExchange starts the exchange and waits until it serves; stop ends
// it with SIGTERM and returns its status.
func readyExchange(t *testing.T, args []string) (stop func() int) {
	t.Helper()
	cmd := exchangeCmd(context.Background(), t, args)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	ready := make(chan struct{})
	var lines []string
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if readyLine.MatchString(sc.Text()) {
				close(ready)
			}
		}
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("the exchange exited before ready:\n%s", strings.Join(lines, "\n"))
	case <-time.After(10 * time.Second):
		t.Fatal("the exchange was not ready within 10 s")
	}
	return func() int {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Fatal("the exchange did not stop on SIGTERM")
		}
		return cmd.ProcessState.ExitCode()
	}
}

// loopback is a free loopback address (just now).
func loopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestStartupFailures(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	badJSON := filepath.Join(tmp, "bad.json")
	for p, body := range map[string]string{file: "", badJSON: `{"symbols": 3}`} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	missing := filepath.Join(tmp, "missing.json")
	unreachable := "nats://" + loopback(t)

	// A running exchange holds the ports a second one asks for.
	first := struct{ nats, monitor, ws, http string }{loopback(t), loopback(t), loopback(t), loopback(t)}
	stopFirst := readyExchange(t, exchangeArgs(filepath.Join(tmp, "first"),
		"--nats-listen", first.nats, "--nats-monitor", first.monitor, "--nats-ws", first.ws, "--http", first.http))

	data := filepath.Join(tmp, "data")
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string   // the line's msg
		errs []string // in its err
	}{
		{"nats port in use", exchangeArgs(data, "--nats-listen", first.nats), 1, "cannot start",
			[]string{"--nats-listen", "listen tcp " + first.nats, "address already in use"}},
		{"monitor port in use", exchangeArgs(data, "--nats-monitor", first.monitor), 1, "cannot start",
			[]string{"--nats-monitor", "listen tcp " + first.monitor, "address already in use"}},
		{"websocket port in use", exchangeArgs(data, "--nats-ws", first.ws), 1, "cannot start",
			[]string{"--nats-ws", "listen tcp " + first.ws, "address already in use"}},
		{"http port in use", exchangeArgs(data, "--http", first.http), 1, "cannot start",
			[]string{"--http", "listen tcp " + first.http, "address already in use"}},
		{"bad config", exchangeArgs(data, "--config", badJSON), 2, "cannot load the config",
			[]string{badJSON, "invalid"}},
		{"missing config", exchangeArgs(data, "--config", missing), 2, "cannot load the config",
			[]string{missing, "no such file"}},
		{"unreadable config", exchangeArgs(data, "--config", tmp), 2, "cannot load the config",
			[]string{tmp, "is a directory"}},
		{"unreachable nats url", exchangeArgs("", "--nats-url", unreachable), 1, "cannot start",
			[]string{unreachable, "no servers available"}},
		{"data is a file", exchangeArgs(file), 1, "cannot start",
			[]string{file, "not a directory"}},
		{"data under a file", exchangeArgs(filepath.Join(file, "data")), 1, "cannot start",
			[]string{file, "not a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Now()
			code, stderr := runExchange(t, tc.args)
			if d := time.Since(t0); d > 2*time.Second {
				t.Errorf("failing took %v", d)
			}
			if code != tc.code {
				t.Errorf("exit status %d, want %d", code, tc.code)
			}
			m := oneLine.FindStringSubmatch(stderr)
			if m == nil {
				t.Fatalf("stderr is not one ERROR line:\n%s", stderr)
			}
			if m[1] != tc.msg {
				t.Errorf("msg %q, want %q", m[1], tc.msg)
			}
			for _, w := range tc.errs {
				if !strings.Contains(m[2], w) {
					t.Errorf("err %q does not say %q", m[2], w)
				}
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed start left %s (%v)", data, err)
			}
		})
	}

	// Once the first has stopped, the same ports and directory serve again.
	if code := stopFirst(); code != 0 {
		t.Fatalf("first exchange exited %d", code)
	}
	stop := readyExchange(t, exchangeArgs(filepath.Join(tmp, "first"),
		"--nats-listen", first.nats, "--nats-monitor", first.monitor, "--nats-ws", first.ws, "--http", first.http))
	if code := stop(); code != 0 {
		t.Errorf("exchange on the freed ports exited %d", code)
	}
}

func TestBadFlagIsOneLine(t *testing.T) {
	// A stray argument stops the flag package: the flags after it would be
	// ignored and the exchange start without them.
	stray := exchangeArgs("", "stray", "--data", "ignored")
	for _, args := range [][]string{{"--no-such-flag"}, {"--bots", "many"}, {"--log-level", "loud"}, stray} {
		code, stderr := runExchange(t, args)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "exchange: ") {
			t.Errorf("%q: exit %d, stderr:\n%s", args, code, stderr)
		}
	}
	if code, stderr := runExchange(t, []string{"-h"}); code != 0 || !strings.Contains(stderr, "-nats-listen") {
		t.Errorf("-h: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestMonitorOffWithUsers: with users the embedded server's monitor is off
// unless --nats-monitor asks for it (it lists every user's connections and
// subscriptions to whoever reaches it); without users the default stays.
func TestMonitorOffWithUsers(t *testing.T) {
	users, err := config.Parse([]byte(`{"users":[{"user":"admin","password":"admin-pw","admin":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		cfg  *config.Config
		want string
	}{
		{nil, config.Default(), "127.0.0.1:8222"},
		{nil, users, ""},
		{[]string{"--nats-monitor", "127.0.0.1:18222"}, users, "127.0.0.1:18222"},
	} {
		fs := flag.NewFlagSet("exchange", flag.ContinueOnError)
		addr := fs.String("nats-monitor", "127.0.0.1:8222", "")
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if got := monitorAddr(fs, *addr, c.cfg); got != c.want {
			t.Errorf("%v, %d users: monitor %q, want %q", c.args, len(c.cfg.Users), got, c.want)
		}
	}
}

// TestStandbyOfAnotherBehaviour: a standby (--role auto) whose journal
// holds records of another behaviour version (its version record, then a
// record of a kind only that version knows) exits 1, saying why and what to
// do, instead of retrying for ever.
func TestStandbyOfAnotherBehaviour(t *testing.T) {
	srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", JetStreamDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	w, err := journal.Open(nc, journal.Config{Stream: "PERPX_JOURNAL_PX", Subject: "$PERPX.px.journal"})
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Now().UnixMilli()
	kind, actor, p := actors.VersionRecord(ms, actors.Behaviour+1, 0)
	w.Append(kind, actor, p, nil)
	w.Append(math.MaxUint16, 0, binary.AppendUvarint(nil, uint64(ms)), nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	code, stderr := runExchange(t, exchangeArgs(t.TempDir(), "--nats-url", srv.ClientURL(), "--role", "auto", "--lease", "1s", "--log-level", "error"))
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	last := strings.TrimSpace(stderr)
	last = last[strings.LastIndexByte(last, '\n')+1:] + "\n"
	m := oneLine.FindStringSubmatch(last)
	if m == nil || m[1] != "stopped for good" {
		t.Fatalf("stderr does not end with the reason:\n%s", stderr)
	}
	for _, w := range []string{fmt.Sprintf("written by behaviour version %d", actors.Behaviour+1), "Upgrading a durable exchange"} {
		if !strings.Contains(m[2], w) {
			t.Errorf("err %q does not say %q", m[2], w)
		}
	}
}

// TestPasswordFromEnvironment: the --nats-url password comes from
// $PERPX_NATS_PASSWORD when no flag gives it (the process list shows
// flags), and -h, which prints the flags' defaults, does not print it.
func TestPasswordFromEnvironment(t *testing.T) {
	const secret = "env-secret-7f3a"
	t.Setenv("PERPX_NATS_PASSWORD", secret)
	if code, stderr := runExchange(t, []string{"-h"}); code != 0 || strings.Contains(stderr, secret) {
		t.Errorf("-h: exit %d, and it shows the password:\n%s", code, stderr)
	}
	srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", Users: []config.User{{User: "ops", Password: secret, Admin: true}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	stop := readyExchange(t, exchangeArgs("", "--nats-url", srv.ClientURL(), "--nats-user", "ops"))
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}
