package guide

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// clampStats counts how often each clamp of the HNM loss was active.
// negLive counts clamped negatives in rows where neither Ng nor the ratio is
// clamped (the only place where the negative floor changes the gradient).
type clampStats struct{ neg, ng, ratio, negLive int }

// refHNM is an independent float64 implementation of the HNM loss, written
// from METHOD.md section 3 with explicit loops over out = [z; z'].
func refHNM(z, zp []float64, n, d int, classes []int, T, tauPlus, beta float64) (float64, clampStats) {
	var st clampStats
	out := append(append([]float64(nil), z...), zp...)
	dot := func(a, b int) float64 {
		var s float64
		for j := 0; j < d; j++ {
			s += out[a*d+j] * out[b*d+j]
		}
		return s
	}
	var total float64
	for r := 0; r < 2*n; r++ {
		var partner int
		if r < n {
			partner = r + n
		} else {
			partner = r - n
		}
		i := r % n
		pos := math.Exp(dot(i, i+n) / T)
		var negs []float64
		clamped := 0
		for k := 0; k < 2*n; k++ {
			if k == r || k == partner {
				continue
			}
			if classes != nil && classes[k%n] == classes[i] {
				continue
			}
			e := math.Exp(dot(r, k) / T)
			if e < 1e-4 {
				st.neg++
				clamped++
			}
			negs = append(negs, math.Max(e, 1e-4))
		}
		M := float64(len(negs))
		var sumImpNeg, meanImp float64
		for _, v := range negs {
			imp := math.Pow(v, beta)
			sumImpNeg += imp * v
			meanImp += imp / M
		}
		reweighted := 0.0
		if len(negs) > 0 {
			reweighted = sumImpNeg / meanImp
		}
		Ng := (-tauPlus*M*pos + reweighted) / (1 - tauPlus)
		live := true
		if b := M * math.Exp(-1/T); Ng < b {
			st.ng++
			Ng = b
			live = false
		}
		ratio := pos / (pos + Ng)
		if ratio < 1e-4 {
			st.ratio++
			ratio = 1e-4
			live = false
		}
		if live {
			st.negLive += clamped
		}
		total += -math.Log(ratio)
	}
	return total / float64(2*n), st
}

// refInfoNCE is an independent float64 implementation of InfoNCE.
func refInfoNCE(z, zp []float64, n, d int, classes []int, tau float64) float64 {
	var total float64
	for i := 0; i < n; i++ {
		var den, num float64
		for j := 0; j < n; j++ {
			if j != i && classes != nil && classes[j] == classes[i] {
				continue
			}
			var s float64
			for k := 0; k < d; k++ {
				s += z[i*d+k] * zp[j*d+k]
			}
			e := math.Exp(s / tau)
			den += e
			if j == i {
				num = e
			}
		}
		total += -math.Log(num / den)
	}
	return total / float64(n)
}

