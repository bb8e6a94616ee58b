package guide

import (
	"fmt"
	"math"

	"github.com/cdp-project/cdp/simd"
)

// Loss is a contrastive loss over a batch of N anchor/positive pairs.
//
// z (anchors) and zp (positives) are (N, D), rows L2-normalised. classes is
// nil (every other item of the batch is a negative) or holds one label per
// item (class-aware negatives: only items of another class are negatives).
// Loss returns L; when dz (resp. dzp) is not nil it is overwritten with
// dL/dz (resp. dL/dz'), (N, D). Through a clamp the gradient is that of the
// active branch (zero on a constant branch; at a tie, the unclamped one).
// Guidance uses dz only: the positive is a cached constant.
type Loss interface {
	Loss(z, zp []float32, n, d int, classes []int, dz, dzp []float32) float64
}

func checkPairs(name string, z, zp []float32, n, d int, classes, dz, dzp any) {
	if n < 0 || d < 0 || len(z) != n*d || len(zp) != n*d {
		panic(fmt.Sprintf("guide.%s: z has %d and z' %d values, want (N, D) = (%d, %d)", name, len(z), len(zp), n, d))
	}
	if c, ok := classes.([]int); ok && c != nil && len(c) != n {
		panic(fmt.Sprintf("guide.%s: %d classes for N = %d", name, len(c), n))
	}
	for _, g := range []any{dz, dzp} {
		if s, ok := g.([]float32); ok && s != nil && len(s) != n*d {
			panic(fmt.Sprintf("guide.%s: gradient has %d values, want (N, D) = (%d, %d)", name, len(s), n, d))
		}
	}
}

// InfoNCE is the InfoNCE loss with temperature Tau (0.1 in the authors' code):
// L = -(1/N) sum_i log( exp(z_i.z'_i/Tau) / sum_j exp(z_i.z'_j/Tau) ),
// where j runs over i and the negatives of i.
type InfoNCE struct {
	Tau float64
}

// DefaultInfoNCE returns InfoNCE with Tau = 0.1.
func DefaultInfoNCE() InfoNCE { return InfoNCE{Tau: 0.1} }

// Loss implements Loss.
func (l InfoNCE) Loss(z, zp []float32, n, d int, classes []int, dz, dzp []float32) float64 {
	checkPairs("InfoNCE", z, zp, n, d, classes, dz, dzp)
	if !(l.Tau > 0) {
		panic(fmt.Sprintf("guide.InfoNCE: Tau = %v", l.Tau))
	}
	if n == 0 {
		return 0
	}
	s := make([]float32, n*n) // (N, N): s_ij = z_i.z'_j / Tau
	simd.Similarity(s, z, zp, n, n, d, float32(l.Tau))
	want := dz != nil || dzp != nil
	var ds []float32
	if want {
		ds = make([]float32, n*n)
	}
	var loss float64
	for i := 0; i < n; i++ {
		row := s[i*n : (i+1)*n]
		in := func(j int) bool { return j == i || classes == nil || classes[j] != classes[i] }
		m := math.Inf(-1)
		for j, v := range row {
			if in(j) {
				m = math.Max(m, float64(v))
			}
		}
		var sum float64
		for j, v := range row {
			if in(j) {
				sum += math.Exp(float64(v) - m)
			}
		}
		lse := m + math.Log(sum)
		loss += lse - float64(row[i])
		if want {
			for j, v := range row {
				if in(j) {
					p := math.Exp(float64(v) - lse)
					if j == i {
						p--
					}
					ds[i*n+j] = float32(p / float64(n))
				}
			}
		}
	}
	if dz != nil { // dz = dS z' / Tau
		simd.Sgemm(false, false, n, d, n, float32(1/l.Tau), ds, n, zp, max(d, 1), 0, dz, max(d, 1))
	}
	if dzp != nil { // dz' = dS^T z / Tau
		simd.Sgemm(true, false, n, d, n, float32(1/l.Tau), ds, n, z, max(d, 1), 0, dzp, max(d, 1))
	}
	return loss / float64(n)
}

