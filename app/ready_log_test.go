package app_test

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/perpx/perpx/app"
)

// TestReadyLineSaysWhere: the ready line names the web page's address and
// the data directory, so an operator who took the defaults sees where the
// page is and where the state is kept ("" = in memory).
func TestReadyLineSaysWhere(t *testing.T) {
	logs := &logBuf{}
	o := app.Options{NATSListen: "127.0.0.1:-1", HTTP: freeAddr(t), Index: "manual", Data: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	a, err := app.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`msg=ready nats=\S+ http=` + regexp.QuoteMeta(o.HTTP) + ` data=` + regexp.QuoteMeta(o.Data) + ` `)
	if !want.MatchString(logs.String()) {
		t.Errorf("no ready line with http=%s data=%s:\n%s", o.HTTP, o.Data, logs.String())
	}
	if err := a.Close(context.Background()); err != nil { // the feed's goroutine is done
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "replay") { // the manual index has nothing to replay
		t.Errorf("a manual index logs a replay:\n%s", logs.String())
	}
}
