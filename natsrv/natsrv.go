package natsrv

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

// DefaultListen is where the embedded server listens by default.
const DefaultListen = "127.0.0.1:4222"

// readyTimeout bounds the wait for the server to accept connections.
const readyTimeout = 10 * time.Second

// serviceUser names the exchange's own login. The '.' keeps it apart from
// config users, whose names are tokens without dots.
const serviceUser = "perpx.service"

// ErrStart is wrapped by every error Start returns.
var ErrStart = errors.New("natsrv: cannot start the embedded NATS server")

// Options configures Start.
type Options struct {
	// Listen is host:port for clients; "" means DefaultListen, port -1 a
	// random free port (tests).
	Listen string
	// Monitor is host:port of the HTTP monitoring endpoint; "" turns it off.
	Monitor string
	// Prefix is the subject prefix; "" means wire.DefaultPrefix.
	Prefix string
	// Users turns authorization on when not empty (config validates them).
	Users []config.User
	// Logger receives the server's own log lines; nil keeps it quiet.
	Logger server.Logger
	// JetStreamDir turns JetStream on with its file store under this
	// directory; "" leaves it off. Every write is fsynced before it is
	// acknowledged: the default 2-minute sync loses acknowledged writes on
	// power loss (Jepsen's 2025 NATS analysis).
	JetStreamDir string
	// Websocket is host:port of a WebSocket listener for browser clients
	// (the web page), without TLS, so meant for loopback; "" turns it off,
	// port 0 or -1 picks a random one. Its clients log in as the config's users
	// with the same permissions as TCP clients.
	Websocket string
	// WebsocketOrigins, when not empty, are the only page origins
	// ("http://127.0.0.1:9090") whose scripts may open a WebSocket: without
	// it any web site a person visits could trade on an open server from
	// their browser. Clients that send no Origin (not browsers) pass.
	WebsocketOrigins []string
}

// Server is a running embedded NATS server.
type Server struct {
	ns          *server.Server
	servicePass string        // "" when authorization is off
	ws          bool          // the WebSocket listener is on
	users       []config.User // nil when authorization is off
}

// Start starts the server and waits until it accepts connections.
func Start(o Options) (*Server, error) {
	subj, err := wire.NewSubjects(o.Prefix)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	opts := &server.Options{ServerName: "perpx", NoSigs: true, NoLog: o.Logger == nil}
	if opts.Host, opts.Port, err = hostPort(o.Listen, DefaultListen); err != nil {
		return nil, fmt.Errorf("%w: listen: %v", ErrStart, err)
	}
	if o.Monitor != "" {
		if opts.HTTPHost, opts.HTTPPort, err = hostPort(o.Monitor, ""); err != nil {
			return nil, fmt.Errorf("%w: monitor: %v", ErrStart, err)
		}
	}
	if o.Websocket != "" {
		if opts.Websocket.Host, opts.Websocket.Port, err = hostPort(o.Websocket, ""); err != nil {
			return nil, fmt.Errorf("%w: websocket: %v", ErrStart, err)
		}
		if opts.Websocket.Port == 0 { // nats-server's "off"
			opts.Websocket.Port = -1
		}
		opts.Websocket.NoTLS = true
		opts.Websocket.AllowedOrigins = slices.Clone(o.WebsocketOrigins)
	}
	if o.JetStreamDir != "" {
		// The server fails late and quietly on a store it cannot create.
		if err := os.MkdirAll(o.JetStreamDir, 0o750); err != nil {
			return nil, fmt.Errorf("%w: jetstream: %v", ErrStart, err)
		}
		opts.JetStream, opts.StoreDir, opts.SyncAlways = true, o.JetStreamDir, true
		opts.DisableJetStreamBanner = true
	}
	s := &Server{ws: o.Websocket != ""}
	if len(o.Users) > 0 {
		s.users = slices.Clone(o.Users)
		if s.servicePass, err = randomSecret(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStart, err)
		}
		opts.Users = append(opts.Users, &server.User{Username: serviceUser, Password: s.servicePass})
		for _, u := range o.Users {
			perms := Permissions(subj, u)
			if u.NKey != "" {
				opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: u.NKey, Permissions: perms})
			} else {
				opts.Users = append(opts.Users, &server.User{Username: u.User, Password: u.Password, Permissions: perms})
			}
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	if o.Logger != nil {
		ns.SetLogger(limitLogger(o.Logger, logEvery), false, false)
	}
	ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		return nil, fmt.Errorf("%w: not ready after %v (is %s:%d in use?)", ErrStart, readyTimeout, opts.Host, opts.Port)
	}
	if opts.JetStream && !ns.JetStreamEnabled() {
		ns.Shutdown()
		return nil, fmt.Errorf("%w: jetstream did not start in %s", ErrStart, o.JetStreamDir)
	}
	s.ns = ns
	return s, nil
}