// HNM is the debiased hard-negative-mining loss of Robinson et al. (2021) as
// the authors of Contrastive-DP use it (METHOD.md section 3), with
// temperature T (10), class prior TauPlus (0.1) and concentration Beta (1):
//
//	out = [z; z'] (2N, D), M = 2N-2 (per row: the number of its negatives)
//	neg_rk = max(exp(out_r.out_k/T), 1e-4) over the columns k that are neither r nor its pair
//	pos_r = exp(z_i.z'_i/T) for r = i and r = i+N
//	reweighted_r = sum_k neg_rk^Beta neg_rk / mean_k neg_rk^Beta
//	Ng_r = max((-TauPlus M pos_r + reweighted_r)/(1 - TauPlus), M e^(-1/T))
//	L = -mean_r log(max(pos_r/(pos_r + Ng_r), 1e-4))
type HNM struct {
	T       float64 // temperature t
	TauPlus float64 // tau_plus, the class prior of the debiasing
	Beta    float64 // beta, the hardness concentration
}

// DefaultHNM returns HNM with the authors' defaults T = 10, TauPlus = 0.1, Beta = 1.
func DefaultHNM() HNM { return HNM{T: 10, TauPlus: 0.1, Beta: 1} }

// The clamps of the authors' HNM loss.
const (
	hnmNegFloor   = 1e-4 // floor of each exp(similarity) of a negative
	hnmRatioFloor = 1e-4 // floor of pos/(pos + Ng) inside the log
)

// Loss implements Loss.
func (l HNM) Loss(z, zp []float32, n, d int, classes []int, dz, dzp []float32) float64 {
	checkPairs("HNM", z, zp, n, d, classes, dz, dzp)
	if !(l.T > 0) || !(l.TauPlus >= 0 && l.TauPlus < 1) || !(l.Beta >= 0) {
		panic(fmt.Sprintf("guide.HNM: T = %v, TauPlus = %v, Beta = %v", l.T, l.TauPlus, l.Beta))
	}
	if n == 0 {
		return 0
	}
	n2, dd := 2*n, max(d, 1)
	out := make([]float32, n2*d) // (2N, D)
	copy(out, z)
	copy(out[n*d:], zp)
	g := make([]float32, n2*n2) // (2N, 2N): out_r.out_k / T
	simd.Similarity(g, out, out, n2, n2, d, float32(l.T))
	want := dz != nil || dzp != nil
	var dg []float64 // dL/dg, (2N, 2N)
	if want {
		dg = make([]float64, n2*n2)
	}
	pair := func(r int) int { return (r + n) % n2 }
	class := func(r int) int { return classes[r%n] }
	isNeg := func(r, k int) bool {
		return k != r && k != pair(r) && (classes == nil || class(k) != class(r))
	}
	floor := math.Exp(-1 / l.T)
	pow := func(v, p float64) float64 {
		switch p {
		case 0:
			return 1
		case 1:
			return v
		}
		return math.Pow(v, p)
	}
	e := make([]float64, n2) // exp(g_rk) of the current row; 0 where k is no negative
	var loss float64
	for r := 0; r < n2; r++ {
		i := r % n
		gp := float64(g[i*n2+i+n]) // z_i.z'_i / T, shared by rows i and i+N
		pos := math.Exp(gp)
		var m, a, b float64 // count, sum neg^(Beta+1), sum neg^Beta
		for k := 0; k < n2; k++ {
			if !isNeg(r, k) {
				e[k] = 0
				continue
			}
			e[k] = math.Exp(float64(g[r*n2+k]))
			neg := math.Max(e[k], hnmNegFloor)
			nb := pow(neg, l.Beta)
			m++
			a += nb * neg
			b += nb
		}
		var reweighted float64
		if m > 0 {
			reweighted = m * a / b // sum imp*neg / mean imp
		}
		raw := (-l.TauPlus*m*pos + reweighted) / (1 - l.TauPlus)
		bound := m * floor
		ng, ngActive := raw, true
		if raw < bound {
			ng, ngActive = bound, false
		}
		ratio := pos / (pos + ng)
		if ratio < hnmRatioFloor {
			loss -= math.Log(hnmRatioFloor)
			continue // constant branch: no gradient
		}
		loss -= math.Log(ratio)
		if !want {
			continue
		}
		// l_r = -log pos + log(pos + Ng)
		dpos := -1/pos + 1/(pos+ng)
		if ngActive && m > 0 {
			dng := 1 / (pos + ng)
			dpos += dng * (-l.TauPlus * m / (1 - l.TauPlus))
			drw := dng / (1 - l.TauPlus)
			// d reweighted / d neg_k = m ((Beta+1) neg^Beta b - Beta a neg^(Beta-1)) / b^2
			for k, ek := range e {
				if ek < hnmNegFloor {
					continue // no negative (0), or a clamped one: constant
				}
				dneg := m * ((l.Beta+1)*pow(ek, l.Beta)*b - l.Beta*a*pow(ek, l.Beta-1)) / (b * b)
				dg[r*n2+k] += drw * dneg * ek
			}
		}
		dg[i*n2+i+n] += dpos * pos
	}
	scale := 1 / float64(n2)
	if !want {
		return loss * scale
	}
	// g_rk = out_r.out_k / T, so dout = (dg + dg^T) out / T.
	sym := make([]float32, n2*n2)
	for r := 0; r < n2; r++ {
		for k := 0; k < n2; k++ {
			sym[r*n2+k] = float32((dg[r*n2+k] + dg[k*n2+r]) * scale)
		}
	}
	dout := make([]float32, n2*d)
	simd.Sgemm(false, false, n2, d, n2, float32(1/l.T), sym, n2, out, dd, 0, dout, dd)
	if dz != nil {
		copy(dz, dout[:n*d])
	}
	if dzp != nil {
		copy(dzp, dout[n*d:])
	}
	return loss * scale
}

