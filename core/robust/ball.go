package robust

import (
	"math"
	"math/rand/v2"
)

// project maps every row of x (N, D) to the nearest point (in the threat
// model's norm) of the eps-ball around the matching row of x0, then clips it
// to [0, 1]. Clipping after the l_2 projection stays in the ball because x0
// lies in the box: clipping moves every coordinate towards x0.
func project(x, x0 []float32, d int, p Norm, eps float32) {
	n := len(x) / d
	for i := range n {
		xi, x0i := x[i*d:(i+1)*d], x0[i*d:(i+1)*d]
		switch p {
		case Linf:
			for j, v := range xi {
				lo := max(x0i[j]-eps, 0)
				hi := min(x0i[j]+eps, 1)
				xi[j] = min(max(v, lo), hi)
				// float32 rounding of x0 -+ eps may leave |x - x0| an ulp above eps.
				for xi[j]-x0i[j] > eps {
					xi[j] = math.Nextafter32(xi[j], x0i[j])
				}
				for x0i[j]-xi[j] > eps {
					xi[j] = math.Nextafter32(xi[j], x0i[j])
				}
			}
		case L2:
			s := 0.0
			for j, v := range xi {
				t := float64(v) - float64(x0i[j])
				s += t * t
			}
			nrm := math.Sqrt(s)
			scale := 1.0
			if nrm > float64(eps) {
				scale = float64(eps) / nrm
			}
			for j, v := range xi {
				t := (float64(v) - float64(x0i[j])) * scale
				xi[j] = min(max(float32(float64(x0i[j])+t), 0), 1)
			}
			// float32 rounding may leave the norm a hair above eps: shrink again.
			fixL2(xi, x0i, eps)
		default:
			panic("robust: unknown norm " + p.String())
		}
	}
}

// fixL2 shrinks xi - x0i towards zero until the norm of its float32
// differences is at most eps.
func fixL2(xi, x0i []float32, eps float32) {
	for it := 0; ; it++ {
		s := 0.0
		for j, v := range xi {
			t := float64(v - x0i[j])
			s += t * t
		}
		if math.Sqrt(s) <= float64(eps) {
			return
		}
		for j, v := range xi {
			xi[j] = x0i[j] + (v-x0i[j])*float32(1-1e-6*float64(it+1))
		}
	}
}

// uniformBall writes into x (N, D) a point drawn uniformly from the eps-ball
// around each row of x0, clipped to [0, 1]: l_inf, independent U(-eps, eps)
// per coordinate; l_2, a Gaussian direction scaled to radius eps U^(1/D).
func uniformBall(x, x0 []float32, d int, p Norm, eps float32, rng *rand.Rand) {
	n := len(x) / d
	for i := range n {
		xi, x0i := x[i*d:(i+1)*d], x0[i*d:(i+1)*d]
		switch p {
		case Linf:
			for j := range xi {
				xi[j] = x0i[j] + eps*float32(2*rng.Float64()-1)
			}
		case L2:
			s := 0.0
			for j := range xi {
				g := rng.NormFloat64()
				xi[j] = float32(g)
				s += g * g
			}
			r := float64(eps) * math.Pow(rng.Float64(), 1/float64(d)) / math.Max(math.Sqrt(s), 1e-30)
			for j := range xi {
				xi[j] = x0i[j] + float32(float64(xi[j])*r)
			}
		}
	}
	project(x, x0, d, p, eps)
}

// boundaryStart is the APGD initial point: l_inf, x0 + eps t / max|t| with t
// uniform in [-1, 1]^D; l_2, x0 + eps g / ||g|| with g Gaussian; then clipped.
func boundaryStart(x, x0 []float32, d int, p Norm, eps float32, rng *rand.Rand) {
	n := len(x) / d
	for i := range n {
		xi, x0i := x[i*d:(i+1)*d], x0[i*d:(i+1)*d]
		t := make([]float64, d)
		m := 0.0
		for j := range t {
			switch p {
			case Linf:
				t[j] = 2*rng.Float64() - 1
				m = math.Max(m, math.Abs(t[j]))
			case L2:
				t[j] = rng.NormFloat64()
				m += t[j] * t[j]
			}
		}
		if p == L2 {
			m = math.Sqrt(m)
		}
		m = math.Max(m, 1e-30)
		for j := range xi {
			xi[j] = x0i[j] + float32(float64(eps)*t[j]/m)
		}
	}
	project(x, x0, d, p, eps)
}

// ascend adds eta times the steepest-ascent direction of g to x, row by
// row: eta sign(g) for l_inf, eta g / (||g|| + 1e-12) for l_2.
func ascend(x, g []float32, d int, p Norm, eta []float32) {
	n := len(x) / d
	for i := range n {
		xi, gi := x[i*d:(i+1)*d], g[i*d:(i+1)*d]
		switch p {
		case Linf:
			for j, v := range gi {
				switch {
				case v > 0:
					xi[j] += eta[i]
				case v < 0:
					xi[j] -= eta[i]
				}
			}
		case L2:
			s := 0.0
			for _, v := range gi {
				s += float64(v) * float64(v)
			}
			c := float64(eta[i]) / (math.Sqrt(s) + 1e-12)
			for j, v := range gi {
				xi[j] += float32(float64(v) * c)
			}
		}
	}
}

// distance returns the largest distance (in norm p) between matching rows.
func distance(x, x0 []float32, d int, p Norm) float64 {
	n := len(x) / d
	worst := 0.0
	for i := range n {
		s := 0.0
		for j := i * d; j < (i+1)*d; j++ {
			t := math.Abs(float64(x[j] - x0[j]))
			if p == Linf {
				s = math.Max(s, t)
			} else {
				s += t * t
			}
		}
		if p == L2 {
			s = math.Sqrt(s)
		}
		worst = math.Max(worst, s)
	}
	return worst
}