// hostPort splits "host:port"; "" means def. Port -1 asks for a random port.
func hostPort(hp, def string) (string, int, error) {
	if hp == "" {
		hp = def
	}
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("port %q: want -1 (random) or 0-65535", p)
	}
	return host, port, nil
}

func randomSecret() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// Permissions returns the NATS permissions of u under the subjects subj;
// nil (everything) for an admin.
func Permissions(subj wire.Subjects, u config.User) *server.Permissions {
	if u.Admin {
		return nil
	}
	// Public request subjects: only the exchange answers them, and a trader
	// asks under its own account (wire.Subjects.AccountDepth ...), where
	// the gateway knows whose inboxes the reply may go to: within one NATS
	// account nothing says who sent a request on a public subject.
	requests := []string{subj.Depth(wire.Any), subj.FundState(), subj.ADLQueue(wire.Any), subj.Klines(wire.Any), subj.RecentTrades(wire.Any),
		subj.FundingHistory(wire.Any), subj.FundDaily(), subj.Ticker(wire.Any),
		subj.OpenInterest(wire.Any)}
	return &server.Permissions{
		Publish: &server.SubjectPermission{
			Allow: []string{subj.AccountAll(u.Account)},
			// Only the exchange speaks on a trader's event stream.
			Deny: []string{subj.Events(u.Account)},
		},
		// Streams and the own inbox only: of its account's subjects just the
		// events, so no subscription (queue group "perpx" or not) can take
		// the account's own requests away from the exchange; the wildcards
		// of the public trees minus their request subjects.
		Subscribe: &server.SubjectPermission{
			Allow: []string{subj.Events(u.Account), subj.MarketDataAll(), subj.FundAll(), subj.ADLAll(),
				wire.InboxPrefix(u.User) + ".>"},
			Deny: requests,
		},
	}
}

// Users are the config users whose permissions (Permissions) the server
// enforces; nil when it is open. The gateway finds them through its
// in-process connection (Connect) to confine reply subjects (API.md
// "Authorization").
func (s *Server) Users() []config.User { return slices.Clone(s.users) }

// InProcessConn makes the Server a nats.InProcessConnProvider: Connect
// hands the Server itself to nats.InProcessServer, so whoever holds the
// connection can find the users (Users) and the embedded server (NATS).
func (s *Server) InProcessConn() (net.Conn, error) { return s.ns.InProcessConn() }

// ClientURL is the URL outside clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// WebsocketURL is the URL (ws://host:port) of the WebSocket listener, ""
// when it is off.
func (s *Server) WebsocketURL() string {
	if !s.ws {
		return ""
	}
	return s.ns.WebsocketURL()
}

// MonitorAddr is the monitoring endpoint's address, nil when it is off.
func (s *Server) MonitorAddr() *net.TCPAddr { return s.ns.MonitorAddr() }

// NATS exposes the underlying server (JetStream, stats).
func (s *Server) NATS() *server.Server { return s.ns }

// Connect opens the exchange's own in-process connection, logged in as the
// service user when authorization is on.
func (s *Server) Connect(name string, opts ...nats.Option) (*nats.Conn, error) {
	all := []nats.Option{nats.InProcessServer(s), nats.Name(name)}
	if s.servicePass != "" {
		all = append(all, nats.UserInfo(serviceUser, s.servicePass))
	}
	return nats.Connect("", append(all, opts...)...)
}

// Shutdown stops the server and waits until it is gone; callers drain their
// own connections first.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
