package hnsw

import (
	"github.com/strata-db/strata/internal/base"
)

// Defaults of [Params].
const (
	DefaultM              = 16
	DefaultEfConstruction = 100
)

// Limits on parameters, so that sizes stay far from overflow and a corrupt
// header cannot ask for absurd allocations.
const (
	minM     = 2
	maxM     = 1024
	maxLevel = 32 // levels are drawn with P(level >= l) = M^-l; 32 is unreachable in practice
)

// Params configures [Build]. The zero value is valid: EnsureDefaults fills
// it in.
type Params struct {
	// M is the maximum number of neighbours per node on the upper layers
	// (default 16); layer 0 keeps up to 2*M. A new node is connected to at
	// most M neighbours on every layer.
	M int
	// EfConstruction is the beam width of the searches that find a new
	// node's neighbours (default 100; values below M are raised to M).
	EfConstruction int
	// Seed seeds the level generator, so builds with one thread are
	// deterministic.
	Seed uint64
}

// EnsureDefaults sets zero (or negative) fields to their defaults.
func (p *Params) EnsureDefaults() {
	if p.M <= 0 {
		p.M = DefaultM
	}
	if p.EfConstruction <= 0 {
		p.EfConstruction = DefaultEfConstruction
	}
}

// validate reports parameters out of range, after EnsureDefaults.
func (p *Params) validate() error {
	if p.M < minM || p.M > maxM {
		return base.InvalidArgumentf("hnsw: M = %d is outside [%d, %d]", p.M, minM, maxM)
	}
	return nil
}
