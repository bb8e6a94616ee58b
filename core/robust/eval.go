package robust

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Config sets up an evaluation.
type Config struct {
	Norm      Norm
	Eps       float32
	Seed      uint64 // attack a draws from rand.New(rand.NewPCG(Seed, a+1))
	BatchSize int    // points per classifier call; 0 means 256
	// Attacks run in order; nil means StandardAttacks(Norm, Eps, Shape).
	Attacks []Attack
	// Individual runs every attack on all clean-correct points (its own
	// robust accuracy) instead of only on the points still robust; the
	// overall figure is the per-point worst case either way.
	Individual bool
	// Shape is (C, H, W) of one input row, for Square; zero means (1, 1, D).
	Shape [3]int
	// SquareAlpha is the accuracy drop (a fraction of N) by Square after the
	// white-box attacks above which a warning is raised; 0 means 0.002.
	SquareAlpha float64
}

// AttackReport is one attack's line of a Report.
type AttackReport struct {
	Name string `json:"name"`
	// RobustAcc is the robust accuracy after this attack: cumulative over
	// the attacks so far, or the attack's own with Config.Individual.
	RobustAcc float64 `json:"robust_acc"`
	// Fooled counts the points this attack fooled among those it ran on.
	Fooled  int     `json:"fooled"`
	Ran     int     `json:"ran_on"`
	Seconds float64 `json:"seconds"`
	// Queries is the mean number of queries per point (Square only).
	Queries float64 `json:"mean_queries,omitempty"`
}

// Report is the JSON record of an evaluation, in the spirit of RobustBench.
// Evaluate fills the figures; the caller fills the provenance strings.
type Report struct {
	Dataset     string         `json:"dataset"`
	ThreatModel string         `json:"threat_model"`
	Eps         float64        `json:"eps"`
	N           int            `json:"n_examples"`
	Seed        uint64         `json:"seed"`
	CleanAcc    float64        `json:"clean_acc"`
	RobustAcc   float64        `json:"robust_acc"`
	Attacks     []AttackReport `json:"attacks"`
	Individual  bool           `json:"individual"`
	Skipped     []string       `json:"skipped,omitempty"`
	Warnings    []string       `json:"warnings,omitempty"`
	MaxPerturb  float64        `json:"max_perturbation"`
	Seconds     float64        `json:"seconds"`
	Model       string         `json:"model,omitempty"`
	ModelSource string         `json:"model_source,omitempty"`
	DataSource  string         `json:"data_source,omitempty"`
	Version     string         `json:"version,omitempty"`

	// Robust marks the points that survived every attack (clean-correct too).
	Robust []bool `json:"-"`
	// XAdv holds the per-point worst case (N, D): the adversarial example
	// for fooled points, else the last attack's worst point (x itself for
	// points misclassified when clean).
	XAdv []float32 `json:"-"`
}

// StandardAttacks returns AutoAttack's standard sequence as far as it is
// implemented here: APGD-CE (100 steps), APGD-T (100 steps, 9 targets) and,
// for l_inf, Square (5000 queries). FAB-T is not implemented; Skipped lists
// what was left out.
func StandardAttacks(p Norm, eps float32, shape [3]int) (attacks []Attack, skipped []string) {
	attacks = []Attack{
		APGD{Norm: p, Eps: eps, Loss: CE},
		APGDT{Norm: p, Eps: eps},
	}
	skipped = []string{"fab-t: not implemented"}
	if p == Linf {
		attacks = append(attacks, &Square{Eps: eps, Shape: shape})
	} else {
		skipped = append(skipped, "square: only the l_inf version is implemented")
	}
	return attacks, skipped
}