// Normalize writes z = h / max(||h||, 1e-12) row by row (the convention of
// torch.nn.functional.normalize and simd.NormalizeRows); h and z are (N, D)
// and may alias.
func Normalize(z, h []float32, n, d int) {
	if len(z) != n*d || len(h) != n*d {
		panic(fmt.Sprintf("guide.Normalize: z has %d and h %d values, want (N, D) = (%d, %d)", len(z), len(h), n, d))
	}
	copy(z, h)
	simd.NormalizeRows(z, n, d)
}

// NormalizeBackward writes dL/dh given dL/dz for z = h/max(||h||, 1e-12):
// dh = (dz - z (z.dz)) / ||h|| where ||h|| > 1e-12, and dh = dz / 1e-12 on the
// clamped branch. h, dz and dh are (N, D); dh may alias dz.
func NormalizeBackward(dh, dz, h []float32, n, d int) {
	if len(dh) != n*d || len(dz) != n*d || len(h) != n*d {
		panic(fmt.Sprintf("guide.NormalizeBackward: dh %d, dz %d, h %d values, want (N, D) = (%d, %d)", len(dh), len(dz), len(h), n, d))
	}
	for i := 0; i < n; i++ {
		hr, gr, out := h[i*d:(i+1)*d], dz[i*d:(i+1)*d], dh[i*d:(i+1)*d]
		var ss, dot float64
		for j, v := range hr {
			ss += float64(v) * float64(v)
			dot += float64(v) * float64(gr[j])
		}
		norm := math.Sqrt(ss)
		if norm <= 1e-12 {
			for j, v := range gr {
				out[j] = float32(float64(v) / 1e-12)
			}
			continue
		}
		// z.dz = h.dz / ||h||; dh = dz/||h|| - h (h.dz)/||h||^3
		c := dot / (norm * norm * norm)
		for j, v := range gr {
			out[j] = float32(float64(v)/norm - float64(hr[j])*c)
		}
	}
}
