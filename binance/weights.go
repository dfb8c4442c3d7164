package binance

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Request weights. Binance counts each IP's requests in weights per
// minute (the minute of the clock, not a sliding one), says the weight used
// so far in X-MBX-USED-WEIGHT-1M on every answer, and refuses a request
// past the limit with HTTP 429, -1003. The weight is per IP as Binance's
// (its docs: the limits are per IP, not per API key), and so counts public
// requests too, which carry no key. Order requests are also counted per
// account over 10 s and a minute (X-MBX-ORDER-COUNT-10S, -1M); those are
// only reported: the exchange's own order bucket (API.md, orders_per_s)
// is the limit that refuses them.

// DefaultWeightPerMinute is Binance's USDⓈ-M futures request weight limit
// (REQUEST_WEIGHT, per IP per minute).
const DefaultWeightPerMinute = 2400

// weigher is an endpoint's weight for its parameters.
type weigher func(p url.Values) int

func fixed(n int) weigher { return func(url.Values) int { return n } }

// perSymbol weighs one symbol's request one and every symbol's all.
func perSymbol(one, all int) weigher {
	return func(p url.Values) int {
		if p.Get("symbol") != "" {
			return one
		}
		return all
	}
}

// byLimit weighs by the limit parameter (def when absent): the weight of
// the first step whose bound the limit does not pass, else the last.
func byLimit(def int, steps ...[2]int) weigher {
	return func(p url.Values) int {
		limit := def
		if n, err := strconv.Atoi(p.Get("limit")); err == nil {
			limit = n
		}
		for _, s := range steps {
			if limit <= s[0] {
				return s[1]
			}
		}
		return steps[len(steps)-1][1]
	}
}

// klineWeight is Binance's: under 100 candles 1, under 500 2, up to 1000 5.
var klineWeight = byLimit(500, [2]int{99, 1}, [2]int{499, 2}, [2]int{1000, 5}, [2]int{1 << 30, 10})

// weights are Binance's documented weights of the routes the face serves,
// by route pattern (every route has one: routes panics otherwise).
var weights = map[string]weigher{
	"GET /fapi/v1/ping":               fixed(1),
	"GET /fapi/v1/time":               fixed(1),
	"GET /fapi/v1/exchangeInfo":       fixed(1),
	"GET /fapi/v1/depth":              byLimit(500, [2]int{50, 2}, [2]int{100, 5}, [2]int{500, 10}, [2]int{1000, 20}),
	"GET /fapi/v1/trades":             fixed(5),
	"GET /fapi/v1/historicalTrades":   fixed(20),
	"GET /fapi/v1/aggTrades":          fixed(20),
	"GET /fapi/v1/klines":             klineWeight,
	"GET /fapi/v1/markPriceKlines":    klineWeight,
	"GET /fapi/v1/premiumIndex":       fixed(1),
	"GET /fapi/v1/fundingRate":        fixed(1),
	"GET /fapi/v1/ticker/24hr":        perSymbol(1, 40),
	"GET /fapi/v1/ticker/price":       perSymbol(1, 2),
	"GET /fapi/v2/ticker/price":       perSymbol(1, 2),
	"GET /fapi/v1/ticker/bookTicker":  perSymbol(2, 5),
	"GET /fapi/v1/openInterest":       fixed(1),
	"GET /fapi/v2/account":            fixed(5),
	"GET /fapi/v3/account":            fixed(5),
	"GET /fapi/v2/balance":            fixed(5),
	"GET /fapi/v3/balance":            fixed(5),
	"GET /fapi/v2/positionRisk":       fixed(5),
	"GET /fapi/v3/positionRisk":       fixed(5),
	"GET /fapi/v1/leverageBracket":    fixed(1),
	"GET /fapi/v1/symbolConfig":       fixed(5),
	"GET /fapi/v1/commissionRate":     fixed(20),
	"POST /fapi/v1/leverage":          fixed(1),
	"POST /fapi/v1/marginType":        fixed(1),
	"POST /fapi/v1/positionMargin":    fixed(1),
	"GET /fapi/v1/positionSide/dual":  fixed(30),
	"POST /fapi/v1/positionSide/dual": fixed(1),
	"GET /fapi/v1/multiAssetsMargin":  fixed(30),
	"POST /fapi/v1/multiAssetsMargin": fixed(1),
	"POST /fapi/v1/order":             fixed(0), // counted as an order instead
	"GET /fapi/v1/order":              fixed(1),
	"PUT /fapi/v1/order":              fixed(1),
	"DELETE /fapi/v1/order":           fixed(1),
	"GET /fapi/v1/openOrder":          fixed(1),
	"GET /fapi/v1/openOrders":         perSymbol(1, 40),
	"DELETE /fapi/v1/allOpenOrders":   fixed(1),
	"POST /fapi/v1/batchOrders":       fixed(5),
	"PUT /fapi/v1/batchOrders":        fixed(5),
	"DELETE /fapi/v1/batchOrders":     fixed(1),
	"GET /fapi/v1/allOrders":          fixed(5),
	"GET /fapi/v1/userTrades":         fixed(5),
	"GET /fapi/v1/income":             fixed(30),
	"POST /fapi/v1/algoOrder":         fixed(0), // counted as an order instead
	"GET /fapi/v1/algoOrder":          fixed(1),
	"DELETE /fapi/v1/algoOrder":       fixed(1),
	"GET /fapi/v1/openAlgoOrders":     perSymbol(1, 40),
	"DELETE /fapi/v1/algoOpenOrders":  fixed(1),
	"POST /fapi/v1/listenKey":         fixed(1),
	"PUT /fapi/v1/listenKey":          fixed(1),
	"DELETE /fapi/v1/listenKey":       fixed(1),
}

