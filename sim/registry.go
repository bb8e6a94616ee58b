package sim

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Param describes one numeric parameter of an experiment.
type Param struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Default     float64 `json:"default"`
	Min         float64 `json:"min"` // inclusive
	Max         float64 `json:"max"` // inclusive
	Integer     bool    `json:"integer"`
}

// check returns an error naming the parameter and its range if v is not allowed.
func (p Param) check(v float64) error {
	kind := "a number"
	if p.Integer {
		kind = "an integer"
	}
	if math.IsNaN(v) || v < p.Min || v > p.Max || (p.Integer && v != math.Trunc(v)) {
		return fmt.Errorf("sim: parameter %s = %s must be %s in [%s, %s]", p.Name, fmtNum(v), kind, fmtNum(p.Min), fmtNum(p.Max))
	}
	return nil
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Values maps parameter names to values.
type Values map[string]float64

// Int returns the named value as an int.
func (v Values) Int(name string) int { return int(v.Float(name)) }

// Float returns the named value; it panics on a name the experiment does not have.
func (v Values) Float(name string) float64 {
	x, ok := v[name]
	if !ok {
		panic("sim: no parameter " + name)
	}
	return x
}

// Series is one curve of a result: Y against X, with an optional confidence
// band [Lo, Hi] (Monte Carlo series: mean -/+ 1.96 standard errors).
type Series struct {
	Name string    `json:"name"`
	X    []float64 `json:"x"`
	Y    []float64 `json:"y"`
	Lo   []float64 `json:"lo,omitempty"`
	Hi   []float64 `json:"hi,omitempty"`
}

// Panel is one plot: axes and the series drawn on them.
type Panel struct {
	Title  string   `json:"title"`
	XLabel string   `json:"xlabel"`
	YLabel string   `json:"ylabel"`
	LogX   bool     `json:"logx,omitempty"`
	Series []Series `json:"series"`
}

// Result is the output of one experiment run.
type Result struct {
	Experiment string   `json:"experiment"`
	Seed       uint64   `json:"seed"`
	Params     Values   `json:"params"`
	Panels     []Panel  `json:"panels"`
	Notes      []string `json:"notes,omitempty"`
}

// WriteCSV writes the result in long form: panel,series,x,y,lo,hi (lo and hi
// empty where a series has no band).
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"panel", "series", "x", "y", "lo", "hi"}); err != nil {
		return err
	}
	for _, p := range r.Panels {
		for _, s := range p.Series {
			for i := range s.X {
				lo, hi := "", ""
				if s.Lo != nil {
					lo, hi = fmtNum(s.Lo[i]), fmtNum(s.Hi[i])
				}
				if err := cw.Write([]string{p.Title, s.Name, fmtNum(s.X[i]), fmtNum(s.Y[i]), lo, hi}); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// Progress is told how many of the total units of work are done.
type Progress func(done, total int)

// Experiment is one registry entry.
type Experiment struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Params      []Param  `json:"params"`
	Outputs     []string `json:"outputs"` // the series it produces, "panel: series"
	run         func(p Values, seed uint64, prog *progress) (*Result, error)
}

// Param returns the named parameter.
func (e *Experiment) Param(name string) (Param, bool) {
	for _, p := range e.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Defaults returns every parameter at its default.
func (e *Experiment) Defaults() Values {
	v := Values{}
	for _, p := range e.Params {
		v[p.Name] = p.Default
	}
	return v
}

// Resolve validates overrides and returns the full parameter set. Errors
// name the parameter and its range, or list the parameters that exist.
func (e *Experiment) Resolve(overrides map[string]float64) (Values, error) {
	v := e.Defaults()
	names := make([]string, 0, len(overrides))
	for n := range overrides {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p, ok := e.Param(n)
		if !ok {
			return nil, fmt.Errorf("sim: experiment %s has no parameter %q (it has: %s)", e.Name, n, e.paramNames())
		}
		if err := p.check(overrides[n]); err != nil {
			return nil, err
		}
		v[n] = overrides[n]
	}
	return v, nil
}

// Parse converts textual overrides (from a command line or a URL) to numbers,
// with errors naming the parameter.
func (e *Experiment) Parse(text map[string]string) (map[string]float64, error) {
	out := make(map[string]float64, len(text))
	for n, s := range text {
		if _, ok := e.Param(n); !ok {
			return nil, fmt.Errorf("sim: experiment %s has no parameter %q (it has: %s)", e.Name, n, e.paramNames())
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("sim: parameter %s: %q is not a number", n, s)
		}
		out[n] = x
	}
	return out, nil
}

func (e *Experiment) paramNames() string {
	var s []string
	for _, p := range e.Params {
		s = append(s, p.Name)
	}
	return strings.Join(s, ", ")
}

// Run validates the overrides and runs the experiment. The same seed and
// parameters give the same result on every platform. progress may be nil.
func (e *Experiment) Run(overrides map[string]float64, seed uint64, onProgress Progress) (*Result, error) {
	v, err := e.Resolve(overrides)
	if err != nil {
		return nil, err
	}
	r, err := e.run(v, seed, &progress{f: onProgress})
	if err != nil {
		return nil, err
	}
	r.Experiment, r.Seed, r.Params = e.Name, seed, v
	return r, nil
}

// progress counts units of work and reports them.
type progress struct {
	f           Progress
	done, total int
}

func (p *progress) add(total int) { p.total += total }

func (p *progress) step() {
	p.done++
	if p.f != nil {
		p.f(p.done, p.total)
	}
}

var registry []*Experiment

func register(e *Experiment) {
	for _, o := range registry {
		if o.Name == e.Name {
			panic("sim: experiment registered twice: " + e.Name)
		}
	}
	for _, p := range e.Params {
		if err := p.check(p.Default); err != nil {
			panic("sim: experiment " + e.Name + ": default out of range: " + err.Error())
		}
	}
	registry = append(registry, e)
}

// Experiments returns every registered experiment, in a fixed order.
func Experiments() []*Experiment { return append([]*Experiment(nil), registry...) }

// Lookup returns the named experiment.
func Lookup(name string) (*Experiment, error) {
	var names []string
	for _, e := range registry {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return nil, fmt.Errorf("sim: no experiment %q (there are: %s)", name, strings.Join(names, ", "))
}

// pointRNG returns the generator of one sweep point: every point has its own
// stream derived from the seed, so results do not depend on evaluation order.
func pointRNG(seed uint64, series, point int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(series)<<32|uint64(point)+0x9e3779b97f4a7c15))
}
