package simd

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/klauspost/cpuid/v2"
)

// kernelSet is one implementation of every kernel. The generic set fills
// every field; an assembly set may leave a field nil, in which case the
// generic kernel is used for it (see complete).
type kernelSet struct {
	name string
	// requires lists the CPU features the set needs; it is the only place
	// where cpuid decides anything.
	requires []cpuid.FeatureID
	// available, when set, must also report true: the wasm sets use it to
	// ask the JavaScript loader which kernel build it supplied.
	available func() bool

	dot               func(x, y []float32) float32
	axpy              func(alpha float32, x, y []float32)
	scale             func(alpha float32, x []float32)
	add               func(dst, x, y []float32)
	mul               func(dst, x, y []float32)
	reverseStep       func(out, x, eps, z []float32, a, b, c float32)
	reverseStepGuided func(out, x, eps, z, g []float32, a, b, c, d float32)
	sumSquares        func(x []float32) float32
	max               func(x []float32) float32
	expSubSum         func(x []float32, shift float32) float32
	gemm              gemmKernel

	// Optional fast paths with no generic counterpart: nil means the Go
	// code in SiLU or GatherRows does the whole job.
	silu8     func(y, s, x []float32)                                      // SiLU on len(x), a multiple of 8
	siluGrad8 func(dx, dy, x, s []float32)                                 // SiLUGrad on len(dx), a multiple of 8
	gather16  func(dst, src []float32, offs []int32, base int) int         // GatherRows with width 16; returns the first bad row or len(offs)
	gather2x8 func(dst, src []float32, offs []int32, base0, base1 int) int // GatherRowPairs; returns the first bad row or len(offs)

	// Optional group-norm kernels (norm.go): nil means CenterSumSquares
	// centres in Go and sums with the set's own sumSquares, and
	// NormalizeAffine runs the generic loop.
	centerSumSquares func(dst, x []float32, mean float32) float32
	normalizeAffine  func(xhat, y []float32, rstd, gamma, beta float32)

	// Optional kernels with generic loops as fallback (nil: the generic
	// loop): the blocked transpose (transpose.go; rows and columns in
	// multiples of 8, the rest done in Go) and the two passes of the
	// group-norm backward (norm.go).
	transpose8    func(dst []float32, ldd int, src []float32, lds, rows, cols int)
	sumDot        func(x, y []float32) (float32, float32)
	groupNormGrad func(dx, dy, xhat []float32, rstd, gamma, mdy, mdyx float32) float32

	// Optional Winograd F(2x2, 3x3) transforms (winograd.go; the generic
	// loops winoInGeneric, winoOutGeneric and winoDyGeneric are their
	// reference) for a set whose gemm has nr = 16: nil means
	// Conv3x3Winograd is not offered and convolutions take their im2col
	// product.
	winoIn  func(v []float32, vs, vc int, x []float32, o [4]int, ld, planes, ps int)
	winoOut func(y, m []float32, ms, mrow, rows int, o [4]int, runs, ld, yplane int, bias []float32, acc bool)
	winoDy  func(v []float32, vs, vc int, dy []float32, o [4]int, ld, planes, ps int)

	// gemmPlain, when set (micro != nil), is the kernel of Sgemm, for a set
	// whose best tile for a plain product differs from the one its packed
	// convolution path (SgemmPacked, gather16) needs; complete sets it to
	// gemm otherwise.
	gemmPlain gemmKernel
}

// generic is the reference set, always compiled and always supported.
var generic = kernelSet{
	name:              "generic",
	dot:               dotGeneric,
	axpy:              axpyGeneric,
	scale:             scaleGeneric,
	add:               addGeneric,
	mul:               mulGeneric,
	reverseStep:       reverseStepGeneric,
	reverseStepGuided: reverseStepGuidedGeneric,
	sumSquares:        sumSquaresGeneric,
	max:               maxGeneric,
	expSubSum:         expSubSumGeneric,
	gemm:              gemmGeneric,
}

