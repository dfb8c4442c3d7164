package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// The Binance face (issue 19): an order's REST round trip at an open-loop
// rate, and one trade stream fanned out to many WebSocket subscribers. Both
// start a whole exchange with the face in-process, as cmd/exchange does.

// binanceExchange starts the exchange (no rate limit, open server: the API
// key names the account) with BTC-PERP's index at 30000.
func binanceExchange(b *testing.B) (*app.App, *nats.Conn) {
	b.Helper()
	cfg := config.Default()
	cfg.RateLimit = config.RateLimit{}
	a, err := app.Start(context.Background(), app.Options{NATSListen: "127.0.0.1:-1", Index: "manual", Config: cfg, BinanceHTTP: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	nc, err := nats.Connect(a.URL())
	if err != nil {
		b.Fatal(err)
	}
	req := func(subject string, body any) {
		data, _ := json.Marshal(body)
		m, err := nc.Request(subject, data, 5*time.Second)
		if err != nil || !strings.Contains(string(m.Data), `"ok":true`) {
			b.Fatalf("%s: %v %s", subject, err, m.Data)
		}
	}
	s := wire.DefaultSubjects()
	req(s.AdminIndex("BTC-PERP"), wire.IndexSet{Price: decimal.NewFromInt(30000)})
	for _, acct := range []string{"mm", "taker"} {
		req(s.AdminDeposit(), wire.Deposit{Account: acct, Asset: "USDT", Amount: decimal.NewFromInt(10_000_000)})
	}
	return a, nc
}

func benchEnv(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func benchInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkBinanceOrderREST: signed POST /fapi/v1/order at PERPX_RATE
// orders/s (default 1000) for PERPX_DURATION (default 5s), open loop
// (latency from each request's scheduled time), over keep-alive HTTP
// connections. Each order is a LIMIT IOC buy below the book, so it goes
// all the way (signature, NATS, risk, book) and expires: nothing rests.
func BenchmarkBinanceOrderREST(b *testing.B) {
	rate := benchInt("PERPX_RATE", 1000)
	dur := benchEnv("PERPX_DURATION", 5*time.Second)
	for range b.N {
		b.StopTimer()
		a, nc := binanceExchange(b)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
		base := "http://" + a.BinanceAddr() + "/fapi/v1/order"
		h := hdrhistogram.New(1, 60_000_000, 3)
		var mu sync.Mutex
		var wg sync.WaitGroup
		failed := 0
		b.StartTimer()
		start := time.Now()
		interval := time.Second / time.Duration(rate)
		warm := int(time.Second / interval) // the first second opens the connections: not recorded
		n := warm + int(dur/interval)
		for i := range n {
			due := start.Add(time.Duration(i) * interval)
			record := i >= warm
			time.Sleep(time.Until(due))
			wg.Add(1)
			go func() {
				defer wg.Done()
				q := url.Values{"symbol": {"BTCUSDT"}, "side": {"BUY"}, "type": {"LIMIT"}, "timeInForce": {"IOC"},
					"quantity": {"0.001"}, "price": {"29000"}, "timestamp": {strconv.FormatInt(time.Now().UnixMilli(), 10)}}
				body := q.Encode()
				m := hmac.New(sha256.New, []byte("any"))
				m.Write([]byte(body))
				body += "&signature=" + hex.EncodeToString(m.Sum(nil))
				req, _ := http.NewRequest(http.MethodPost, base, strings.NewReader(body))
				req.Header.Set("X-MBX-APIKEY", "taker")
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				defer mu.Unlock()
				if !ok {
					failed++
					return
				}
				if record {
					_ = h.RecordValue(time.Since(due).Microseconds())
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start) - time.Second
		b.StopTimer()
		nc.Close()
		_ = a.Close(context.Background())
		if failed > 0 {
			b.Errorf("%d of %d orders failed", failed, n)
		}
		b.ReportMetric(float64(h.TotalCount())/elapsed.Seconds(), "orders/s")
		b.ReportMetric(float64(h.ValueAtQuantile(50)), "p50-µs")
		b.ReportMetric(float64(h.ValueAtQuantile(99)), "p99-µs")
		b.ReportMetric(float64(h.ValueAtQuantile(99.9)), "p999-µs")
		b.ReportMetric(float64(h.Max()), "max-µs")
	}
}

// BenchmarkBinanceWSFanout: PERPX_SUBSCRIBERS (default 100) WebSocket
// clients follow btcusdt@trade while a taker trades PERPX_RATE times a
// second (default 200) for PERPX_DURATION (default 5s). Latency is from
// the moment the market order that made the trade is sent (over NATS) to
// the moment each client has read the trade: the exchange's matching and
// publishing, the face's decode, encode, fan-out and WebSocket write, and
// the client's read.
func BenchmarkBinanceWSFanout(b *testing.B) {
	subs, rate := benchInt("PERPX_SUBSCRIBERS", 100), benchInt("PERPX_RATE", 200)
	dur := benchEnv("PERPX_DURATION", 5*time.Second)
	for range b.N {
		b.StopTimer()
		a, nc := binanceExchange(b)
		s := wire.DefaultSubjects()
		n := int(dur.Seconds() * float64(rate))
		place := func(acct string, o wire.PlaceOrder) {
			data, _ := json.Marshal(o)
			if m, err := nc.Request(s.OrderPlace(acct), data, 5*time.Second); err != nil || !strings.Contains(string(m.Data), `"ok":true`) {
				b.Fatalf("place: %v %s", err, m.Data)
			}
		}
		place("mm", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Limit, Price: decimal.NewFromInt(30010),
			Qty: decimal.NewFromFloat(0.001).Mul(decimal.NewFromInt(int64(n + 10)))})
		// Each market order makes one trade: the i-th has seq first+i.
		var recent wire.RecentTradesReply
		m, err := nc.Request(s.RecentTrades("BTC-PERP"), []byte(`{"limit":1}`), 5*time.Second)
		if err != nil || json.Unmarshal(m.Data, &recent) != nil {
			b.Fatalf("recent trades: %v", err)
		}
		first := uint64(1)
		if len(recent.Trades) > 0 {
			first = recent.Trades[0].Seq + 1
		}
		sent := make([]time.Time, n)
		type receipt struct {
			seq uint64
			at  time.Time
		}
		got := make([][]receipt, subs)
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(context.Background())
		for i := range subs {
			c, _, err := websocket.Dial(ctx, "ws://"+a.BinanceAddr()+"/ws/btcusdt@trade", nil)
			if err != nil {
				b.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.CloseNow()
				for len(got[i]) < n {
					_, data, err := c.Read(ctx)
					if err != nil {
						return
					}
					at := time.Now()
					var t struct {
						T uint64 `json:"t"`
					}
					if json.Unmarshal(data, &t) == nil {
						got[i] = append(got[i], receipt{t.T, at})
					}
				}
			}()
		}
		time.Sleep(200 * time.Millisecond) // every subscription is in place
		b.StartTimer()
		start := time.Now()
		for i := range n {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
			sent[i] = time.Now()
			place("taker", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Market, Qty: decimal.NewFromFloat(0.001)})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		b.StopTimer()
		cancel()
		<-done
		h := hdrhistogram.New(1, 60_000_000, 3)
		missing := 0
		for _, rs := range got {
			missing += n - len(rs)
			for _, r := range rs {
				if i := r.seq - first; i < uint64(n) {
					_ = h.RecordValue(max(1, r.at.Sub(sent[i]).Microseconds()))
				}
			}
		}
		nc.Close()
		_ = a.Close(context.Background())
		if missing > 0 {
			b.Errorf("%d of %d deliveries missing", missing, n*subs)
		}
		b.ReportMetric(float64(h.TotalCount()), "deliveries")
		b.ReportMetric(float64(h.ValueAtQuantile(50)), "p50-µs")
		b.ReportMetric(float64(h.ValueAtQuantile(99)), "p99-µs")
		b.ReportMetric(float64(h.ValueAtQuantile(99.9)), "p999-µs")
		b.ReportMetric(float64(h.Max()), "max-µs")
	}
}
