package binance

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// Options configure a Server.
type Options struct {
	// Conn is the NATS connection to the exchange; its login must be
	// allowed every account's subjects (the face acts for whoever holds a
	// key). The Server does not close it.
	Conn *nats.Conn
	// Prefix is the exchange's subject prefix ("" = px).
	Prefix string
	// Config gives the symbols, the users' API keys and the Binance names
	// (nil = config.Default(): demo symbols, open, any key).
	Config *config.Config
	Logger *slog.Logger
	// Timeout bounds each NATS request (default 5 s).
	Timeout time.Duration
	// ListenKeyTTL is how long a listen key lives without a keepalive
	// (default 60 minutes, as Binance's).
	ListenKeyTTL time.Duration
	// Open accepts open mode (a config without users: the API key is the
	// account's name, any signature passes) on a connection that logs in
	// with credentials. Without it New refuses that combination: the login
	// says the NATS server guards its accounts, and open mode would hand
	// every account to anyone who reaches the face.
	Open bool
	// MaxWebSockets caps the open WebSocket connections (default 1024);
	// one more is refused with HTTP 503, -1008.
	MaxWebSockets int
	// MaxListenKeys and MaxListenKeysPerIP cap the live listen keys in open
	// mode, where every API key is an account and so may hold one (defaults
	// 1024 and 64, by the IP that made the key); a new one past them is
	// refused, HTTP 503 -1008 and HTTP 429 -1003. With users configured a
	// key is an account's, so their number is the cap.
	MaxListenKeys, MaxListenKeysPerIP int
	// WSMessagesPerSecond is how many messages (SUBSCRIBE and the others) a
	// WebSocket client may send within a second of the clock (default 10,
	// Binance's; negative: no limit); one more closes the connection.
	WSMessagesPerSecond int
	// WeightPerMinute is each IP's request weight per minute (default
	// DefaultWeightPerMinute, Binance's; negative: no limit, the weight is
	// still reported); past it a request is -1003, HTTP 429.
	WeightPerMinute int
}

// NATSOptions are the options the face's NATS connection should be opened
// with: no reconnect buffer, so that a request made while the connection
// is down fails at once (-1001) instead of being sent, and executed, when
// it comes back, long after the client was told it timed out.
func NATSOptions() []nats.Option {
	return []nats.Option{nats.ReconnectBufSize(-1)}
}

// Server is the Binance-compatible face.
type Server struct {
	nc      *nats.Conn
	subj    wire.Subjects
	cfg     *config.Config
	log     *slog.Logger
	timeout time.Duration
	keys    keyring
	syms    *symbols
	mux     *http.ServeMux
	hub     *hub
	users   *userStreams
	meter   *meter

	maxWS  int64
	wsRate int          // incoming messages per second per connection; ≤ 0: no limit
	nWS    atomic.Int64 // open WebSocket connections

	httpSrv *http.Server
	ln      net.Listener
	wg      sync.WaitGroup
	ctx     context.Context // canceled by Close: stops every stream
	cancel  context.CancelFunc
}