func unitRows(rng *rand.Rand, n, d int) []float32 {
	v := make([]float32, n*d)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	Normalize(v, v, n, d)
	return v
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

type lossCase struct {
	name    string
	loss    Loss
	ref     func(z, zp []float64, classes []int) (float64, clampStats)
	z, zp   []float32
	classes []int
	want    clampStats // minimum counts of active clamps the case must exercise
}

func lossCases() []lossCase {
	const n, d = 5, 4
	rng := rand.New(rand.NewPCG(3, 4))
	hnm := func(h HNM) func(z, zp []float64, c []int) (float64, clampStats) {
		return func(z, zp []float64, c []int) (float64, clampStats) {
			return refHNM(z, zp, n, d, c, h.T, h.TauPlus, h.Beta)
		}
	}
	nce := func(l InfoNCE) func(z, zp []float64, c []int) (float64, clampStats) {
		return func(z, zp []float64, c []int) (float64, clampStats) {
			return refInfoNCE(z, zp, n, d, c, l.Tau), clampStats{}
		}
	}
	z, zp := unitRows(rng, n, d), unitRows(rng, n, d)
	// Positives close to their anchors: pos large, so the Ng floor binds at
	// small temperatures.
	near := make([]float32, n*d)
	for i := range near {
		near[i] = z[i] + 0.05*float32(rng.NormFloat64())
	}
	Normalize(near, near, n, d)
	// Positives opposite to their anchors and anchors clustered: the ratio
	// floor binds (and anti-aligned negatives hit the 1e-4 floor).
	clustered := make([]float32, n*d)
	for i := range clustered {
		clustered[i] = float32(1 + 0.3*rng.NormFloat64())
		if i%d != 0 {
			clustered[i] *= 0.2
		}
	}
	Normalize(clustered, clustered, n, d)
	opposite := make([]float32, n*d)
	for i := range opposite {
		opposite[i] = -clustered[i] + 0.1*float32(rng.NormFloat64())
	}
	Normalize(opposite, opposite, n, d)
	// Half the positives opposite, half near: the ratio floor binds on some
	// rows only.
	mixed := append([]float32(nil), opposite...)
	copy(mixed[:2*d], clustered[:2*d])
	classes := []int{0, 1, 0, 2, 1}
	def := DefaultHNM()
	cold := HNM{T: 0.5, TauPlus: 0.3, Beta: 1}
	icy := HNM{T: 0.1, TauPlus: 0.1, Beta: 0.5}
	return []lossCase{
		{"HNM/default", def, hnm(def), z, zp, nil, clampStats{}},
		{"HNM/default/class-aware", def, hnm(def), z, zp, classes, clampStats{}},
		{"HNM/beta=2/T=1", HNM{T: 1, TauPlus: 0.2, Beta: 2}, hnm(HNM{T: 1, TauPlus: 0.2, Beta: 2}), z, zp, nil, clampStats{}},
		{"HNM/Ng-floor", cold, hnm(cold), z, near, nil, clampStats{ng: 1}},
		{"HNM/Ng-floor/class-aware", cold, hnm(cold), z, near, classes, clampStats{ng: 1}},
		{"HNM/ratio-and-neg-floors", icy, hnm(icy), clustered, opposite, nil, clampStats{neg: 1, ratio: 1}},
		{"HNM/ratio-and-neg-floors/class-aware", icy, hnm(icy), clustered, opposite, classes, clampStats{neg: 1, ratio: 1}},
		{"HNM/Ng-floor-all-rows", icy, hnm(icy), z, near, nil, clampStats{ng: 2 * n}},
		{"HNM/mixed-floors", icy, hnm(icy), clustered, mixed, nil, clampStats{neg: 1, ratio: 1, negLive: 1}},
		{"InfoNCE/default", DefaultInfoNCE(), nce(DefaultInfoNCE()), z, zp, nil, clampStats{}},
		{"InfoNCE/class-aware", DefaultInfoNCE(), nce(DefaultInfoNCE()), z, zp, classes, clampStats{}},
		{"InfoNCE/tau=1", InfoNCE{Tau: 1}, nce(InfoNCE{Tau: 1}), z, near, nil, clampStats{}},
	}
}

func TestLossValuesMatchReference(t *testing.T) {
	const n, d = 5, 4
	for _, c := range lossCases() {
		got := c.loss.Loss(c.z, c.zp, n, d, c.classes, nil, nil)
		want, st := c.ref(to64(c.z), to64(c.zp), c.classes)
		if math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: loss %.9g, reference %.9g", c.name, got, want)
		}
		if st.neg < c.want.neg || st.ng < c.want.ng || st.ratio < c.want.ratio || st.negLive < c.want.negLive {
			t.Errorf("%s: clamps active %+v, case meant to exercise %+v", c.name, st, c.want)
		}
		// With gradients requested the value is the same.
		dz, dzp := make([]float32, n*d), make([]float32, n*d)
		if g2 := c.loss.Loss(c.z, c.zp, n, d, c.classes, dz, dzp); g2 != got {
			t.Errorf("%s: loss %v with gradients, %v without", c.name, g2, got)
		}
	}
	// The default cases exercise no clamp at all (T = 10 on the unit sphere).
	_, st := refHNM(to64(lossCases()[0].z), to64(lossCases()[0].zp), n, d, nil, 10, 0.1, 1)
	if st != (clampStats{}) {
		t.Errorf("default HNM case has active clamps %+v", st)
	}
}

