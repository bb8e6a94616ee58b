package robust

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Square is the l_inf Square Attack of Andriushchenko et al. (2020), a
// score-based random search that needs only logits. Each point starts at
// vertical stripes x + eps s (s = +-1 drawn per channel and column), clipped
// to [0, 1]. At each iteration a window of side round(sqrt(p D / C)) (at
// least 1, at most H and W) at a uniform position gets a new +-2 eps per
// channel added, projected back onto the ball and [0, 1]; the candidate is
// kept when it lowers the margin loss z_y - max_{j != y} z_j. The fraction p
// starts at PInit and is halved at iterations 10, 50, 200, 500, 1000, 2000,
// 4000, 6000 and 8000 of a 10,000-query schedule rescaled to Queries, as in
// AutoAttack. Each query is one forward pass of one point; a point stops as
// soon as it is misclassified. Inputs with H = 1 (1-D signals) use a
// segment of max(1, round(p W)) coordinates instead of a square.
//
// Differences from AutoAttack's code: the window and its signs are drawn per
// point (as in the original Square Attack code), not once per batch; a window
// whose change vanishes after clipping is redrawn (up to 10 times); the
// initial query counts towards Queries. A *Square records the queries of its
// last call and is not safe for concurrent use.
type Square struct {
	Eps     float32
	Queries int     // per point, including the initial one; 0 means 5000
	PInit   float64 // 0 means 0.8
	// Shape is (C, H, W) of one input row; the zero value means (1, 1, D).
	Shape [3]int

	queries []int // per point, of the last Perturb call
}

// Name returns "square".
func (a *Square) Name() string { return "square" }

// QueriesUsed returns the number of queries each point of the last Perturb
// call used.
func (a *Square) QueriesUsed() []int { return a.queries }

// pHalvings are the iterations of a 10,000-query schedule after which the
// Square Attack halves p.
var pHalvings = [...]int{10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000}

// pSelection returns the fraction of coordinates changed at iteration it.
func pSelection(it, queries int, pInit float64) float64 {
	it = int(float64(it) / float64(queries) * 10000)
	p := pInit
	for _, h := range pHalvings {
		if it <= h {
			break
		}
		p /= 2
	}
	return p
}

// Perturb implements Attack.
func (a *Square) Perturb(f Classifier, x []float32, y []int, rng *rand.Rand) []float32 {
	n, d, k := checkAttackArgs("Square", f, x, y)
	checkEps("Square", a.Eps)
	a.queries = make([]int, n)
	if n == 0 {
		return nil
	}
	c, h, w := a.Shape[0], a.Shape[1], a.Shape[2]
	if c == 0 && h == 0 && w == 0 {
		c, h, w = 1, 1, d
	}
	if c*h*w != d || c <= 0 {
		panic(fmt.Sprintf("robust.Square: Shape (C=%d, H=%d, W=%d) does not match D=%d", c, h, w, d))
	}
	queries := a.Queries
	if queries <= 0 {
		queries = 5000
	}
	pInit := a.PInit
	if pInit <= 0 {
		pInit = 0.8
	}
	eps := a.Eps

	// Initial vertical stripes.
	xb := make([]float32, n*d)
	for i := range n {
		for ch := range c {
			for col := range w {
				s := eps
				if rng.IntN(2) == 0 {
					s = -eps
				}
				for row := range h {
					j := i*d + (ch*h+row)*w + col
					xb[j] = x[j] + s
				}
			}
		}
	}
	project(xb, x, d, Linf, eps)
	t := newTracker(x, n, d, k)
	z := f.Logits(xb, n)
	checkLogits("Square", z, n, k)
	t.update(xb, z, y, nil)
	best := make([]float32, n) // margin of the current point xb
	for i := range n {
		best[i], _ = margin(z[i*k:(i+1)*k], y[i])
		a.queries[i] = 1
	}

	active := make([]int, 0, n)
	for it := 1; it < queries; it++ {
		active = active[:0]
		for i := range n {
			if !t.fooled[i] {
				active = append(active, i)
			}
		}
		if len(active) == 0 {
			break
		}
		p := pSelection(it-1, queries, pInit)
		sh, sw := 1, 1
		if h == 1 {
			sw = min(max(int(math.Round(p*float64(w))), 1), w)
		} else {
			s := max(int(math.Round(math.Sqrt(p*float64(d)/float64(c)))), 1)
			sh, sw = min(s, h), min(s, w)
		}
		xc := gather(xb, d, active)
		for r, i := range active {
			xi, x0 := xc[r*d:(r+1)*d], x[i*d:(i+1)*d]
			// Redraw (a few times) a window whose change would vanish after
			// clipping, as the reference does.
			for try := 0; try < 10; try++ {
				vh, vw := rng.IntN(h-sh+1), rng.IntN(w-sw+1)
				changed := false
				for ch := range c {
					s := 2 * eps
					if rng.IntN(2) == 0 {
						s = -s
					}
					for row := vh; row < vh+sh; row++ {
						for col := vw; col < vw+sw; col++ {
							j := (ch*h+row)*w + col
							v := min(max(xi[j]+s, x0[j]-eps, 0), x0[j]+eps, 1)
							if v != xi[j] {
								changed = true
							}
							xi[j] = v
						}
					}
				}
				if changed {
					break
				}
			}
		}
		project(xc, gather(x, d, active), d, Linf, eps)
		z := f.Logits(xc, len(active))
		checkLogits("Square", z, len(active), k)
		ya := gatherInts(y, active)
		t.update(xc, z, ya, active)
		for r, i := range active {
			a.queries[i]++
			m, _ := margin(z[r*k:(r+1)*k], ya[r])
			if m < best[i] || argmax(z[r*k:(r+1)*k]) != ya[r] {
				best[i] = m
				copy(xb[i*d:(i+1)*d], xc[r*d:(r+1)*d])
			}
		}
	}
	return t.x
}