// New builds the face; Serve or Handler puts it to work.
func New(o Options) (*Server, error) {
	if o.Conn == nil {
		return nil, errors.New("binance: Options.Conn is nil")
	}
	cfg := o.Config
	if cfg == nil {
		cfg = config.Default()
	}
	subj, err := wire.NewSubjects(o.Prefix)
	if err != nil {
		return nil, err
	}
	syms, err := newSymbols(cfg)
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Users) == 0 {
		if loggedIn(o.Conn) && !o.Open {
			return nil, errors.New("binance: the config has no users, so the face would be open (any API key trades the account it names, " +
				"no signature checked), but its NATS connection logs in with credentials: give the users api_key/api_secret in the config, " +
				"or accept open mode explicitly (--binance-open, cmd/binance --open)")
		}
		log.Warn("binance: OPEN MODE: no users in the config; the API key is the account's name and ANY signature is accepted: anyone who reaches this port trades any account")
	}
	s := &Server{nc: o.Conn, subj: subj, cfg: cfg, log: log, timeout: o.Timeout, keys: newKeyring(cfg.Users), syms: syms,
		mux: http.NewServeMux()}
	if s.timeout <= 0 {
		s.timeout = 5 * time.Second
	}
	s.maxWS = int64(orDefault(o.MaxWebSockets, 1024))
	s.wsRate = o.WSMessagesPerSecond // negative: no limit
	if s.wsRate == 0 {
		s.wsRate = 10
	}
	if o.Conn.Opts.ReconnectBufSize >= 0 {
		log.Warn("binance: the NATS connection buffers while reconnecting: an order sent during an outage may execute after its client gave up (use binance.NATSOptions)")
	}
	switch {
	case o.WeightPerMinute == 0:
		s.meter = newMeter(DefaultWeightPerMinute)
	case o.WeightPerMinute < 0:
		s.meter = newMeter(0)
	default:
		s.meter = newMeter(o.WeightPerMinute)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hub = newHub(s)
	ttl := o.ListenKeyTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	s.users = newUserStreams(s, ttl)
	if s.keys.open {
		s.users.maxKeys, s.users.maxPerIP = orDefault(o.MaxListenKeys, 1024), orDefault(o.MaxListenKeysPerIP, 64)
	}
	s.routes()
	return s, nil
}

// orDefault is n, or def when n is not positive.
func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// loggedIn reports whether nc authenticates to its server (a user, token,
// nkey, JWT or credentials in the URL): then the server is not open.
func loggedIn(nc *nats.Conn) bool {
	o := nc.Opts
	if o.User != "" || o.Password != "" || o.Token != "" || o.TokenHandler != nil || o.UserInfo != nil ||
		o.UserJWT != nil || o.Nkey != "" {
		return true
	}
	for _, s := range append([]string{o.Url, nc.ConnectedUrl()}, o.Servers...) {
		if u, err := url.Parse(s); err == nil && u.User != nil {
			return true
		}
	}
	return false
}

// Handler serves the REST endpoints and the WebSocket streams.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.root) }

// root routes a request; one no route takes (an unknown path, 404, or a
// method the path does not serve, 405 with Allow) is answered with
// Binance's JSON error instead of the mux's plain text.
func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		h.ServeHTTP(w, r)
		return
	}
	rec := &statusOnly{header: http.Header{}, status: http.StatusNotFound}
	h.ServeHTTP(rec, r)
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	e := errNotFound(r)
	e.status = rec.status
	writeError(w, e)
}

// statusOnly keeps the status and headers a handler answers with.
type statusOnly struct {
	header http.Header
	status int
}

func (r *statusOnly) Header() http.Header         { return r.header }
func (r *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusOnly) WriteHeader(status int)      { r.status = status }

// Serve serves on ln until Close.
func (s *Server) Serve(ln net.Listener) {
	s.ln = ln
	// A request and its answer are small and quick; the WebSockets clear
	// these deadlines when they take their connection over (serveWS).
	// A handler's NATS requests share one Timeout, so it answers within it.
	s.httpSrv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: s.timeout,
		WriteTimeout: 2 * s.timeout, IdleTimeout: 2 * time.Minute}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("binance http server", "err", err)
		}
	}()
}

// Addr is the address Serve listens on ("" before).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops serving: it closes every WebSocket, ends the streams' NATS
// subscriptions and waits for them.
func (s *Server) Close(ctx context.Context) error {
	s.cancel()
	var err error
	if s.httpSrv != nil {
		err = s.httpSrv.Shutdown(ctx)
	}
	s.hub.close()
	s.users.close()
	s.wg.Wait()
	return err
}

