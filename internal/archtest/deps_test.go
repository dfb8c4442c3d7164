package archtest

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const mod = "github.com/perpx/perpx/"

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Deps       []string
	Standard   bool
}

func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "github.com/perpx/perpx/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, mod)] = p
	}
	return pkgs
}

func isStd(path string) bool {
	first := strings.SplitN(path, "/", 2)[0]
	return !strings.Contains(first, ".")
}

// pure lists each pure core and the non-stdlib packages it may depend on
// (transitively; book's btree comes along with its value types).
var pure = map[string][]string{
	"book":   {btree},
	"market": {mod + "book", btree, decimal},
	"risk":   {mod + "book", mod + "market", btree, decimal},
	"fund":   {mod + "book", mod + "market", ring, btree, decimal},
	"adl":    {mod + "book", mod + "market", btree, decimal},
	// liq runs the liquidation protocol over the other cores' values.
	"liq": {mod + "book", mod + "market", mod + "risk", mod + "fund", ring, btree, decimal},
	// trigger holds one symbol's untriggered stops, take-profits and trailing stops.
	"trigger": {mod + "book", btree},
	// history keeps a symbol's candles, ticker window and recent trades.
	"history": {mod + "book", mod + "market", ring, btree, decimal},
	// internal/ring is the histories' bounded buffer: stdlib only.
	"internal/ring": {},
}

const (
	ring    = mod + "internal/ring"
	btree   = "github.com/google/btree"
	decimal = "github.com/shopspring/decimal"
)

func TestPureCoresDependOnlyOnAllowedPackages(t *testing.T) {
	pkgs := listPackages(t)
	for name, allowed := range pure {
		p, ok := pkgs[name]
		if !ok {
			t.Errorf("pure core %s is missing", name)
			continue
		}
		for _, d := range p.Deps {
			if isStd(d) {
				continue
			}
			if !allowedDep(d, allowed) {
				t.Errorf("%s depends on %s; DESIGN.md allows only stdlib and %v", name, d, allowed)
			}
		}
		for _, e := range impurities(t, p) {
			t.Error(e)
		}
	}
}

func allowedDep(d string, allowed []string) bool {
	for _, a := range allowed {
		if d == a || strings.HasPrefix(d, a+"/") {
			return true
		}
	}
	return false
}

// impurities parses the package's non-test files and reports time.Now,
// logging and goroutines: pure cores take time as a parameter and return events.
func impurities(t *testing.T, p pkg) (errs []string) {
	t.Helper()
	fset := token.NewFileSet()
	for _, f := range p.GoFiles {
		file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			switch strings.Trim(imp.Path.Value, `"`) {
			case "log", "log/slog", "os", "net", "sync":
				errs = append(errs, fmt.Sprintf("%s/%s imports %s; pure cores do no I/O, logging or locking", p.ImportPath, f, imp.Path.Value))
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "time" && (n.Sel.Name == "Now" || n.Sel.Name == "Since" || n.Sel.Name == "Sleep") {
					errs = append(errs, fmt.Sprintf("%s: time.%s in a pure core; pass time in", fset.Position(n.Pos()), n.Sel.Name))
				}
			case *ast.GoStmt:
				errs = append(errs, fmt.Sprintf("%s: goroutine in a pure core", fset.Position(n.Pos())))
			}
			return true
		})
	}
	return errs
}

// TestImpuritiesAreFound proves the checker above can fail.
func TestImpuritiesAreFound(t *testing.T) {
	dir := t.TempDir()
	src := "package x\nimport (\"log\"; \"time\")\nfunc f() { go log.Print(time.Now()) }\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	errs := impurities(t, pkg{ImportPath: "x", Dir: dir, GoFiles: []string{"x.go"}})
	if len(errs) != 3 {
		t.Fatalf("want 3 findings (log import, time.Now, go statement), got %q", errs)
	}
	if allowedDep("github.com/nats-io/nats.go", pure["risk"]) || !allowedDep(mod+"book", pure["risk"]) {
		t.Fatal("allowedDep misjudges")
	}
}

// TestImportBoundaries checks who may import protoactor-go, nats and the cores.
func TestImportBoundaries(t *testing.T) {
	pkgs := listPackages(t)
	for name, p := range pkgs {
		top := strings.SplitN(name, "/", 2)[0]
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "github.com/asynkron/protoactor-go") && top != "actors" && top != "bench" {
				t.Errorf("%s imports %s; only actors/ may use protoactor-go", name, imp)
			}
			if imp == mod+"bench" || strings.HasPrefix(imp, mod+"cmd/") {
				t.Errorf("%s imports %s; nothing imports bench or cmd", name, imp)
			}
		}
		// The journal stores opaque records: nats.go, never what they mean.
		if top == "journal" {
			for _, d := range p.Deps {
				dep := strings.TrimPrefix(d, mod)
				if _, core := pure[dep]; core || dep == "actors" || dep == "gateway" || dep == "app" {
					t.Errorf("%s depends on %s; the journal never imports the actors or the cores", name, d)
				}
			}
		}
		// The Binance face is a NATS client of the exchange, in-process or not.
		if top == "binance" {
			for _, d := range p.Deps {
				switch strings.TrimPrefix(d, mod) {
				case "actors", "gateway", "app", "journal", "natsrv":
					t.Errorf("%s depends on %s; the Binance face only speaks NATS to the exchange", name, d)
				}
			}
		}
		// cmd/loadtest may embed an exchange (--embedded); the client itself may not.
		if top == "loadtest" || top == "wire" {
			for _, d := range p.Deps {
				for core := range pure {
					if d == mod+core || d == mod+"actors" {
						t.Errorf("%s depends on %s; it must be a black-box NATS client", name, d)
					}
				}
			}
		}
	}
}
