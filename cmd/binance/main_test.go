package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/natsrv"
)

// childArgs carries a child's command line (fields split by \x1f): the test
// binary re-executed as the face.
const childArgs = "PERPX_BINANCE_CHILD_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(childArgs); a != "" {
		os.Exit(run(strings.Split(a, "\x1f")))
	}
	os.Exit(m.Run())
}

// TestStrayArgument: the flag package stops at an argument that is no flag,
// so the flags after it would be ignored; the face refuses to start instead
// (here it would otherwise fail later, connecting to a closed port).
func TestStrayArgument(t *testing.T) {
	if code := run([]string{"--nats-url", "nats://127.0.0.1:1", "stray", "--listen", "127.0.0.1:0"}); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}

// TestPasswordFromEnvironment: as the exchange's, the face's NATS password
// comes from $PERPX_NATS_PASSWORD when no flag gives it, so an admin's
// password need not show in the process list; -h does not print it.
func TestPasswordFromEnvironment(t *testing.T) {
	const secret = "env-secret-7f3a"
	t.Setenv("PERPX_NATS_PASSWORD", secret)
	srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", Users: []config.User{{User: "ops", Password: secret, Admin: true}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if help, err := child(ctx, "-h").CombinedOutput(); err != nil || strings.Contains(string(help), secret) {
		t.Errorf("-h: %v, and it shows the password:\n%s", err, help)
	}
	cmd := child(ctx, "--nats-url", srv.ClientURL(), "--nats-user", "ops", "--open", "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var lines []string
	for sc := bufio.NewScanner(stderr); sc.Scan(); {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), "msg=ready") {
			return
		}
	}
	t.Fatalf("the face did not start:\n%s", strings.Join(lines, "\n"))
}

// child is the face run by this test binary with args.
func child(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+strings.Join(args, "\x1f"))
	return cmd
}