// orderCount is what a route adds to X-MBX-ORDER-COUNT-10S and -1M.
type orderCount struct{ per10s, perMinute int }

// orderRoutes are the routes counted in X-MBX-ORDER-COUNT-*: a batch of
// orders counts 5 in the 10 s window and 1 in the minute's, as Binance's.
var orderRoutes = map[string]orderCount{"POST /fapi/v1/order": {1, 1}, "PUT /fapi/v1/order": {1, 1}, "POST /fapi/v1/algoOrder": {1, 1},
	"POST /fapi/v1/batchOrders": {5, 1}, "PUT /fapi/v1/batchOrders": {5, 1}}

// window counts per key within fixed windows of the clock (each minute,
// each 10 s); a new window forgets the last, so it holds only the keys
// seen in one window.
type window struct {
	size  time.Duration
	mu    sync.Mutex
	start time.Time
	n     map[string]int
}

func newWindow(size time.Duration) *window { return &window{size: size, n: map[string]int{}} }

// add adds w to key's count unless that would pass limit (0: none); it
// returns the count and, when refused, how long until the window ends.
func (c *window) add(key string, w, limit int, now time.Time) (int, time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if start := now.Truncate(c.size); !start.Equal(c.start) {
		c.start = start
		clear(c.n)
	}
	n := c.n[key]
	if limit > 0 && n+w > limit {
		return n, c.start.Add(c.size).Sub(now), false
	}
	c.n[key] = n + w
	return n + w, 0, true
}

// meter is the face's request weights and order counts.
type meter struct {
	limit              int // weight per minute per IP; 0: none
	weight             *window
	orders10s, orders1 *window
}

func newMeter(limit int) *meter {
	return &meter{limit: limit, weight: newWindow(time.Minute), orders10s: newWindow(10 * time.Second), orders1: newWindow(time.Minute)}
}

// weigh charges the request's weight to its IP and says the weight used
// in w's headers; past the limit it is -1003 (HTTP 429, with Retry-After).
func (m *meter) weigh(w http.ResponseWriter, r *http.Request, weight int) *apiError {
	ip := remoteIP(r)
	used, wait, ok := m.weight.add(ip, weight, m.limit, time.Now())
	w.Header()["X-MBX-USED-WEIGHT-1M"] = []string{strconv.Itoa(used)}
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return errf(http.StatusTooManyRequests, codeTooManyRequests,
			"Too many requests; current limit of IP(%s) is %d requests per minute. Please use the websocket for live updates to avoid polling the API.", ip, m.limit)
	}
	return nil
}

// remoteIP is the address of r's connection, whose limits it counts in.
func remoteIP(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ip
}

// countOrder counts an order request of account and says its counts.
func (m *meter) countOrder(w http.ResponseWriter, account string, c orderCount) {
	now := time.Now()
	n10, _, _ := m.orders10s.add(account, c.per10s, 0, now)
	n1, _, _ := m.orders1.add(account, c.perMinute, 0, now)
	w.Header()["X-MBX-ORDER-COUNT-10S"] = []string{strconv.Itoa(n10)}
	w.Header()["X-MBX-ORDER-COUNT-1M"] = []string{strconv.Itoa(n1)}
}
