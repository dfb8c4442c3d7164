//go:build !race

package binance_test

// floodSize is flood's requests in flight (race_on_test.go).
const floodSize = 20000
