package loadtest

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func TestPlotIsSelfContainedHTML(t *testing.T) {
	rep := &Report{RunID: "r<1>", TargetRate: 1000, InvariantsOK: true, Shock: &ShockReport{AtS: 1.5}}
	for i := range 4 {
		rep.Series = append(rep.Series, Point{T: float64(i + 1), SentPerS: 1000, RepliesPerS: 990,
			Latency: Latency{P50: 80, P90: 120, P99: 400, P999: 900, Max: int64(2000 * (i + 1))}})
	}
	var buf bytes.Buffer
	if err := rep.WritePlot(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if !strings.HasPrefix(page, "<!doctype html>") || strings.Contains(page, "<script") || strings.Contains(page, "r<1>") {
		t.Fatalf("not a static, escaped page:\n%s", page)
	}
	if n := strings.Count(page, "http"); n != 2 { // the two SVG namespaces
		t.Errorf("%d URLs in the page: it must not load anything", n)
	}
	if got := strings.Count(page, "<polyline"); got != 7 {
		t.Errorf("%d lines, want 5 latency percentiles and 2 rates", got)
	}
	if !strings.Contains(page, ">shock<") || !strings.Contains(page, "<title>max 4.0s: 8000</title>") {
		t.Error("missing the shock marker or the hover values")
	}
	// Each chart must be well-formed XML to render.
	for _, part := range strings.Split(page, "<svg")[1:] {
		svg := "<svg" + part[:strings.Index(part, "</svg>")+len("</svg>")]
		dec := xml.NewDecoder(strings.NewReader(svg))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("chart is not well-formed: %v", err)
			}
		}
	}
}

func TestPlotOfAnEmptyRun(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Report{}).WritePlot(&buf); err != nil || !strings.Contains(buf.String(), "</html>") {
		t.Fatalf("%v: %q", err, buf.String())
	}
}
