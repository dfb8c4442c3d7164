package actors

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/perpx/perpx/adl"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
)

// coreSentinels is every exported Err* sentinel of fund and adl
// (TestCoreSentinelsListed checks it against their sources). A new
// sentinel must be added here and to coreErrors.
var coreSentinels = map[string]error{
	"fund.ErrInvalidConfig":        fund.ErrInvalidConfig,
	"fund.ErrInvalidAsset":         fund.ErrInvalidAsset,
	"fund.ErrInvalidAmount":        fund.ErrInvalidAmount,
	"fund.ErrInvalidReservation":   fund.ErrInvalidReservation,
	"fund.ErrDuplicateReservation": fund.ErrDuplicateReservation,
	"fund.ErrUnknownReservation":   fund.ErrUnknownReservation,
	"fund.ErrAssetMismatch":        fund.ErrAssetMismatch,
	"fund.ErrOverflow":             fund.ErrOverflow,
	"fund.ErrSnapshot":             fund.ErrSnapshot,
	"fund.ErrSnapshotVersion":      fund.ErrSnapshotVersion,
	"adl.ErrInvalidConfig":         adl.ErrInvalidConfig,
	"adl.ErrInvalidMode":           adl.ErrInvalidMode,
	"adl.ErrUnknownSymbol":         adl.ErrUnknownSymbol,
	"adl.ErrDuplicateSymbol":       adl.ErrDuplicateSymbol,
	"adl.ErrInvalidSide":           adl.ErrInvalidSide,
	"adl.ErrInvalidQty":            adl.ErrInvalidQty,
	"adl.ErrInvalidCost":           adl.ErrInvalidCost,
	"adl.ErrInvalidMargin":         adl.ErrInvalidMargin,
	"adl.ErrInvalidPrice":          adl.ErrInvalidPrice,
	"adl.ErrInvalidAmount":         adl.ErrInvalidAmount,
	"adl.ErrNoMark":                adl.ErrNoMark,
	"adl.ErrNoPosition":            adl.ErrNoPosition,
	"adl.ErrQtyExceedsPosition":    adl.ErrQtyExceedsPosition,
	"adl.ErrOverflow":              adl.ErrOverflow,
	"adl.ErrSnapshot":              adl.ErrSnapshot,
	"adl.ErrSnapshotVersion":       adl.ErrSnapshotVersion,
}

// TestCoreSentinelsListed: coreSentinels names exactly the exported Err*
// variables declared in fund's and adl's sources.
func TestCoreSentinelsListed(t *testing.T) {
	var declared []string
	for _, pkg := range []string{"fund", "adl"} {
		files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s sources: %v", pkg, err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
					for _, sp := range g.Specs {
						for _, n := range sp.(*ast.ValueSpec).Names {
							if strings.HasPrefix(n.Name, "Err") {
								declared = append(declared, pkg+"."+n.Name)
							}
						}
					}
				}
			}
		}
	}
	for _, name := range declared {
		if _, ok := coreSentinels[name]; !ok {
			t.Errorf("%s is not in coreSentinels (nor, then, checked against coreErrors)", name)
		}
	}
	for name := range coreSentinels {
		if !slices.Contains(declared, name) {
			t.Errorf("coreSentinels lists %s, which fund and adl do not declare", name)
		}
	}
}

// TestErrorTablesCoverEveryCode: every risk.Code and book.RejectCode has its
// own entry in riskErrors and bookErrors, with a contract code and a
// message, and riskError/bookError send it; a core code named like a
// contract code is sent as that code. Every fund and adl sentinel has one
// entry in coreErrors, and coreError sends its code with the error's text.
func TestErrorTablesCoverEveryCode(t *testing.T) {
	check := func(what, name string, i int, table []wireError, got *wire.Error) {
		t.Helper()
		if i >= len(table) || table[i].code == "" {
			t.Errorf("%s %s (%d) has no entry", what, name, i)
			return
		}
		e := table[i]
		if !e.code.Known() || e.msg == "" {
			t.Errorf("%s %s: %+v", what, name, e)
		}
		if same := wire.Code(name); same.Known() && e.code != same {
			t.Errorf("%s %s is sent as %s", what, name, e.code)
		}
		if got.Code != e.code || got.Message != e.msg {
			t.Errorf("%s %s: sent %v, want %+v", what, name, got, e)
		}
	}
	for _, c := range risk.Codes() {
		check("risk code", c.String(), int(c), riskErrors[:], riskError(c))
	}
	for _, c := range book.RejectCodes() {
		check("book reject", c.String(), int(c), bookErrors[:], bookError(c))
	}
	if len(riskErrors) != len(risk.Codes()) || len(bookErrors) != len(book.RejectCodes()) {
		t.Errorf("%d risk entries for %d codes, %d book entries for %d codes", len(riskErrors), len(risk.Codes()), len(bookErrors), len(book.RejectCodes()))
	}
	if e := riskError(risk.Code(200)); e.Code != wire.CodeInternal {
		t.Errorf("an unknown risk code is sent as %v", e)
	}
	if e := bookError(book.RejectCode(200)); e.Code != wire.CodeInternal {
		t.Errorf("an unknown book reject is sent as %v", e)
	}
	for name, sentinel := range coreSentinels {
		n := 0
		for _, e := range coreErrors {
			if e.sentinel == sentinel {
				n++
				if !e.code.Known() {
					t.Errorf("%s is sent as %q", name, e.code)
				}
				err := fmt.Errorf("%w: detail", sentinel)
				if got := coreError(err); got.Code != e.code || got.Message != err.Error() {
					t.Errorf("%s: sent %v, want %s %q", name, got, e.code, err)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s has %d entries in coreErrors", name, n)
		}
	}
	if len(coreErrors) != len(coreSentinels) {
		t.Errorf("%d core entries for %d sentinels", len(coreErrors), len(coreSentinels))
	}
	if e := coreError(errors.New("boom")); e.Code != wire.CodeInternal || e.Message != "boom" {
		t.Errorf("an unknown error is sent as %v", e)
	}
}

func TestSTPModes(t *testing.T) {
	for m := book.STPCancelMaker; m <= book.STPNone; m++ {
		if w := wireSTP(m); w == "" || bookSTP(w) != m || w != wire.STP(m.String()) {
			t.Errorf("%v: wire %q, back %v", m, w, bookSTP(w))
		}
	}
	if bookSTP("") != bookSTP(wire.DefaultSTP) {
		t.Errorf("an order naming no stp gets %v, want the default %s", bookSTP(""), wire.DefaultSTP)
	}
}