// sets is the table of kernel sets, best first. archSets (per-platform file)
// lists the assembly sets compiled for this GOARCH, best first.
var sets = append(append([]*kernelSet{}, archSets...), &generic)

var current atomic.Pointer[kernelSet]

func init() {
	for _, s := range sets {
		complete(s)
	}
	current.Store(best())
}

// complete fills the nil fields of s with the generic kernels.
func complete(s *kernelSet) {
	if s.dot == nil {
		s.dot = generic.dot
	}
	if s.axpy == nil {
		s.axpy = generic.axpy
	}
	if s.scale == nil {
		s.scale = generic.scale
	}
	if s.add == nil {
		s.add = generic.add
	}
	if s.mul == nil {
		s.mul = generic.mul
	}
	if s.reverseStep == nil {
		s.reverseStep = generic.reverseStep
	}
	if s.reverseStepGuided == nil {
		s.reverseStepGuided = generic.reverseStepGuided
	}
	if s.sumSquares == nil {
		s.sumSquares = generic.sumSquares
	}
	if s.max == nil {
		s.max = generic.max
	}
	if s.expSubSum == nil {
		s.expSubSum = generic.expSubSum
	}
	if s.gemm.micro == nil {
		s.gemm = generic.gemm
	}
	if s.gemmPlain.micro == nil {
		s.gemmPlain = s.gemm
	}
}

func supported(s *kernelSet) bool {
	return cpuid.CPU.Supports(s.requires...) && (s.available == nil || s.available())
}

func best() *kernelSet {
	for _, s := range sets {
		if supported(s) {
			return s
		}
	}
	return &generic
}

// Impl names the kernel set in use ("generic", "avx2", "neon", ...).
func Impl() string { return current.Load().name }

// Use selects a kernel set by name; "auto" (or "") selects the best one the
// CPU supports. It returns an error naming the set when it is unknown or the
// CPU cannot run it. Use is meant for start-up, tests and benchmarks.
func Use(name string) error {
	if name == "" || name == "auto" {
		current.Store(best())
		return nil
	}
	for _, s := range sets {
		if s.name == name {
			if !supported(s) && s.available != nil {
				return fmt.Errorf("simd: kernel set %q is not available here (its kernel build is not loaded)", name)
			}
			if !supported(s) {
				return fmt.Errorf("simd: kernel set %q is not supported by this CPU (needs %s)", name, featureNames(s.requires))
			}
			current.Store(s)
			return nil
		}
	}
	return fmt.Errorf("simd: unknown kernel set %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists every kernel set compiled into this binary, best first.
func Names() []string {
	var out []string
	for _, s := range sets {
		out = append(out, s.name)
	}
	return out
}

// Supported lists the kernel sets this CPU can run, best first.
func Supported() []string {
	var out []string
	for _, s := range sets {
		if supported(s) {
			out = append(out, s.name)
		}
	}
	return out
}

// CPU describes the processor and the features the kernel sets care about.
type CPU struct {
	Brand    string   `json:"brand"`
	Vendor   string   `json:"vendor"`
	Cores    int      `json:"physical_cores"`
	Threads  int      `json:"logical_cores"`
	Features []string `json:"features"`
	Sets     []string `json:"supported_sets"`
	Impl     string   `json:"impl"`
}

// DescribeCPU reports what cpuid detected and the set in use.
func DescribeCPU() CPU {
	var feats []string
	for _, f := range []cpuid.FeatureID{cpuid.SSE2, cpuid.SSE4, cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.AVX512F, cpuid.ASIMD, cpuid.FP} {
		if cpuid.CPU.Supports(f) {
			feats = append(feats, f.String())
		}
	}
	return CPU{
		Brand:    cpuid.CPU.BrandName,
		Vendor:   cpuid.CPU.VendorString,
		Cores:    cpuid.CPU.PhysicalCores,
		Threads:  cpuid.CPU.LogicalCores,
		Features: feats,
		Sets:     Supported(),
		Impl:     Impl(),
	}
}

func featureNames(fs []cpuid.FeatureID) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return strings.Join(out, "+")
}
