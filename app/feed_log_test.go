package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/app"
)

// TestFeedFloodLogsLittle: 2 000 garbage messages and 2 000 refused ticks
// on the index feed's subject (anyone's on an open server) write a few log
// lines with their counts, not 4 000.
func TestFeedFloodLogsLittle(t *testing.T) {
	logs := &logBuf{}
	a, err := app.Start(context.Background(), app.Options{NATSListen: "127.0.0.1:-1", Index: "nats:feed.px",
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	nc := connect(t, a.URL())
	for range 2000 {
		if err := nc.Publish("feed.px", []byte("garbage")); err != nil {
			t.Fatal(err)
		}
		if err := nc.Publish("feed.px", []byte(`{"symbol":"BTC-PERP","price":"-5"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // one interval: the counts come out
	bad, refused := strings.Count(logs.String(), "index feed messages refused"), strings.Count(logs.String(), "index ticks refused")
	if bad < 1 || bad > 3 || refused > 3 || !strings.Contains(logs.String(), "count=") {
		t.Fatalf("%d and %d lines for 2 000 each:\n%s", bad, refused, logs.String())
	}
}
