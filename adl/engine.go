package adl

import "fmt"

// Engine holds every symbol's Ranking, for the one ADL actor. Callers on a
// hot path keep the *Ranking rather than looking it up per message.
type Engine struct {
	syms map[string]*Ranking
}

// NewEngine returns an engine with no symbols.
func NewEngine() *Engine { return &Engine{syms: make(map[string]*Ranking)} }

// Add creates a symbol's ranking.
func (e *Engine) Add(cfg Config) (*Ranking, error) {
	if cfg.Symbol == "" {
		return nil, fmt.Errorf("%w: empty symbol", ErrInvalidConfig)
	}
	if _, dup := e.syms[cfg.Symbol]; dup {
		return nil, fmt.Errorf("%w: %s", ErrDuplicateSymbol, cfg.Symbol)
	}
	rk, err := New(cfg)
	if err != nil {
		return nil, err
	}
	e.syms[cfg.Symbol] = rk
	return rk, nil
}

// Symbol returns a symbol's ranking.
func (e *Engine) Symbol(sym string) (*Ranking, error) {
	rk, ok := e.syms[sym]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownSymbol, sym)
	}
	return rk, nil
}
