// Package binance owns perpx's Binance-compatible face: an HTTP and
// WebSocket server that speaks a subset of Binance's USDⓈ-M futures API
// (REST under /fapi/..., market and user-data streams) so that bots written
// for Binance or ccxt's binanceusdm trade on perpx by changing one URL.
//
// It is a NATS client of the exchange like any other (API.md): every REST
// call becomes one or a few requests on px.…, every stream is fed by the
// exchange's NATS streams. It never imports the actors or the gateway; it
// reads the symbols (tick, lot, tiers) and the users' API keys from the
// config file, and wire for the JSON of the NATS side. cmd/exchange runs it
// in-process (--binance-http) on a connection of its own; cmd/binance runs
// it as a separate process against any NATS server (--nats-url), with a
// login allowed every account's subjects (an admin, or the open server).
//
// Files:
//   - server.go: options, routes, the request pipeline (weight, params,
//     security);
//   - auth.go: API keys, timestamp and recvWindow, HMAC-SHA256 signatures;
//   - errors.go: Binance's error JSON and the mapping of API.md's codes;
//   - symbols.go: BTC-PERP ↔ BTCUSDT and the filters of exchangeInfo;
//   - market.go, account.go, orders.go, algo.go: the REST endpoints;
//   - batch.go: /fapi/v1/batchOrders, several orders in one request, sent
//     as one order.batch (places, cancels) or an order.amend each;
//   - convert.go: perpx orders and fills as Binance JSON;
//   - ws.go: WebSocket connections, SUBSCRIBE and the stream names;
//   - streams.go: market streams (diff and partial depth with U/u/pu,
//     trades, klines, mark prices, book ticker, tickers, liquidations)
//     fanned out from one NATS subscription each;
//   - weights.go: Binance's request weights per IP per minute and the
//     order counts, in the answers' X-MBX-* headers;
//   - userstream.go: listen keys and the account events as
//     ORDER_TRADE_UPDATE, ALGO_UPDATE, ACCOUNT_UPDATE and MARGIN_CALL.
//
// The depth stream's ids are the book's sequence numbers (API.md: seq
// increases by one per update): an event carrying updates U..u says
// pu = U−1, so after a missed update pu no longer equals the previous u and
// a client re-syncs from the REST snapshot, whose lastUpdateId is the
// snapshot's seq.
package binance
