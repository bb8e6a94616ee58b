package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/simd/simdtest"
)

// packedCase is one SgemmPacked problem: A (m x k) and B (k x n) row-major,
// C stored in column groups of g with row stride ldc and group stride gs.
type packedCase struct {
	m, n, k, g int
	bias       bool
	beta       float32
}

func (pc packedCase) String() string {
	return fmt.Sprintf("m=%d n=%d k=%d group=%d bias=%v beta=%v", pc.m, pc.n, pc.k, pc.g, pc.bias, pc.beta)
}

// runPacked runs SgemmPacked on the case and returns C unpacked to a
// row-major m x n matrix, with A, B, bias and the initial C.
func runPacked(r *rand.Rand, pc packedCase) (got, a, b, bias, c0 []float32) {
	m, n, k := pc.m, pc.n, pc.k
	a, b = simdtest.Rand(r, m*k), simdtest.Rand(r, k*n)
	if pc.bias {
		bias = simdtest.Rand(r, m)
	}
	// Groups: a little padding after each row and after each group, so that
	// a write outside the described elements would be seen.
	g := min(pc.g, n)
	ldc := g + 3
	gs := m*ldc + 5
	groups := (n + g - 1) / g
	store := make([]float32, groups*gs)
	for i := range store {
		store[i] = float32(math.NaN())
	}
	cg := GroupedC{C: store, Ldc: ldc, Group: g, GroupStride: gs}
	c0 = simdtest.Rand(r, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			store[cg.off(i, j)] = c0[i*n+j]
		}
	}
	SgemmPacked(m, n, k, RowMajorPacker(a, k), ColMajorPacker(b, n), bias, pc.beta, cg)
	got = make([]float32, m*n)
	seen := make([]bool, len(store))
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			got[i*n+j] = store[cg.off(i, j)]
			seen[cg.off(i, j)] = true
		}
	}
	for i, v := range store {
		if !seen[i] && !math.IsNaN(float64(v)) {
			panic(fmt.Sprintf("SgemmPacked %v wrote outside C at %d", pc, i))
		}
	}
	return got, a, b, bias, c0
}

func checkPacked(t *testing.T, r *rand.Rand, pc packedCase) {
	t.Helper()
	got, a, b, bias, c0 := runPacked(r, pc)
	m, n, k := pc.m, pc.n, pc.k
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var want, abs float64
			for p := 0; p < k; p++ {
				v := float64(a[i*k+p]) * float64(b[p*n+j])
				want += v
				abs += math.Abs(v)
			}
			switch {
			case bias != nil:
				want += float64(bias[i])
				abs += math.Abs(float64(bias[i]))
			case pc.beta == 1:
				want += float64(c0[i*n+j])
				abs += math.Abs(float64(c0[i*n+j]))
			}
			if !simdtest.Close(got[i*n+j], want, k+2, abs) {
				t.Fatalf("SgemmPacked %v: C[%d,%d]: %s", pc, i, j, simdtest.Describe(got[i*n+j], want, k+2, abs))
			}
		}
	}
}

func TestSgemmPacked(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(21, 22))
		dims := []int{1, 2, 3, 5, 6, 7, 8, 12, 15, 16, 17, 31, 33, 48, 65}
		for _, s := range []packedCase{
			{1, 1, 1, 1, false, 0}, {6, 16, 257, 16, false, 0}, {7, 40, 1, 8, true, 0},
			{13, 11, 0, 11, true, 0}, {13, 11, 0, 4, false, 1}, {12, 64, 300, 64, false, 1},
			// Split-N (A small) and split-M (A large) drivers, with groups
			// that are and are not multiples of the panel width.
			{32, 1024, 288, 256, true, 0}, {64, 392, 576, 49, true, 0}, {9, 3000, 40, 1000, false, 1},
			{600, 64, 600, 64, false, 1}, {300, 40, 700, 16, false, 0}, {301, 37, 1100, 20, true, 0},
		} {
			checkPacked(t, r, s)
		}
		for range 60 {
			n := dims[r.IntN(len(dims))]
			checkPacked(t, r, packedCase{
				m: dims[r.IntN(len(dims))], n: n, k: dims[r.IntN(len(dims))],
				g: 1 + r.IntN(n), bias: r.IntN(2) == 0, beta: float32(r.IntN(2)),
			})
		}
	})
}

func TestSgemmPackedThreadsIdentical(t *testing.T) {
	defer SetThreads(0)
	forEachSet(t, func(t *testing.T, name string) {
		for _, s := range []packedCase{{64, 2048, 576, 256, true, 0}, {40, 700, 100, 64, false, 1}, {700, 64, 900, 64, false, 1}, {1152, 64, 2100, 64, false, 0}} {
			var first []float32
			for _, th := range []int{1, 2, 3} {
				SetThreads(th)
				got, _, _, _, _ := runPacked(rand.New(rand.NewPCG(23, 24)), s)
				if first == nil {
					first = got
					continue
				}
				if i, ok := simdtest.SameBits(got, first); !ok {
					t.Fatalf("SgemmPacked %v: threads=%d differs from threads=1 at %d: %v vs %v", s, th, i, got[i], first[i])
				}
			}
		}
	})
}

func TestSgemmPackedPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"beta":  func() { SgemmPacked(2, 2, 2, nil, nil, nil, 0.5, GroupedC{C: make([]float32, 4), Ldc: 2, Group: 2}) },
		"short": func() { SgemmPacked(2, 2, 2, nil, nil, nil, 0, GroupedC{C: make([]float32, 3), Ldc: 2, Group: 2}) },
		"group": func() {
			SgemmPacked(2, 4, 2, nil, nil, nil, 0, GroupedC{C: make([]float32, 8), Ldc: 2, Group: 2, GroupStride: 2})
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
