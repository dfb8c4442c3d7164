//go:build race

package binance_test

// floodSize is flood's requests in flight: fewer under the race detector,
// which slows their handling several times.
const floodSize = 2000
