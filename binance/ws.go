package binance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// WebSocket connections. Binance's paths: /ws (raw: each message is the
// event), /ws/<stream>, /stream?streams=a/b (combined: {"stream","data"}),
// and the futures split ccxt uses, /public/ws/<n>, /market/ws/<n> and
// /private/ws?listenKey=<key> (a trailing number is ccxt's connection
// index, not a stream). A listen key, in the path or as ?listenKey=, puts
// the account's user data on the connection. Market streams are also
// added and removed by {"method":"SUBSCRIBE","params":[...],"id":1}; a
// client sending more than 10 messages a second is disconnected.

// sendQueue bounds a connection's unsent messages; a client that falls
// that far behind is disconnected, as Binance does, rather than slowing
// every other subscriber (or holding memory: every connection has one).
const sendQueue = 256

// wsConn is one client connection.
type wsConn struct {
	s    *Server
	c    *websocket.Conn
	out  chan []byte
	done chan struct{}
	once sync.Once

	mu       sync.Mutex
	closed   bool // set by close: a late SUBSCRIBE must not add it anywhere
	combined bool
	streams  []string // market streams, as subscribed
	key      string   // the listen key of its user data, "" if none
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	for _, p := range []string{"/public/", "/market/", "/private/"} {
		if strings.HasPrefix(path, p) {
			path = path[len(p)-1:]
		}
	}
	var combined bool
	var rest string
	switch {
	case path == "/ws" || strings.HasPrefix(path, "/ws/"):
		rest = strings.TrimPrefix(path, "/ws")
	case path == "/stream" || strings.HasPrefix(path, "/stream/"):
		combined, rest = true, strings.TrimPrefix(path, "/stream")
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || path != "/ws" && path != "/stream" && rest == "" {
		writeError(w, errNotFound(r))
		return
	}
	if s.nWS.Add(1) > s.maxWS {
		s.nWS.Add(-1)
		writeError(w, errf(http.StatusServiceUnavailable, codeOverloaded, "Server is currently overloaded with other requests. Please try again in a few minutes. (at most %d WebSocket connections)", s.maxWS))
		return
	}
	defer s.nWS.Add(-1)
	// The server's read and write timeouts are for requests: net/http
	// clears them when Accept hijacks the connection, so a stream lives on.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
	if err != nil {
		return // Accept answered the client
	}
	c.SetReadLimit(64 << 10)
	conn := &wsConn{s: s, c: c, out: make(chan []byte, sendQueue), done: make(chan struct{}), combined: combined}
	names := strings.Split(strings.Trim(rest, "/"), "/")
	if q := r.URL.Query().Get("streams"); q != "" {
		names = append(names, strings.Split(q, "/")...)
	}
	if k := r.URL.Query().Get("listenKey"); k != "" {
		names = append(names, k)
	}
	for _, n := range names {
		if n == "" || strings.Trim(n, "0123456789") == "" { // ccxt's connection index
			continue
		}
		isKey, err := s.users.attach(conn, n)
		if !isKey {
			err = s.hub.subscribe(conn, n)
		}
		if err != nil {
			conn.close(websocket.StatusPolicyViolation, err.Error())
			<-conn.done
			return
		}
	}
	s.go_(conn.writer)
	conn.reader()
}

// send queues one stream message; it never blocks.
func (w *wsConn) send(stream string, data []byte) {
	w.mu.Lock()
	combined := w.combined
	w.mu.Unlock()
	if combined && stream != "" {
		b := make([]byte, 0, len(data)+len(stream)+20)
		b = append(b, `{"stream":"`...)
		b = append(b, stream...)
		b = append(b, `","data":`...)
		b = append(b, data...)
		data = append(b, '}')
	}
	select {
	case w.out <- data:
	case <-w.done:
	default:
		w.close(websocket.StatusPolicyViolation, "too slow: the send queue is full")
	}
}

// sendUser queues a user-data event: on a combined stream it is wrapped
// like a market one, its stream name the listen key, as Binance's.
func (w *wsConn) sendUser(data []byte) {
	w.mu.Lock()
	key := w.key
	w.mu.Unlock()
	w.send(key, data)
}

// maxCloseReason is the longest reason a close frame carries (RFC 6455: a
// control frame's 125 bytes, less the code's two); with a longer one the
// websocket library sends 1011, internal error, and no reason at all.
const maxCloseReason = 123

// close ends the connection once: the writer stops, the subscriptions go.
func (w *wsConn) close(code websocket.StatusCode, reason string) {
	if len(reason) > maxCloseReason { // a stream name quoted in it can be long
		cut := maxCloseReason - len("...")
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut] + "..."
	}
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.done)
		// Apart: close may be called while a stream is fanning out to w.
		go func() {
			w.s.hub.unsubscribeAll(w)
			w.s.users.detach(w)
			_ = w.c.Close(code, reason)
		}()
	})
}

