package app

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// unitsFile names, in a data directory, what its state is measured in. The
// journal and snapshots hold prices in ticks, quantities in lots, money in
// the settlement asset's units and the symbols by position, so a start under
// another tick, lot, contract or symbol list would read every book, order
// and position in the new units without a word (a bid at 26 600 with tick
// 0.1 became 266 000 under tick 1); and the journal's stream is named by the
// subject prefix, so another --prefix finds none of it.
const unitsFile = "units.json"

type dataUnits struct {
	Prefix  string        `json:"prefix"`
	Symbols []symbolUnits `json:"symbols"`
}

type symbolUnits struct {
	Symbol   string `json:"symbol"`
	Contract string `json:"contract"`
	Quote    string `json:"quote"`
	Settle   string `json:"settle"`
	Tick     string `json:"tick"`
	Lot      string `json:"lot"`
	InverseK int64  `json:"inverse_k"` // an inverse contract's size, in its units
}

func unitsOf(prefix string, syms []*market.Symbol) dataUnits {
	u := dataUnits{Prefix: cmp.Or(prefix, wire.DefaultPrefix)}
	for _, s := range syms {
		u.Symbols = append(u.Symbols, symbolUnits{Symbol: s.Name, Contract: s.Kind.String(), Quote: s.Quote, Settle: s.Settle,
			Tick: s.TickSize.String(), Lot: s.LotSize.String(), InverseK: int64(s.InverseK)})
	}
	return u
}

// rulesFP fingerprints the config the actors decide by: every symbol's
// rules (fees, margin tiers, leverage, funding, bands...), the default
// margin mode and the history kept. Records replayed under other rules
// would rebuild a state nobody acknowledged (fees charged differently, a
// liquidation decided differently): the journal's version records and
// snapshots carry it, and replay refuses records of another
// (actors.Options.Rules, ErrRules).
func rulesFP(cfg *config.Config) uint64 {
	b, err := json.Marshal(struct {
		Symbols    []market.SymbolConfig `json:"symbols"`
		MarginMode string                `json:"margin_mode"`
		History    config.History        `json:"history"`
	}{cfg.Symbols, cfg.MarginMode, cfg.History})
	if err != nil {
		panic(fmt.Sprintf("app: the config does not marshal: %v", err)) // it was unmarshaled
	}
	sum := sha256.Sum256(b)
	return max(1, binary.BigEndian.Uint64(sum[:8])) // 0 is "unchecked"
}

// checkUnits refuses to start on a data directory written under other
// units than want; a directory without the file (new, or of an older
// version) passes.
func checkUnits(dir string, want dataUnits) error {
	b, err := os.ReadFile(filepath.Join(dir, unitsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var had dataUnits
	if err == nil {
		err = json.Unmarshal(b, &had)
	}
	if err != nil {
		return fmt.Errorf("app: data directory %s: %s: %w", dir, unitsFile, err)
	}
	if diff := unitsDiff(had, want); diff != "" {
		return fmt.Errorf("app: data directory %s was written under other units: %s; its books, orders and positions are kept in them: start it with the config and --prefix it was written under (%s)",
			dir, diff, unitsFile)
	}
	return nil
}

// unitsDiff says the first difference between the directory's units and
// this start's, "" when there is none.
func unitsDiff(had, want dataUnits) string {
	if had.Prefix != want.Prefix {
		return fmt.Sprintf("--prefix %q, now %q", had.Prefix, want.Prefix)
	}
	names := func(u dataUnits) (n []string) {
		for _, s := range u.Symbols {
			n = append(n, s.Symbol)
		}
		return n
	}
	if h, w := names(had), names(want); fmt.Sprint(h) != fmt.Sprint(w) {
		return fmt.Sprintf("symbols %v, now %v", h, w)
	}
	for i, h := range had.Symbols {
		w := want.Symbols[i]
		for _, f := range [][3]string{{"contract", h.Contract, w.Contract}, {"quote", h.Quote, w.Quote}, {"settle", h.Settle, w.Settle},
			{"tick", h.Tick, w.Tick}, {"lot", h.Lot, w.Lot}, {"inverse_k", fmt.Sprint(h.InverseK), fmt.Sprint(w.InverseK)}} {
			if f[1] != f[2] {
				return fmt.Sprintf("%s's %s %s, now %s", h.Symbol, f[0], f[1], f[2])
			}
		}
	}
	return ""
}

// writeUnits records u in dir once a start succeeded (a failed start on an
// older directory must not record the units it was refused under).
func writeUnits(dir string, u dataUnits) error {
	b, err := json.MarshalIndent(u, "", " ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, unitsFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return fmt.Errorf("app: data directory: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("app: data directory: %w", err)
	}
	return nil
}
