package natsrv

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

// The WebSocket listener (the web page's) logs in the config's users with
// the permissions TCP clients get, and refuses pages from other origins.
func TestWebsocketSameAuthorization(t *testing.T) {
	page := "http://127.0.0.1:9090"
	s := start(t, Options{Listen: "127.0.0.1:-1", Websocket: "127.0.0.1:-1", WebsocketOrigins: []string{page},
		Users: []config.User{{User: "alice", Password: "s3cret", Account: "alice"}}})
	px := wire.DefaultSubjects()
	ws := s.WebsocketURL()
	if u, err := url.Parse(ws); err != nil || u.Scheme != "ws" || u.Port() == "" || u.Port() == "0" {
		t.Fatalf("WebsocketURL %q: %v", ws, err)
	}
	svc, err := s.Connect("exchange")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	respond(t, svc, px.OrderPlace(wire.Any))

	av := newViolations()
	alice := connect(t, ws, av, nats.UserInfo("alice", "s3cret"), nats.CustomInboxPrefix(wire.InboxPrefix("alice")))
	request(t, alice, px.OrderPlace("alice"))
	if err := alice.Publish(px.OrderPlace("bob"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	av.expect(t, "Publish", px.OrderPlace("bob"))
	if _, err := alice.SubscribeSync(px.Events("bob")); err != nil {
		t.Fatal(err)
	}
	av.expect(t, "Subscription", px.Events("bob"))
	for name, opts := range map[string][]nats.Option{"anonymous": nil, "wrong password": {nats.UserInfo("alice", "guess")}} {
		if nc, err := nats.Connect(ws, append(opts, nats.NoReconnect())...); err == nil {
			nc.Close()
			t.Errorf("%s WebSocket connection accepted", name)
		}
	}

	// The browser sends the page's origin: only the configured one may
	// upgrade (a script of any other site is refused before it can log in).
	for origin, want := range map[string]int{page: http.StatusSwitchingProtocols, "http://evil.example": http.StatusForbidden} {
		if got := upgrade(t, ws, origin); got != want {
			t.Errorf("upgrade from origin %s: status %d, want %d", origin, got, want)
		}
	}
}

// upgrade sends a WebSocket upgrade request with origin and returns the
// HTTP status of the answer.
func upgrade(t *testing.T, wsURL, origin string) int {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, wait)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n", u.Host, origin)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestWebsocketOffByDefault(t *testing.T) {
	if u := start(t, Options{Listen: "127.0.0.1:-1"}).WebsocketURL(); u != "" {
		t.Fatalf("WebsocketURL %q without a listener", u)
	}
}