// Evaluate measures the clean and robust accuracy of f on x (N, D) in
// [0, 1] with labels y. With the standard sequence each attack runs only on
// the points still robust after the previous ones, and a point counts as
// robust when no attack fooled it. It panics if an attack leaves the
// eps-ball or [0, 1] (a bug, not a property of f).
func Evaluate(f Classifier, x []float32, y []int, cfg Config) *Report {
	start := time.Now()
	n := len(y)
	d := dim(x, n, "Evaluate")
	k := f.NumClasses()
	checkLabels("Evaluate", y, k)
	checkEps("Evaluate", cfg.Eps)
	batch := cfg.BatchSize
	if batch <= 0 {
		batch = 256
	}
	r := &Report{
		ThreatModel: cfg.Norm.String(), Eps: shortest(cfg.Eps), N: n, Seed: cfg.Seed,
		Individual: cfg.Individual, Attacks: []AttackReport{},
	}
	attacks := cfg.Attacks
	if attacks == nil {
		attacks, r.Skipped = StandardAttacks(cfg.Norm, cfg.Eps, cfg.Shape)
	}
	if n == 0 {
		return r
	}

	r.CleanAcc, r.Robust = Accuracy(f, x, y, batch)
	clean := append([]bool(nil), r.Robust...)
	r.XAdv = append([]float32(nil), x...)
	r.Warnings = append(r.Warnings, checks(f, x, y, clean, d, k, batch, attacks)...)

	whiteBoxAcc := math.NaN()
	for ai, atk := range attacks {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(ai+1)))
		ar := AttackReport{Name: atk.Name()}
		t0 := time.Now()
		var idx []int
		for i := range n {
			if (cfg.Individual && clean[i]) || (!cfg.Individual && r.Robust[i]) {
				idx = append(idx, i)
			}
		}
		ar.Ran = len(idx)
		survived := 0
		queries := 0
		for lo := 0; lo < len(idx); lo += batch {
			bi := idx[lo:min(lo+batch, len(idx))]
			xb, yb := gather(x, d, bi), gatherInts(y, bi)
			xa := atk.Perturb(f, xb, yb, rng)
			if len(xa) != len(xb) {
				panic(fmt.Sprintf("robust.Evaluate: %s returned %d values for (N=%d, D=%d)", atk.Name(), len(xa), len(bi), d))
			}
			if dist := distance(xa, xb, d, cfg.Norm); dist > float64(cfg.Eps) || !inBox(xa) {
				panic(fmt.Sprintf("robust.Evaluate: %s left the %v ball of radius %g or [0, 1] (distance %g)", atk.Name(), cfg.Norm, cfg.Eps, dist))
			}
			if sq, ok := atk.(*Square); ok {
				for _, q := range sq.QueriesUsed() {
					queries += q
				}
			}
			_, ok := Accuracy(f, xa, yb, 0)
			for q, i := range bi {
				if ok[q] {
					survived++
				} else {
					ar.Fooled++
				}
				// Keep the first adversarial example found for a point.
				if r.Robust[i] {
					copy(r.XAdv[i*d:(i+1)*d], xa[q*d:(q+1)*d])
					r.Robust[i] = ok[q]
				}
			}
		}
		ar.Seconds = time.Since(t0).Seconds()
		if _, ok := atk.(*Square); ok && ar.Ran > 0 {
			ar.Queries = float64(queries) / float64(ar.Ran)
		}
		if cfg.Individual {
			ar.RobustAcc = float64(survived) / float64(n)
		} else {
			ar.RobustAcc = frac(r.Robust)
		}
		r.Attacks = append(r.Attacks, ar)
		if _, ok := atk.(*Square); ok {
			alpha := cfg.SquareAlpha
			if alpha <= 0 {
				alpha = 0.002
			}
			if !math.IsNaN(whiteBoxAcc) && whiteBoxAcc-ar.RobustAcc > alpha {
				r.Warnings = append(r.Warnings, fmt.Sprintf(
					"the black-box Square attack lowered the robust accuracy from %.2f%% to %.2f%% after the white-box attacks: gradient masking is likely and the evaluation may be unreliable",
					100*whiteBoxAcc, 100*ar.RobustAcc))
			}
		} else if !cfg.Individual {
			whiteBoxAcc = ar.RobustAcc
		} else if math.IsNaN(whiteBoxAcc) || ar.RobustAcc < whiteBoxAcc {
			whiteBoxAcc = ar.RobustAcc
		}
	}
	r.RobustAcc = frac(r.Robust)
	r.MaxPerturb = distance(r.XAdv, x, d, cfg.Norm)
	r.Seconds = time.Since(start).Seconds()
	return r
}

// shortest converts v to the float64 with v's shortest decimal form (0.1,
// not 0.10000000149011612).
func shortest(v float32) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
	return f
}

func frac(b []bool) float64 {
	if len(b) == 0 {
		return 0
	}
	c := 0
	for _, v := range b {
		if v {
			c++
		}
	}
	return float64(c) / float64(len(b))
}

func inBox(x []float32) bool {
	for _, v := range x {
		if !(v >= 0 && v <= 1) {
			return false
		}
	}
	return true
}

// checks looks for signs of gradient masking and misuse before the attacks,
// in the spirit of AutoAttack's checks: a randomised forward pass,
// probabilities instead of logits, zero input gradients of the CE and DLR
// losses at the clean-correct points (the DLR loss is flat where y is the
// third-largest logit), more target classes than K - 1.
func checks(f Classifier, x []float32, y []int, clean []bool, d, k, batch int, attacks []Attack) []string {
	var w []string
	var idx []int
	for i, ok := range clean {
		if ok {
			idx = append(idx, i)
		}
	}
	n := len(y)
	m := min(n, batch)
	z1 := append([]float32(nil), f.Logits(x[:m*d], m)...)
	z2 := f.Logits(x[:m*d], m)
	diff := 0.0
	for j := range z1 {
		diff = math.Max(diff, math.Abs(float64(z1[j])-float64(z2[j])))
	}
	if diff > 0 {
		w = append(w, fmt.Sprintf("two forward passes on the same input differ (by up to %.3g): the model looks randomised or non-deterministic; attacks assume a deterministic model (use EOT for randomised defences)", diff))
	}
	if looksLikeProbabilities(z1, m, k) {
		w = append(w, "the outputs are in [0, 1] and sum to 1 per row: they look like probabilities, not logits; the DLR and margin losses assume logits")
	}
	for _, loss := range []Loss{CE, DLR} {
		zero := 0
		for lo := 0; lo < len(idx); lo += batch {
			hi := min(lo+batch, len(idx))
			bi := idx[lo:hi]
			_, g := gradient(f, gather(x, d, bi), hi-lo, k, loss, lossArgs{y: gatherInts(y, bi)}, nil)
			for i := range hi - lo {
				allZero := true
				for _, v := range g[i*d : (i+1)*d] {
					if v != 0 {
						allZero = false
						break
					}
				}
				if allZero {
					zero++
				}
			}
		}
		if zero > 0 {
			w = append(w, fmt.Sprintf("%.1f%% of the correctly classified points have a zero input gradient of the %v loss: gradient-based attacks may be unreliable", 100*float64(zero)/float64(len(idx)), loss))
		}
	}
	for _, a := range attacks {
		if t, ok := a.(APGDT); ok && t.Targets > k-1 {
			w = append(w, fmt.Sprintf("apgd-t asks for %d target classes but K - 1 = %d: using %d", t.Targets, k-1, k-1))
		}
	}
	return w
}

func looksLikeProbabilities(z []float32, n, k int) bool {
	if n == 0 {
		return false
	}
	for i := range n {
		s := 0.0
		for _, v := range z[i*k : (i+1)*k] {
			if v < 0 || v > 1 {
				return false
			}
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-4 {
			return false
		}
	}
	return true
}