// go_ runs f until Close.
func (s *Server) go_(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// security is what a route asks of its caller.
type security uint8

const (
	public   security = iota
	keyOnly           // X-MBX-APIKEY (listen keys, Binance's USER_STREAM)
	signedEP          // key, timestamp, recvWindow, signature (TRADE, USER_DATA)
)

// call is one REST request being served.
type call struct {
	s       *Server
	r       *http.Request
	ctx     context.Context
	params  url.Values
	account string // keyOnly and signed routes
}

type handlerFunc func(c *call) (any, *apiError)

// maxBody bounds a request body (Binance's are a few hundred bytes).
const maxBody = 64 << 10

func (s *Server) handle(pattern string, sec security, h handlerFunc) {
	weight, ok := weights[pattern]
	if !ok {
		panic("binance: no request weight for " + pattern)
	}
	rt := route{sec: sec, weight: weight, order: orderRoutes[pattern]}
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		out, e := s.serve(w, r, rt, h)
		if e != nil {
			writeError(w, e)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func writeError(w http.ResponseWriter, e *apiError) { writeJSON(w, e.status, e) }

func writeJSON(w http.ResponseWriter, status int, out any) {
	w.Header().Set("Content-Type", "application/json")
	body, err := json.Marshal(out)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"code":-1000,"msg":"cannot encode the reply"}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// route is what a route asks of its caller and costs it.
type route struct {
	sec    security
	weight weigher
	order  orderCount // counted in X-MBX-ORDER-COUNT-* (zero: not)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt route, h handlerFunc) (any, *apiError) {
	sec := rt.sec
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	params, qerr := url.ParseQuery(r.URL.RawQuery)
	var ferr error
	if err == nil && len(body) > 0 && len(body) <= maxBody {
		var form url.Values
		form, ferr = url.ParseQuery(string(body))
		for k, v := range form {
			if _, inQuery := params[k]; !inQuery { // the query string wins, as Binance's
				params[k] = v
			}
		}
	}
	// Weighed first, by the parameters the handler reads (a limit in the
	// body too): a refused request costs its weight too.
	if e := s.meter.weigh(w, r, rt.weight(params)); e != nil {
		return nil, e
	}
	switch {
	case err != nil || len(body) > maxBody:
		return nil, errf(400, codeBadData, "The request body is unreadable or over %d bytes.", maxBody)
	case qerr != nil:
		return nil, errf(400, codeIllegalChars, "Illegal characters found in the query string.")
	case ferr != nil:
		return nil, errf(400, codeIllegalChars, "Illegal characters found in the request body.")
	}
	c := &call{s: s, r: r, params: params}
	if sec != public {
		key, e := s.keys.lookup(r.Header.Get("X-MBX-APIKEY"))
		if e != nil {
			return nil, e
		}
		c.account = key.account
		if sec == signedEP {
			if e := s.keys.checkSigned(key, r.URL.RawQuery, string(body), params, time.Now().UnixMilli()); e != nil {
				return nil, e
			}
		}
		if rt.order != (orderCount{}) {
			s.meter.countOrder(w, c.account, rt.order)
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	c.ctx = ctx
	return h(c)
}

// ---- parameters ----

func (c *call) str(name string) (string, bool) { return first(c.params, name) }

// need is a required parameter.
func (c *call) need(name string) (string, *apiError) {
	v, ok := c.str(name)
	if !ok {
		return "", mandatory(name)
	}
	return v, nil
}

// symbol is the symbol parameter: -1102 when required and absent, -1121
// when no served symbol has that name.
func (c *call) symbol(required bool) (*symbol, *apiError) {
	v, ok := c.str("symbol")
	if !ok {
		if required {
			return nil, mandatory("symbol")
		}
		return nil, nil
	}
	s, ok := c.s.syms.lookup(v)
	if !ok {
		return nil, errBadSymbol
	}
	return s, nil
}

// symbols is the symbol the request names (one), else every served one.
func (c *call) symbols() (list []*symbol, one bool, e *apiError) {
	sym, e := c.symbol(false)
	if e != nil || sym == nil {
		return c.s.syms.list, false, e
	}
	return []*symbol{sym}, true, nil
}

// decimal is an optional decimal parameter (Binance's number syntax).
func (c *call) decimal(name string) (decimal.Decimal, bool, *apiError) {
	v, ok := c.str(name)
	if !ok {
		return decimal.Zero, false, nil
	}
	d, good := wire.ParseDecimal(v)
	if !good || d.Sign() < 0 { // no Binance number is negative (its pattern has no sign)
		return decimal.Zero, false, illegal(name, `^([0-9]{1,20})(\.[0-9]{1,20})?$`)
	}
	return d, true, nil
}

// integer is an optional integer parameter within [lo, hi] (else -1130).
func (c *call) integer(name string, lo, hi int64) (int64, bool, *apiError) {
	v, ok := c.str(name)
	if !ok {
		return 0, false, nil
	}
	if v == "" || len(v) > 20 || strings.Trim(v, "0123456789") != "" { // ParseInt takes a sign
		return 0, false, illegal(name, "^[0-9]{1,20}$")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi { // digits, but too many for int64: out of range as any
		return 0, false, badData(name)
	}
	return n, true, nil
}

// boolean is an optional "true"/"false" parameter.
func (c *call) boolean(name string) (bool, *apiError) {
	v, ok := c.str(name)
	if !ok {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badData(name)
}

// limit is the limit parameter: def when absent, within [1, max].
func (c *call) limit(def, max int64) (int, *apiError) {
	n, ok, e := c.integer("limit", 1, max)
	if e != nil {
		return 0, e
	}
	if !ok {
		n = def
	}
	return int(n), nil
}

// page is what a history endpoint selects: the symbol (nil: every one
// when it may be left out), at most limit (at most 1000) from the id
// fromName names on (no name: no id), within startTime..endTime (0:
// unbounded): the first limit from the id or startTime when given, else
// the newest limit.
type page struct {
	sym        *symbol
	limit      int
	from       uint64
	hasFrom    bool
	start, end int64
}

func (c *call) page(symRequired bool, defLimit int64, fromName string) (p page, e *apiError) {
	if p.sym, e = c.symbol(symRequired); e != nil {
		return p, e
	}
	if p.limit, e = c.limit(defLimit, 1000); e != nil {
		return p, e
	}
	if fromName != "" {
		from, hasFrom, e := c.integer(fromName, 0, 1<<62)
		if e != nil {
			return p, e
		}
		p.from, p.hasFrom = uint64(from), hasFrom
	}
	p.start, p.end, e = c.window()
	return p, e
}

// window is startTime..endTime (0: not given).
func (c *call) window() (start, end int64, e *apiError) {
	if start, _, e = c.integer("startTime", 0, 1<<53); e != nil {
		return 0, 0, e
	}
	if end, _, e = c.integer("endTime", 0, 1<<53); e != nil {
		return 0, 0, e
	}
	if end != 0 && start > end {
		return 0, 0, errf(400, -1023, "Start time is greater than end time.")
	}
	return start, end, nil
}

// in reports whether an item with this id and time is selected.
func (p *page) in(id uint64, timeMs int64) bool {
	return (!p.hasFrom || id >= p.from) && timeMs >= p.start && (p.end == 0 || timeMs <= p.end)
}

// cut keeps the first limit of the selected items from the id or the
// startTime on, else the newest limit (Binance's paging).
func cut[T any](p *page, out []T) []T {
	if p.hasFrom || p.start > 0 {
		return out[:min(len(out), p.limit)]
	}
	return newest(out, p.limit)
}

// ---- NATS ----

// envelope is any reply of API.md.
type envelope interface{ Envelope() wire.Reply }

// request sends req (JSON) on subject and decodes the reply into rep; an
// error reply becomes Binance's error by fromWire.
func (s *Server) request(ctx context.Context, subject string, req any, rep envelope, oc orderCtx) *apiError {
	data := []byte{}
	if req != nil {
		var err error
		if data, err = json.Marshal(req); err != nil {
			return errf(500, codeUnknown, "cannot encode the request: %v", err)
		}
	}
	msg, err := s.nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		if neverSent(err) {
			return errf(http.StatusServiceUnavailable, codeDisconnected, "Internal error; unable to process your request. Please try again. (the exchange is not reachable now: %v; nothing was sent)", err)
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
			return errf(http.StatusServiceUnavailable, codeTimeout, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.")
		}
		return errf(http.StatusServiceUnavailable, codeUnknown, "The exchange cannot be reached: %v", err)
	}
	if err := json.Unmarshal(msg.Data, rep); err != nil {
		return errf(500, codeUnknown, "The exchange's reply cannot be read: %v", err)
	}
	return fromReply(rep.Envelope(), oc)
}

// fromReply is nil for an ok reply, else Binance's error for it.
func fromReply(env wire.Reply, oc orderCtx) *apiError {
	if env.OK {
		return nil
	}
	if env.Error == nil {
		return errf(500, codeUnknown, "The exchange refused without a reason.")
	}
	return fromWire(env.Error, oc)
}

// neverSent reports whether a request error means the request did not
// reach the exchange (the connection is down, or nothing listens), so it
// was not executed.
func neverSent(err error) bool {
	return errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, nats.ErrConnectionDraining) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrNoResponders)
}

// state is the account's state, of one symbol when sym is not nil.
func (c *call) state(sym *symbol) (*wire.Account, *apiError) {
	return c.s.state(c.ctx, c.account, sym)
}

func (s *Server) state(ctx context.Context, account string, sym *symbol) (*wire.Account, *apiError) {
	req := map[string]string{}
	if sym != nil {
		req["symbol"] = sym.name
	}
	var rep wire.AccountReply
	if e := s.request(ctx, s.subj.State(account), req, &rep, ctxOther); e != nil {
		return nil, e
	}
	if rep.Account == nil {
		return nil, errf(500, codeUnknown, "The exchange's state reply has no account.")
	}
	return rep.Account, nil
}

// ok is the {"code":200,"msg":...} body of Binance's acknowledgements.
func ok(msg string) map[string]any { return map[string]any{"code": 200, "msg": msg} }

// nowMs is the server's clock (the timestamps of replies Binance stamps).
func nowMs() int64 { return time.Now().UnixMilli() }

func (s *Server) routes() {
	// Market data (market.go).
	s.handle("GET /fapi/v1/ping", public, func(*call) (any, *apiError) { return struct{}{}, nil })
	s.handle("GET /fapi/v1/time", public, func(*call) (any, *apiError) { return map[string]int64{"serverTime": nowMs()}, nil })
	s.handle("GET /fapi/v1/exchangeInfo", public, (*call).exchangeInfo)
	s.handle("GET /fapi/v1/depth", public, (*call).depth)
	s.handle("GET /fapi/v1/trades", public, (*call).trades)
	s.handle("GET /fapi/v1/historicalTrades", public, (*call).historicalTrades)
	s.handle("GET /fapi/v1/aggTrades", public, (*call).aggTrades)
	s.handle("GET /fapi/v1/klines", public, func(c *call) (any, *apiError) { return c.klines(wire.SourceLast) })
	s.handle("GET /fapi/v1/markPriceKlines", public, func(c *call) (any, *apiError) { return c.klines(wire.SourceMark) })
	s.handle("GET /fapi/v1/premiumIndex", public, (*call).premiumIndex)
	s.handle("GET /fapi/v1/fundingRate", public, (*call).fundingRate)
	s.handle("GET /fapi/v1/ticker/24hr", public, (*call).ticker24h)
	s.handle("GET /fapi/v1/ticker/price", public, (*call).tickerPrice)
	s.handle("GET /fapi/v2/ticker/price", public, (*call).tickerPrice)
	s.handle("GET /fapi/v1/ticker/bookTicker", public, (*call).bookTicker)
	s.handle("GET /fapi/v1/openInterest", public, (*call).openInterest)
	// Account (account.go).
	s.handle("GET /fapi/v2/account", signedEP, func(c *call) (any, *apiError) { return c.accountInfo(2) })
	s.handle("GET /fapi/v3/account", signedEP, func(c *call) (any, *apiError) { return c.accountInfo(3) })
	s.handle("GET /fapi/v2/balance", signedEP, (*call).balance)
	s.handle("GET /fapi/v3/balance", signedEP, (*call).balance)
	s.handle("GET /fapi/v2/positionRisk", signedEP, func(c *call) (any, *apiError) { return c.positionRisk(2) })
	s.handle("GET /fapi/v3/positionRisk", signedEP, func(c *call) (any, *apiError) { return c.positionRisk(3) })
	s.handle("GET /fapi/v1/leverageBracket", signedEP, (*call).leverageBracket)
	s.handle("GET /fapi/v1/symbolConfig", signedEP, (*call).symbolConfig)
	s.handle("GET /fapi/v1/commissionRate", signedEP, (*call).commissionRate)
	s.handle("POST /fapi/v1/leverage", signedEP, (*call).setLeverage)
	s.handle("POST /fapi/v1/marginType", signedEP, (*call).marginType)
	s.handle("POST /fapi/v1/positionMargin", signedEP, (*call).positionMargin)
	for _, m := range accountModes {
		s.handle("GET /fapi/v1/"+m.path, signedEP, m.get)
		s.handle("POST /fapi/v1/"+m.path, signedEP, m.set)
	}
	// Orders (orders.go) and conditional orders (algo.go).
	s.handle("POST /fapi/v1/order", signedEP, (*call).newOrder)
	s.handle("GET /fapi/v1/order", signedEP, (*call).queryOrder)
	s.handle("PUT /fapi/v1/order", signedEP, (*call).modifyOrder)
	s.handle("DELETE /fapi/v1/order", signedEP, (*call).cancelOrder)
	s.handle("GET /fapi/v1/openOrder", signedEP, (*call).openOrder)
	s.handle("GET /fapi/v1/openOrders", signedEP, (*call).openOrders)
	s.handle("DELETE /fapi/v1/allOpenOrders", signedEP, (*call).cancelAll)
	s.handle("POST /fapi/v1/batchOrders", signedEP, func(c *call) (any, *apiError) { return c.sendBatchOps((*call).placeOps) })
	s.handle("PUT /fapi/v1/batchOrders", signedEP, (*call).batchModify)
	s.handle("DELETE /fapi/v1/batchOrders", signedEP, func(c *call) (any, *apiError) { return c.sendBatchOps((*call).cancelOps) })
	s.handle("GET /fapi/v1/allOrders", signedEP, (*call).allOrders)
	s.handle("GET /fapi/v1/userTrades", signedEP, (*call).userTrades)
	s.handle("GET /fapi/v1/income", signedEP, (*call).income)
	s.handle("POST /fapi/v1/algoOrder", signedEP, (*call).newAlgoOrder)
	s.handle("GET /fapi/v1/algoOrder", signedEP, (*call).queryAlgoOrder)
	s.handle("DELETE /fapi/v1/algoOrder", signedEP, (*call).cancelAlgoOrder)
	s.handle("GET /fapi/v1/openAlgoOrders", signedEP, (*call).openAlgoOrders)
	s.handle("DELETE /fapi/v1/algoOpenOrders", signedEP, (*call).cancelAllAlgo)
	// Listen keys (userstream.go).
	s.handle("POST /fapi/v1/listenKey", keyOnly, (*call).newListenKey)
	s.handle("PUT /fapi/v1/listenKey", keyOnly, (*call).keepListenKey)
	s.handle("DELETE /fapi/v1/listenKey", keyOnly, (*call).deleteListenKey)
	// WebSocket streams (ws.go): /ws, /stream and ccxt's /public, /market,
	// /private prefixes.
	for _, p := range []string{"/ws", "/stream", "/public/", "/market/", "/private/"} {
		s.mux.HandleFunc("GET "+p, s.serveWS)
		if !strings.HasSuffix(p, "/") {
			s.mux.HandleFunc("GET "+p+"/", s.serveWS)
		}
	}
}

// errNotFound answers a path that is no endpoint.
func errNotFound(r *http.Request) *apiError {
	return errf(404, -5000, "Path %s, Method %s is invalid", r.URL.Path, r.Method)
}