// TestLossGradients checks dL/dz and dL/dz' against central differences of
// the float64 reference, and of the float32 implementation itself.
func TestLossGradients(t *testing.T) {
	const n, d = 5, 4
	for _, c := range lossCases() {
		dz, dzp := make([]float32, n*d), make([]float32, n*d)
		c.loss.Loss(c.z, c.zp, n, d, c.classes, dz, dzp)
		z64, zp64 := to64(c.z), to64(c.zp)
		var gmax float64
		for i := range dz {
			gmax = math.Max(gmax, math.Max(math.Abs(float64(dz[i])), math.Abs(float64(dzp[i]))))
		}
		if gmax == 0 && c.want.ratio == 0 {
			t.Errorf("%s: zero gradient", c.name)
		}
		for which, g := range [][]float32{dz, dzp} {
			for i := range g {
				v := [][]float64{z64, zp64}[which]
				old := v[i]
				const h = 1e-6
				v[i] = old + h
				lp, _ := c.ref(z64, zp64, c.classes)
				v[i] = old - h
				lm, _ := c.ref(z64, zp64, c.classes)
				v[i] = old
				fd := (lp - lm) / (2 * h)
				if math.Abs(fd-float64(g[i])) > 5e-6*gmax+1e-9 {
					t.Errorf("%s: d%s[%d] = %.7g, finite difference %.7g", c.name, []string{"z", "z'"}[which], i, g[i], fd)
				}
			}
		}
		// The float32 implementation, differenced with a coarser step.
		for i := 0; i < n*d; i += 3 {
			zc := append([]float32(nil), c.z...)
			old := zc[i]
			zc[i] = old + 1e-2
			hp := float64(zc[i]) - float64(old)
			lp := c.loss.Loss(zc, c.zp, n, d, c.classes, nil, nil)
			zc[i] = old - 1e-2
			hm := float64(old) - float64(zc[i])
			lm := c.loss.Loss(zc, c.zp, n, d, c.classes, nil, nil)
			fd := (lp - lm) / (hp + hm)
			if math.Abs(fd-float64(dz[i])) > 2e-2*gmax+1e-5 {
				t.Errorf("%s (float32 path): dz[%d] = %.6g, finite difference %.6g", c.name, i, dz[i], fd)
			}
		}
	}
}

func TestNormalizeBackward(t *testing.T) {
	const n, d = 3, 5
	rng := rand.New(rand.NewPCG(9, 9))
	h := make([]float32, n*d)
	for i := range h {
		h[i] = float32(2 * rng.NormFloat64())
	}
	c := make([]float64, n*d) // L = sum c . z(h)
	dz := make([]float32, n*d)
	for i := range c {
		c[i] = rng.NormFloat64()
		dz[i] = float32(c[i])
	}
	dh := make([]float32, n*d)
	NormalizeBackward(dh, dz, h, n, d)
	L := func(h64 []float64) float64 {
		var s float64
		for i := 0; i < n; i++ {
			var nn float64
			for j := 0; j < d; j++ {
				nn += h64[i*d+j] * h64[i*d+j]
			}
			nn = math.Max(math.Sqrt(nn), 1e-12)
			for j := 0; j < d; j++ {
				s += c[i*d+j] * h64[i*d+j] / nn
			}
		}
		return s
	}
	h64 := to64(h)
	for i := range h64 {
		old := h64[i]
		h64[i] = old + 1e-6
		lp := L(h64)
		h64[i] = old - 1e-6
		lm := L(h64)
		h64[i] = old
		if fd := (lp - lm) / 2e-6; math.Abs(fd-float64(dh[i])) > 1e-5 {
			t.Errorf("dh[%d] = %.7g, finite difference %.7g", i, dh[i], fd)
		}
	}
	// Normalize matches the float64 definition.
	z := make([]float32, n*d)
	Normalize(z, h, n, d)
	for i := 0; i < n; i++ {
		var nn float64
		for j := 0; j < d; j++ {
			nn += h64[i*d+j] * h64[i*d+j]
		}
		for j := 0; j < d; j++ {
			if want := h64[i*d+j] / math.Sqrt(nn); math.Abs(float64(z[i*d+j])-want) > 1e-6 {
				t.Fatalf("z[%d] = %v, want %v", i*d+j, z[i*d+j], want)
			}
		}
	}
	// The clamped branch (||h|| below 1e-12) is linear with slope 1e12.
	tiny := []float32{1e-14, 0}
	dtiny := make([]float32, 2)
	NormalizeBackward(dtiny, []float32{1, 2}, tiny, 1, 2)
	if math.Abs(float64(dtiny[0])/1e12-1) > 1e-6 || math.Abs(float64(dtiny[1])/2e12-1) > 1e-6 {
		t.Fatalf("clamped branch: %v", dtiny)
	}
}

func ExampleHNM() {
	z := []float32{1, 0, 0, 1}  // two anchors
	zp := []float32{1, 0, 0, 1} // their positives
	fmt.Printf("%.4f\n", DefaultHNM().Loss(z, zp, 2, 2, nil, nil, nil))
	// Output: 1.0255
}