func (w *wsConn) writer() {
	for {
		select {
		case <-w.done:
			return
		case <-w.s.ctx.Done():
			w.close(websocket.StatusGoingAway, "the server is stopping")
			return
		case m := <-w.out:
			if m == nil { // closeAfter's marker: everything before it is sent
				w.close(websocket.StatusNormalClosure, "listen key expired")
				return
			}
			ctx, cancel := context.WithTimeout(w.s.ctx, 10*time.Second)
			err := w.c.Write(ctx, websocket.MessageText, m)
			cancel()
			if err != nil {
				w.close(websocket.StatusGoingAway, "write failed")
				return
			}
		}
	}
}

// closeAfter closes the connection once what is queued now is sent.
func (w *wsConn) closeAfter() {
	select {
	case w.out <- nil:
	case <-w.done:
	default:
		w.close(websocket.StatusNormalClosure, "listen key expired")
	}
}

// wsRequest is a control message of Binance's stream API.
type wsRequest struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	ID     json.RawMessage `json:"id"`
}

// reader answers the client's messages. More than the server's wsRate
// within a second of the clock closes the connection unanswered, as
// Binance's does past its 10 a second.
func (w *wsConn) reader() {
	defer w.close(websocket.StatusNormalClosure, "")
	var sec int64 // the second counted, and its messages
	var n int
	for {
		_, data, err := w.c.Read(w.s.ctx)
		if err != nil {
			return
		}
		if now := time.Now().Unix(); now != sec {
			sec, n = now, 0
		}
		if n++; w.s.wsRate > 0 && n > w.s.wsRate {
			w.close(websocket.StatusPolicyViolation, fmt.Sprintf("too many messages: more than %d a second", w.s.wsRate))
			return
		}
		w.send("", w.answer(data))
	}
}

// answer is the reply to one control message.
func (w *wsConn) answer(data []byte) []byte {
	var req wsRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return replyBody(nil, nil, &wsError{3, "Invalid JSON: " + err.Error()})
	}
	result, werr := w.control(&req)
	return replyBody(req.ID, result, werr)
}

type wsError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// replyBody is Binance's answer to a control message: its result, or its
// error, with its id.
func replyBody(id json.RawMessage, result any, e *wsError) []byte {
	if id == nil {
		id = json.RawMessage("null")
	}
	var body any = map[string]any{"result": result, "id": id}
	if e != nil {
		body = map[string]any{"error": e, "id": id}
	}
	b, _ := json.Marshal(body)
	return b
}

// subscribeAll subscribes w to every stream of names, or to none: a name
// that is no stream, or one more than maxStreams, refuses the whole
// request, and a stream that cannot start undoes the ones this added.
func (w *wsConn) subscribeAll(names []string) error {
	h := w.s.hub
	w.mu.Lock()
	seen := make(map[string]bool, len(w.streams))
	for _, st := range w.streams {
		seen[st] = true
	}
	w.mu.Unlock()
	var added []string
	for _, name := range names {
		n, err := h.parse(name)
		if err != nil {
			return err
		}
		if !seen[n.canonical] {
			seen[n.canonical] = true
			added = append(added, n.canonical)
		}
	}
	if len(seen) > maxStreams {
		return errTooManyStreams
	}
	for i, name := range added {
		if err := h.subscribe(w, name); err != nil {
			for _, a := range added[:i] {
				h.unsubscribe(w, a)
			}
			return err
		}
	}
	return nil
}

func (w *wsConn) control(req *wsRequest) (any, *wsError) {
	var params []json.RawMessage
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &params); err != nil {
			return nil, &wsError{2, "Invalid request: params must be an array"}
		}
	}
	names := func() ([]string, *wsError) {
		out := make([]string, len(params))
		for i, p := range params {
			if err := json.Unmarshal(p, &out[i]); err != nil {
				return nil, &wsError{2, "Invalid request: stream names are strings"}
			}
		}
		return out, nil
	}
	switch req.Method {
	case "SUBSCRIBE":
		ns, e := names()
		if e != nil {
			return nil, e
		}
		if err := w.subscribeAll(ns); err != nil {
			return nil, &wsError{2, "Invalid request: " + err.Error()}
		}
		return nil, nil
	case "UNSUBSCRIBE":
		ns, e := names()
		if e != nil {
			return nil, e
		}
		for _, n := range ns {
			w.s.hub.unsubscribe(w, n)
		}
		return nil, nil
	case "LIST_SUBSCRIPTIONS":
		w.mu.Lock()
		defer w.mu.Unlock()
		return slices.Clone(w.streams), nil
	case "SET_PROPERTY", "GET_PROPERTY":
		var prop string
		if len(params) == 0 || json.Unmarshal(params[0], &prop) != nil || prop != "combined" {
			return nil, &wsError{0, "Unknown property"}
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if req.Method == "GET_PROPERTY" {
			return w.combined, nil
		}
		if len(params) != 2 || json.Unmarshal(params[1], &w.combined) != nil {
			return nil, &wsError{1, "Invalid value type: expected Boolean"}
		}
		return nil, nil
	}
	return nil, &wsError{2, "Invalid request: unknown method " + req.Method}
}
