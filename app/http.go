package app

import (
	"cmp"
	"net"
	"net/http"
	"strconv"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/gateway"
	"github.com/perpx/perpx/web"
	"github.com/perpx/perpx/wire"
)

// httpHandler serves the web page at / and, as before it, /metrics (and
// with --pprof /debug/pprof/) on the one --http listener.
func (a *App) httpHandler(metrics *gateway.Metrics, o Options, cfg *config.Config) http.Handler {
	pc := web.Config{Prefix: o.Prefix, Websocket: cmp.Or(o.WebWS, a.WebsocketURL()), Auth: len(cfg.Users) > 0, MarginMode: cfg.MarginMode}
	if pc.Prefix == "" {
		pc.Prefix = wire.DefaultPrefix
	}
	if pc.MarginMode == "" {
		pc.MarginMode = config.MarginCross
	}
	for _, s := range a.symbols {
		pc.Symbols = append(pc.Symbols, web.SymbolOf(s))
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.Handler())
	if o.Pprof {
		mux.Handle("/debug/pprof/", gateway.Pprof())
	}
	mux.Handle("/", web.Handler(pc))
	return mux
}

// pageOrigins are the origins the page is served from (--http), the only
// ones whose scripts may open the NATS WebSocket: a script of any other
// site a person visits must not reach an open exchange on their loopback.
// nil (any origin) when the page is not served here or is reached by any
// name (an unspecified host: "", 0.0.0.0, [::]).
func (a *App) pageOrigins(httpAddr string) []string {
	if a.httpLn == nil {
		return nil
	}
	host, _, err := net.SplitHostPort(httpAddr)
	ip := net.ParseIP(host)
	if err != nil || host == "" || ip != nil && ip.IsUnspecified() {
		return nil
	}
	port := ""
	if addr, ok := a.httpLn.Addr().(*net.TCPAddr); ok { // the port a ":0" got
		port = strconv.Itoa(addr.Port)
	}
	origin := func(h string) string { return "http://" + net.JoinHostPort(h, port) }
	origins := []string{origin(host)}
	switch {
	case ip != nil && ip.IsLoopback():
		origins = append(origins, origin("localhost"))
	case host == "localhost":
		origins = append(origins, origin("127.0.0.1"), origin("::1"))
	}
	return origins
}
