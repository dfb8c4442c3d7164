package natsrv

import (
	"bytes"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// Canned replies of the echo responder: enough for the load test to count
// an order as accepted, its setup calls as done and the audit as passed.
var (
	echoOrder = []byte(`{"ok":true,"order":{"status":"new"}}`)
	echoAudit = []byte(`{"ok":true,"invariants_ok":true}`)
	echoOK    = []byte(`{"ok":true}`)
)

// StartEcho starts an embedded NATS server (Start, as the exchange does)
// and a responder that answers every request under the prefix at once with
// a canned reply, through one subscription: no gateway, no actors. A load
// test (or bench's BenchmarkNATSEcho) against it measures the floor of
// what NATS gives on this machine. conn is "inproc" (the exchange's own
// in-process connection) or "tcp" (a loopback client connection). It
// returns the server's client URL and the function that stops both.
func StartEcho(prefix, conn string) (string, func(), error) {
	subj, err := wire.NewSubjects(prefix)
	if err != nil {
		return "", nil, err
	}
	srv, err := Start(Options{Listen: "127.0.0.1:-1", Prefix: prefix})
	if err != nil {
		return "", nil, err
	}
	var nc *nats.Conn
	switch conn {
	case "inproc":
		nc, err = srv.Connect("perpx-echo")
	case "tcp":
		nc, err = nats.Connect(srv.ClientURL(), nats.Name("perpx-echo"))
	default:
		err = fmt.Errorf("--echo %q: want inproc or tcp", conn)
	}
	if err != nil {
		srv.Shutdown()
		return "", nil, err
	}
	audit := []byte(subj.Prefix() + ".admin.audit")
	sub, err := nc.Subscribe(subj.Prefix()+".>", func(m *nats.Msg) {
		if m.Reply == "" {
			return
		}
		out := echoOK
		switch {
		case bytes.Contains([]byte(m.Subject), []byte(".order.")):
			out = echoOrder
		case m.Subject == string(audit):
			out = echoAudit
		}
		_ = nc.Publish(m.Reply, out)
	})
	if err == nil {
		err = sub.SetPendingLimits(-1, -1)
	}
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		nc.Close()
		srv.Shutdown()
		return "", nil, err
	}
	return srv.ClientURL(), func() { nc.Close(); srv.Shutdown() }, nil
}
