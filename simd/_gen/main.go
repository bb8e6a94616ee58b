// Command _gen generates the AVX2+FMA kernels of package simd with avo:
//
//	cd simd/_gen && go run . -out ../kernels_amd64.s -stubs ../stubs_amd64.go -pkg simd
//
// Every kernel handles the largest multiple of 8 elements of its slices (the
// Go wrappers in avx2_amd64.go do the tails and the argument checks), except
// the sgemm micro-kernel, which works on packed panels.
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("gc,!purego")

	vecConsts()
	dot()
	axpy()
	scale()
	binary("addAVX2", "add", VADDPS)
	binary("mulAVX2", "mul", VMULPS)
	reverseStep()
	reverseStepGuided()
	maxKernel()
	expSubSum()
	gemm6x16("gemm6x16AVX2", false)
	gemm6x16("gemm6x16StoreAVX2", true)
	gemmBlock6x16("gemmBlock6x16AVX2", false)
	gemmBlock6x16("gemmBlock6x16StoreAVX2", true)
	for rows := 1; rows < 6; rows++ {
		gemmRx16(fmt.Sprintf("gemm%dx16AVX2", rows), false, rows)
		gemmRx16(fmt.Sprintf("gemm%dx16StoreAVX2", rows), true, rows)
	}
	packA6()
	packB16()
	gatherRows16()
	gatherRowPairs8()
	silu()
	centerSumSquares()
	normalizeAffine()
	siluGrad()
	transpose8()
	sumDot()
	groupNormGrad()
	winoIn()
	winoOut()
	winoDy()
	fmaPeak()
	Generate()
}

// bcast loads the float32 parameter name and broadcasts it to a YMM register.
func bcast(name string) VecVirtual {
	y := YMM()
	VBROADCASTSS(paramAddr(name), y)
	return y
}

// zeroAccumulators returns four zeroed YMM accumulators (the unrolled sum
// loops add into acc[u]).
func zeroAccumulators() []VecVirtual {
	acc := make([]VecVirtual, 4)
	for i := range acc {
		acc[i] = YMM()
		VXORPS(acc[i], acc[i], acc[i])
	}
	return acc
}

// returnSum adds the four accumulators ((0+1)+(2+3)), sums the lanes of the
// result, stores it as the float32 result and returns.
func returnSum(acc []VecVirtual) {
	VADDPS(acc[1], acc[0], acc[0])
	VADDPS(acc[3], acc[2], acc[2])
	VADDPS(acc[2], acc[0], acc[0])
	s := hsum(acc[0])
	VMOVSS(s, returnAddr(0))
	VZEROUPPER()
	RET()
}

// paramAddr is the stack address of the float32 argument name. Kernels read
// float arguments with VEX instructions from there: avo's Load would emit the
// legacy-SSE MOVSS, which costs about 250 ns a call on this machine (an
// SSE/AVX state transition), more than a 512-element kernel's whole loop.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// returnAddr is the stack address of float32 result i, stored with VMOVSS for
// the reason paramAddr gives.
func returnAddr(i int) Mem {
	b, err := ReturnIndex(i).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// constant broadcasts the float32 v to a YMM register.
func constant(v float32) VecVirtual {
	r := GP32()
	MOVL(U32(math.Float32bits(v)), r)
	x := XMM()
	VMOVD(r, x)
	y := YMM()
	VBROADCASTSS(x, y)
	return y
}

// loops emits the standard loop structure over n elements (n is a multiple
// of 8 on entry after masking): body(u, idx) handles the 8 elements at
// index idx + 8u; a 4x unrolled loop runs first, then single vectors.
func loops(prefix string, n Register, body func(u int, idx GPVirtual)) {
	loopsUnroll(prefix, n, 4, body)
}

// loopsUnroll is loops with a choice of unrolling, 1 or 4.
func loopsUnroll(prefix string, n Register, unroll int, body func(u int, idx GPVirtual)) {
	idx := GP64()
	XORQ(idx, idx)
	if unroll == 4 {
		n32 := GP64()
		MOVQ(n, n32)
		ANDQ(I32(-32), n32)
		Label(prefix + "_loop32")
		CMPQ(idx, n32)
		JGE(LabelRef(prefix + "_loop8"))
		for u := 0; u < 4; u++ {
			body(u, idx)
		}
		ADDQ(U32(32), idx)
		JMP(LabelRef(prefix + "_loop32"))
	}
	ANDQ(I32(-8), n)
	Label(prefix + "_loop8")
	CMPQ(idx, n)
	JGE(LabelRef(prefix + "_done"))
	body(0, idx)
	ADDQ(U32(8), idx)
	JMP(LabelRef(prefix + "_loop8"))
	Label(prefix + "_done")
}

func at(base Register, idx GPVirtual, u int) Mem {
	return Mem{Base: base, Index: idx, Scale: 4, Disp: 32 * u}
}

// hsum adds the 8 lanes of y into the low lane of its XMM half.
func hsum(y VecVirtual) Register {
	hi := XMM()
	VEXTRACTF128(U8(1), y, hi)
	lo := y.AsX()
	VADDPS(hi, lo, lo)
	t := XMM()
	VMOVHLPS(lo, lo, t)
	VADDPS(t, lo, lo)
	VMOVSHDUP(lo, t)
	VADDSS(t, lo, lo)
	return lo
}

func dot() {
	TEXT("dotAVX2", NOSPLIT, "func(x, y []float32) float32")
	Pragma("noescape")
	Doc("dotAVX2 returns the dot product of the first len(x)&^7 elements of x and y.")
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	acc := zeroAccumulators()
	loops("dot", n, func(u int, idx GPVirtual) {
		t := YMM()
		VMOVUPS(at(x, idx, u), t)
		VFMADD231PS(at(y, idx, u), t, acc[u])
	})
	returnSum(acc)
}

func axpy() {
	TEXT("axpyAVX2", NOSPLIT, "func(alpha float32, x, y []float32)")
	Pragma("noescape")
	Doc("axpyAVX2 adds alpha*x to y over the first len(x)&^7 elements, rounding",
		"the product and the sum separately like the generic loop.")
	alpha := bcast("alpha")
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	loops("axpy", n, func(u int, idx GPVirtual) {
		t := YMM()
		VMULPS(at(x, idx, u), alpha, t)
		VADDPS(at(y, idx, u), t, t)
		VMOVUPS(t, at(y, idx, u))
	})
	VZEROUPPER()
	RET()
}

func scale() {
	TEXT("scaleAVX2", NOSPLIT, "func(alpha float32, x []float32)")
	Pragma("noescape")
	Doc("scaleAVX2 multiplies the first len(x)&^7 elements of x by alpha.")
	alpha := bcast("alpha")
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	loops("scale", n, func(u int, idx GPVirtual) {
		t := YMM()
		VMULPS(at(x, idx, u), alpha, t)
		VMOVUPS(t, at(x, idx, u))
	})
	VZEROUPPER()
	RET()
}

func binary(name, prefix string, op func(ops ...Op)) {
	TEXT(name, NOSPLIT, "func(dst, x, y []float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets dst[i] = x[i] %s y[i] over the first len(dst)&^7 elements.", name, map[string]string{"add": "+", "mul": "*"}[prefix]))
	dst := Load(Param("dst").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("dst").Len(), GP64())
	loops(prefix, n, func(u int, idx GPVirtual) {
		t := YMM()
		VMOVUPS(at(x, idx, u), t)
		op(at(y, idx, u), t, t)
		VMOVUPS(t, at(dst, idx, u))
	})
	VZEROUPPER()
	RET()
}

// reverseStep and reverseStepGuided are weighted sums of 3 and 4 slices.
func reverseStep() {
	weightedSum("reverseStepAVX2", "rs", "func(out, x, eps, z []float32, a, b, c float32)",
		[]string{"x", "eps", "z"}, []string{"a", "b", "c"},
		"reverseStepAVX2 sets out[i] = a*x[i] + b*eps[i] + c*z[i] over the first",
		"len(out)&^7 elements, rounding like the generic loop (no fused multiply-add).")
}

func reverseStepGuided() {
	weightedSum("reverseStepGuidedAVX2", "rsg", "func(out, x, eps, z, g []float32, a, b, c, d float32)",
		[]string{"x", "eps", "z", "g"}, []string{"a", "b", "c", "d"},
		"reverseStepGuidedAVX2 sets out[i] = a*x[i] + b*eps[i] + c*z[i] + d*g[i] over",
		"the first len(out)&^7 elements, rounding like the generic loop.")
}

// wsPrefetch is how far ahead (bytes) weightedSum's unrolled loop prefetches
// every input and out: with four or five streams the hardware prefetchers
// fall behind once the vectors leave L1. On the 48 KiB L1 of the Xeon of
// 2026-12-07, cdp bench's reverse step on 4096 elements (64 KiB with out):
// 548-565 -> 420-431 ns; vectors in L1 (2048 elements) within noise to 13%
// slower.
const wsPrefetch = 512

// weightedSum emits out[i] = w0*v0[i] + w1*v1[i] + ... (slices named by vs,
// float weights by ws), each product and sum rounded in that order.
func weightedSum(name, prefix, sig string, vs, ws []string, doc ...string) {
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc...)
	w := make([]VecVirtual, len(ws))
	for i, n := range ws {
		w[i] = bcast(n)
	}
	out := Load(Param("out").Base(), GP64())
	v := make([]Register, len(vs))
	for i, n := range vs {
		v[i] = Load(Param(n).Base(), GP64())
	}
	n := Load(Param("out").Len(), GP64())
	loops(prefix, n, func(u int, idx GPVirtual) {
		if u%2 == 0 {
			for i := range v {
				PREFETCHT0(Mem{Base: v[i], Index: idx, Scale: 4, Disp: 32*u + wsPrefetch})
			}
			PREFETCHT0(Mem{Base: out, Index: idx, Scale: 4, Disp: 32*u + wsPrefetch})
		}
		s, t := YMM(), YMM()
		VMULPS(at(v[0], idx, u), w[0], s)
		for i := 1; i < len(v); i++ {
			VMULPS(at(v[i], idx, u), w[i], t)
			VADDPS(t, s, s)
		}
		VMOVUPS(s, at(out, idx, u))
	})
	VZEROUPPER()
	RET()
}

func maxKernel() {
	TEXT("maxAVX2", NOSPLIT, "func(x []float32) (m float32, nan bool)")
	Pragma("noescape")
	Doc("maxAVX2 returns the largest of the first len(x)&^7 elements of x (at least",
		"8), and whether any of them is NaN.")
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	m := make([]VecVirtual, 4)
	first := YMM()
	VMOVUPS(Mem{Base: x}, first)
	for i := range m {
		m[i] = YMM()
		VMOVAPS(first, m[i])
	}
	nan := YMM()
	VXORPS(nan, nan, nan)
	loops("max", n, func(u int, idx GPVirtual) {
		t, q := YMM(), YMM()
		VMOVUPS(at(x, idx, u), t)
		VCMPPS(U8(3), t, t, q) // unordered: NaN lanes
		VORPS(q, nan, nan)
		VMAXPS(t, m[u], m[u])
	})
	VMAXPS(m[1], m[0], m[0])
	VMAXPS(m[3], m[2], m[2])
	VMAXPS(m[2], m[0], m[0])
	hi := XMM()
	lo := m[0].AsX()
	VEXTRACTF128(U8(1), m[0], hi)
	VMAXPS(hi, lo, lo)
	t := XMM()
	VMOVHLPS(lo, lo, t)
	VMAXPS(t, lo, lo)
	VMOVSHDUP(lo, t)
	VMAXSS(t, lo, lo)
	VMOVSS(lo, returnAddr(0))
	mask := GP32()
	VMOVMSKPS(nan, mask)
	TESTL(mask, mask)
	flag := GP8()
	SETNE(flag)
	Store(flag, ReturnIndex(1))
	VZEROUPPER()
	RET()
}

var expConst = map[string]Mem{}

// vecConsts declares the 8-lane float32 constants of expSubSum in read-only
// data, so that they cost no registers.
func vecConsts() {
	for _, c := range []struct {
		name string
		v    float32
	}{
		{"lo", -104}, {"hi", 89}, {"log2e", float32(math.Log2E)},
		{"c1", 0.693359375}, {"c2", -2.12194440e-4},
		{"p0", 1.9875691500e-4}, {"p1", 1.3981999507e-3}, {"p2", 8.3334519073e-3},
		{"p3", 4.1665795894e-2}, {"p4", 1.6666665459e-1}, {"p5", 5.0000001201e-1},
	} {
		m := GLOBL("exp_"+c.name, RODATA|NOPTR)
		for i := 0; i < 8; i++ {
			DATA(4*i, F32(c.v))
		}
		expConst[c.name] = m
	}
}

// expSubSum: exp(t) = 2^k * exp(r), k = round(t/ln2), r = t - k*ln2 in
// [-ln2/2, ln2/2]; exp(r) by a degree-7 polynomial (Cephes coefficients);
// 2^k applied in two halves so that subnormal results round once and k up to
// 150 stays in range. t is clamped to [-104, 89] first (exp(-104) rounds to 0,
// exp(89) overflows to +Inf), and NaN lanes are passed through.
func expSubSum() {
	TEXT("expSubSumAVX2", NOSPLIT, "func(x []float32, shift float32) float32")
	Pragma("noescape")
	Doc("expSubSumAVX2 replaces the first len(x)&^7 elements of x by exp(x[i]-shift)",
		"and returns their sum.")
	shift := bcast("shift")
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	one, bias := expConsts()
	sum := YMM()
	VXORPS(sum, sum, sum)
	loopsUnroll("exp", n, 1, func(u int, idx GPVirtual) {
		t := YMM()
		VMOVUPS(at(x, idx, 0), t)
		VSUBPS(shift, t, t)
		poly := expVec(t, one, bias)
		VMOVUPS(poly, at(x, idx, 0))
		VADDPS(poly, sum, sum)
	})
	s := hsum(sum)
	VMOVSS(s, returnAddr(0))
	VZEROUPPER()
	RET()
}

// expConsts returns the registers expVec needs: 1.0 and the exponent bias
// 127 in every lane.
func expConsts() (one, bias VecVirtual) {
	one = constant(1)
	bias = YMM()
	r := GP32()
	MOVL(U32(127), r)
	xr := XMM()
	VMOVD(r, xr)
	VPBROADCASTD(xr, bias)
	return one, bias
}

// expVec returns exp(t) lane by lane (see expSubSum); one holds 1.0 and bias
// the exponent bias 127 in every lane.
func expVec(t, one, bias VecVirtual) VecVirtual {
	lo, hi := expConst["lo"], expConst["hi"]
	log2e := expConst["log2e"]
	c1, c2 := expConst["c1"], expConst["c2"]
	p := []Op{expConst["p0"], expConst["p1"], expConst["p2"], expConst["p3"], expConst["p4"], expConst["p5"]}
	tc, kf, r, poly, r2, q := YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
	VMAXPS(lo, t, tc)
	VMINPS(hi, tc, tc)
	ki := YMM()
	VMULPS(log2e, tc, kf)
	VCVTPS2DQ(kf, ki) // round to nearest
	VCVTDQ2PS(ki, kf)
	VMOVAPS(tc, r)
	VFNMADD231PS(c1, kf, r) // r -= k*c1
	VFNMADD231PS(c2, kf, r) // r -= k*c2
	VMOVUPS(p[0], poly)
	for _, c := range p[1:] {
		VFMADD213PS(c, r, poly) // poly = poly*r + c
	}
	VMULPS(r, r, r2)
	VFMADD213PS(r, r2, poly) // poly = poly*r^2 + r
	VADDPS(one, poly, poly)
	// 2^k = 2^k1 * 2^k2, k1 = k>>1, k2 = k-k1.
	k1, k2 := YMM(), YMM()
	VPSRAD(U8(1), ki, k1)
	VPSUBD(k1, ki, k2)
	VPADDD(bias, k1, k1)
	VPADDD(bias, k2, k2)
	VPSLLD(U8(23), k1, k1)
	VPSLLD(U8(23), k2, k2)
	VMULPS(k1, poly, poly)
	VMULPS(k2, poly, poly)
	VCMPPS(U8(3), t, t, q) // NaN lanes keep t
	VBLENDVPS(q, t, poly, poly)
	return poly
}

// silu: s = 1/(1+exp(-x)) with expVec and an IEEE division, y = x*s; the
// same operations as the generic loop over expSubSum, so the same bits.
func silu() {
	TEXT("siluAVX2", NOSPLIT, "func(y, s, x []float32)")
	Pragma("noescape")
	Doc("siluAVX2 sets s[i] = 1/(1+exp(-x[i])) and y[i] = x[i]*s[i] for the first",
		"len(x)&^7 elements (y and s at least as long as x).")
	y := Load(Param("y").Base(), GP64())
	sp := Load(Param("s").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	one, bias := expConsts()
	zero := YMM()
	VXORPS(zero, zero, zero)
	loopsUnroll("silu", n, 1, func(u int, idx GPVirtual) {
		v, t := YMM(), YMM()
		VMOVUPS(at(x, idx, 0), v)
		VSUBPS(v, zero, t) // t = 0 - x = -x (also for x = 0: +0, exp 1)
		e := expVec(t, one, bias)
		VADDPS(one, e, e)
		sg := YMM()
		VDIVPS(e, one, sg) // 1/(1+e)
		VMOVUPS(sg, at(sp, idx, 0))
		VMULPS(sg, v, sg)
		VMOVUPS(sg, at(y, idx, 0))
	})
	VZEROUPPER()
	RET()
}

// gemm6x16 is the sgemm micro-kernel: 12 YMM accumulators hold a 6x16 tile
// of C; each step broadcasts 6 values of the packed A panel and multiplies
// them with two vectors of the packed B panel.
func gemm6x16(name string, overwrite bool) { gemmRx16(name, overwrite, 6) }

// gemmRx16 is gemm6x16 for the first rows (1..6) of the packed 6-row A panel
// (its stride stays 6 floats a step): the kernels for the last, partial row
// panel, which then needs neither a copy of C nor work on padding rows.
func gemmRx16(name string, overwrite bool, rows int) {
	TEXT(name, NOSPLIT, "func(kc int, a, b, c []float32, ldc int)")
	Pragma("noescape")
	switch {
	case rows < 6 && overwrite:
		Doc(fmt.Sprintf("%s stores the product of the first %d rows of the packed 6 x kc", name, rows),
			fmt.Sprintf("panel a and the packed kc x 16 panel b into the %d x 16 tile of c with row", rows),
			"stride ldc, ignoring what c held.")
	case rows < 6:
		Doc(fmt.Sprintf("%s adds the product of the first %d rows of the packed 6 x kc", name, rows),
			fmt.Sprintf("panel a and the packed kc x 16 panel b to the %d x 16 tile of c with row", rows),
			"stride ldc.")
	case overwrite:
		Doc(name+" stores the product of the packed 6 x kc panel a and the packed",
			"kc x 16 panel b into the 6 x 16 tile of c with row stride ldc, ignoring",
			"what c held (see gemmKernel.microStore).")
	default:
		Doc(name+" adds the product of the packed 6 x kc panel a and the packed",
			"kc x 16 panel b to the 6 x 16 tile of c with row stride ldc (see gemmKernel).")
	}
	kc := Load(Param("kc"), GP64())
	a := Load(Param("a").Base(), GP64())
	b := Load(Param("b").Base(), GP64())
	c := Load(Param("c").Base(), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	gemmTile(kc, a, b, c, ldc, rows, overwrite)
	VZEROUPPER()
	RET()
}

// gemmTile emits the body of a rows x 16 micro-kernel: it consumes kc and
// leaves a and b one panel further on (the next row panel of A, the next
// column panel of B) and c at the tile's last row.
func gemmTile(kc, a, b, c, ldc Register, rows int, overwrite bool) {
	// Prefetch the C tile (6 rows of 64 bytes, possibly across two lines):
	// it is read only at the end.
	{
		r, l3 := GP64(), GP64()
		LEAQ(Mem{Base: ldc, Index: ldc, Scale: 2}, l3)
		for i, m := range []Mem{{Base: c}, {Base: c, Index: ldc, Scale: 1}, {Base: c, Index: ldc, Scale: 2}} {
			if i < rows {
				PREFETCHT0(m)
				PREFETCHT0(m.Offset(60))
			}
		}
		LEAQ(Mem{Base: c, Index: l3, Scale: 1}, r)
		for i, m := range []Mem{{Base: r}, {Base: r, Index: ldc, Scale: 1}, {Base: r, Index: ldc, Scale: 2}} {
			if 3+i < rows {
				PREFETCHT0(m)
				PREFETCHT0(m.Offset(60))
			}
		}
	}
	acc := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}[:2*rows]
	for _, r := range acc {
		VXORPS(r, r, r)
	}
	step := func(p int) {
		VMOVUPS(Mem{Base: b, Disp: 64 * p}, Y12)
		VMOVUPS(Mem{Base: b, Disp: 64*p + 32}, Y13)
		for i := 0; i < rows; i++ {
			s := Y14
			if i%2 == 1 {
				s = Y15
			}
			VBROADCASTSS(Mem{Base: a, Disp: 24*p + 4*i}, s)
			VFMADD231PS(Y12, s, acc[2*i])
			VFMADD231PS(Y13, s, acc[2*i+1])
		}
	}
	k4 := GP64()
	MOVQ(kc, k4)
	SHRQ(U8(2), k4)
	ANDQ(U32(3), kc)
	Label("gemm_loop4")
	TESTQ(k4, k4)
	JZ(LabelRef("gemm_loop1"))
	PREFETCHT0(Mem{Base: a, Disp: 384})
	for p := 0; p < 4; p++ {
		step(p)
	}
	ADDQ(U32(96), a)
	ADDQ(U32(256), b)
	DECQ(k4)
	JMP(LabelRef("gemm_loop4"))
	Label("gemm_loop1")
	TESTQ(kc, kc)
	JZ(LabelRef("gemm_store"))
	step(0)
	ADDQ(U32(24), a)
	ADDQ(U32(64), b)
	DECQ(kc)
	JMP(LabelRef("gemm_loop1"))
	Label("gemm_store")
	for i := 0; i < rows; i++ {
		if !overwrite {
			VADDPS(Mem{Base: c}, acc[2*i], acc[2*i])
			VADDPS(Mem{Base: c, Disp: 32}, acc[2*i+1], acc[2*i+1])
		}
		VMOVUPS(acc[2*i], Mem{Base: c})
		VMOVUPS(acc[2*i+1], Mem{Base: c, Disp: 32})
		if i < rows-1 {
			ADDQ(ldc, c)
		}
	}
}

// gemmBlock6x16 runs the 6x16 kernel over every tile of an m x n block of
// full tiles (see gemmKernel.block): column panels outer, row panels inner,
// with no Go call per tile.
func gemmBlock6x16(name string, overwrite bool) {
	TEXT(name, NOSPLIT, "func(kc int, a, b, c []float32, ldc, m, n int)")
	Pragma("noescape")
	what := "adds the product of"
	if overwrite {
		what = "stores the product of"
	}
	Doc(name+" "+what+" the packed 6-row panels of a (m/6 of",
		"them, 6*kc apart) and the packed 16-column panels of b (n/16, 16*kc apart)",
		"to the m x n block of c with row stride ldc, tile by tile like the 6x16",
		"kernel; m must be a multiple of 6 and n of 16.")
	kc := Load(Param("kc"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	b := Load(Param("b").Base(), GP64())
	nb := Load(Param("n"), GP64())
	SHLQ(U8(2), nb)
	jb := GP64()
	XORQ(jb, jb)
	Label("blk_cols")
	CMPQ(jb, nb)
	JGE(LabelRef("blk_done"))
	a := Load(Param("a").Base(), GP64())
	c := Load(Param("c").Base(), GP64())
	ADDQ(jb, c)
	i := Load(Param("m"), GP64())
	Label("blk_rows")
	TESTQ(i, i)
	JLE(LabelRef("blk_next"))
	bt, tk := GP64(), GP64()
	MOVQ(b, bt)
	MOVQ(kc, tk)
	gemmTile(tk, a, bt, c, ldc, 6, overwrite)
	ADDQ(ldc, c)
	SUBQ(U8(6), i)
	JMP(LabelRef("blk_rows"))
	Label("blk_next")
	step := GP64()
	MOVQ(kc, step)
	SHLQ(U8(6), step)
	ADDQ(step, b)
	ADDQ(U8(64), jb)
	JMP(LabelRef("blk_cols"))
	Label("blk_done")
	VZEROUPPER()
	RET()
}

// packA6 packs alpha times 6 rows of row-major A into a 6-row panel, 8 columns
// at a time: the 6 rows (and two zero rows) are transposed as an 8x8 block
// and each column is stored as 8 floats at dst[6p:], so the 2 junk floats of
// column p are overwritten by column p+1 (dst needs 2 floats of slack).
func packA6() {
	TEXT("packA6AVX2", NOSPLIT, "func(dst, a []float32, lda, kc8 int, alpha float32)")
	Pragma("noescape")
	Doc("packA6AVX2 sets dst[6p+i] = alpha*a[i*lda+p] for i < 6 and p < kc8 (a",
		"multiple of 8), writing up to dst[6*kc8+2].")
	dst := Load(Param("dst").Base(), GP64())
	a := Load(Param("a").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	kc8 := Load(Param("kc8"), GP64())
	al := YMM()
	VBROADCASTSS(paramAddr("alpha"), al)
	SHLQ(U8(2), lda)
	a3 := GP64()
	LEAQ(Mem{Base: a, Index: lda, Scale: 2}, a3)
	ADDQ(lda, a3)
	zero := YMM()
	VXORPS(zero, zero, zero)
	SHRQ(U8(3), kc8)
	Label("packa_loop")
	TESTQ(kc8, kc8)
	JZ(LabelRef("packa_done"))
	addr := []Mem{
		{Base: a}, {Base: a, Index: lda, Scale: 1}, {Base: a, Index: lda, Scale: 2},
		{Base: a3}, {Base: a3, Index: lda, Scale: 1}, {Base: a3, Index: lda, Scale: 2},
	}
	r := make([]VecVirtual, 6)
	for i := range r {
		r[i] = YMM()
		VMULPS(addr[i], al, r[i])
	}
	t := make([]VecVirtual, 6)
	for i := range t {
		t[i] = YMM()
	}
	VUNPCKLPS(r[1], r[0], t[0])
	VUNPCKHPS(r[1], r[0], t[1])
	VUNPCKLPS(r[3], r[2], t[2])
	VUNPCKHPS(r[3], r[2], t[3])
	VUNPCKLPS(r[5], r[4], t[4])
	VUNPCKHPS(r[5], r[4], t[5])
	s := make([]VecVirtual, 8)
	for i := range s {
		s[i] = YMM()
	}
	VSHUFPS(U8(0x44), t[2], t[0], s[0])
	VSHUFPS(U8(0xEE), t[2], t[0], s[1])
	VSHUFPS(U8(0x44), t[3], t[1], s[2])
	VSHUFPS(U8(0xEE), t[3], t[1], s[3])
	VSHUFPS(U8(0x44), zero, t[4], s[4])
	VSHUFPS(U8(0xEE), zero, t[4], s[5])
	VSHUFPS(U8(0x44), zero, t[5], s[6])
	VSHUFPS(U8(0xEE), zero, t[5], s[7])
	cols := make([]VecVirtual, 8)
	for q := 0; q < 4; q++ {
		cols[q], cols[q+4] = YMM(), YMM()
		VPERM2F128(U8(0x20), s[q+4], s[q], cols[q])
		VPERM2F128(U8(0x31), s[q+4], s[q], cols[q+4])
	}
	// In column order: each store's 2 junk floats are overwritten by the next.
	for q := 0; q < 8; q++ {
		VMOVUPS(cols[q], Mem{Base: dst, Disp: 24 * q})
	}
	ADDQ(U32(32), a)
	ADDQ(U32(32), a3)
	ADDQ(U32(192), dst)
	DECQ(kc8)
	JMP(LabelRef("packa_loop"))
	Label("packa_done")
	VZEROUPPER()
	RET()
}

func gatherRows16() {
	TEXT("gatherRows16AVX2", NOSPLIT, "func(dst, src []float32, offs []int32, base int) int")
	Pragma("noescape")
	Doc("gatherRows16AVX2 copies 16 values per offset: dst[16p+l] = src[base+offs[p]+l]",
		"for l < 16, in order of p, and returns the number of rows copied: it stops",
		"at the first p whose row is not inside src. len(src) must be at least 16",
		"and len(dst) at least 16*len(offs).")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lim := Load(Param("src").Len(), GP64())
	SUBQ(U8(16), lim)
	offs := Load(Param("offs").Base(), GP64())
	n := Load(Param("offs").Len(), GP64())
	base := Load(Param("base"), GP64())
	p := GP64()
	XORQ(p, p)
	Label("gather_loop")
	CMPQ(p, n)
	JGE(LabelRef("gather_done"))
	idx := GP64()
	MOVLQSX(Mem{Base: offs, Index: p, Scale: 4}, idx)
	ADDQ(base, idx)
	// Unsigned: a negative index is out of range too.
	CMPQ(idx, lim)
	JA(LabelRef("gather_done"))
	y0, y1 := YMM(), YMM()
	VMOVUPS(Mem{Base: src, Index: idx, Scale: 4}, y0)
	VMOVUPS(Mem{Base: src, Index: idx, Scale: 4, Disp: 32}, y1)
	VMOVUPS(y0, Mem{Base: dst})
	VMOVUPS(y1, Mem{Base: dst, Disp: 32})
	ADDQ(U32(64), dst)
	INCQ(p)
	JMP(LabelRef("gather_loop"))
	Label("gather_done")
	VZEROUPPER()
	Store(p, ReturnIndex(0))
	RET()
}

// fmaPeak is the calibration loop behind PeakLoop: 12 independent
// accumulators, two vector FMAs a cycle at most, no memory traffic: the
// arithmetic the sgemm micro-kernel is made of, at the core's peak rate.
func fmaPeak() {
	TEXT("fmaPeakAVX2", NOSPLIT, "func(iters int)")
	Doc("fmaPeakAVX2 runs iters iterations of 12 independent 8-wide fused",
		"multiply-adds (192 floating-point operations each).")
	n := Load(Param("iters"), GP64())
	acc := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}
	for _, r := range acc {
		VXORPS(r, r, r)
	}
	VXORPS(Y12, Y12, Y12)
	VXORPS(Y13, Y13, Y13)
	Label("peak_loop")
	TESTQ(n, n)
	JZ(LabelRef("peak_done"))
	for _, r := range acc {
		VFMADD231PS(Y12, Y13, r)
	}
	DECQ(n)
	JMP(LabelRef("peak_loop"))
	Label("peak_done")
	VZEROUPPER()
	RET()
}

// packB16 packs full 16-column panels of row-major B for the 6x16 kernel,
// row by row: each row of B fills one 64-byte line of every panel.
func packB16() {
	TEXT("packB16AVX2", NOSPLIT, "func(dst, b []float32, ldb, kc, panels int)")
	Pragma("noescape")
	Doc("packB16AVX2 sets dst[s*16*kc+16*p+j] = b[p*ldb+16*s+j] for s < panels,",
		"p < kc and j < 16 (kc, panels >= 1).")
	dst := Load(Param("dst").Base(), GP64())
	b := Load(Param("b").Base(), GP64())
	ldb := Load(Param("ldb"), GP64())
	kc := Load(Param("kc"), GP64())
	panels := Load(Param("panels"), GP64())
	SHLQ(U8(2), ldb)
	stride := GP64()
	MOVQ(kc, stride)
	SHLQ(U8(6), stride) // 64*kc bytes between panels
	Label("packb_row")
	src, d, s := GP64(), GP64(), GP64()
	MOVQ(b, src)
	MOVQ(dst, d)
	MOVQ(panels, s)
	Label("packb_panel")
	VMOVUPS(Mem{Base: src}, Y0)
	VMOVUPS(Mem{Base: src, Disp: 32}, Y1)
	VMOVUPS(Y0, Mem{Base: d})
	VMOVUPS(Y1, Mem{Base: d, Disp: 32})
	ADDQ(U32(64), src)
	ADDQ(stride, d)
	DECQ(s)
	JNZ(LabelRef("packb_panel"))
	ADDQ(ldb, b)
	ADDQ(U32(64), dst)
	DECQ(kc)
	JNZ(LabelRef("packb_row"))
	VZEROUPPER()
	RET()
}

// centerSumSquares is the first pass of group normalisation: centre and sum
// the squares, with the accumulators of dot.
func centerSumSquares() {
	TEXT("centerSumSquaresAVX2", NOSPLIT, "func(dst, x []float32, mean float32) float32")
	Pragma("noescape")
	Doc("centerSumSquaresAVX2 sets dst[i] = x[i] - mean over the first len(x)&^7",
		"elements and returns the sum of their squares (fused multiply-adds into",
		"four accumulators, as dotAVX2 sums).")
	mean := bcast("mean")
	dst := Load(Param("dst").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	acc := zeroAccumulators()
	loops("css", n, func(u int, idx GPVirtual) {
		t := YMM()
		VMOVUPS(at(x, idx, u), t)
		VSUBPS(mean, t, t)
		VMOVUPS(t, at(dst, idx, u))
		VFMADD231PS(t, t, acc[u])
	})
	returnSum(acc)
}

// normalizeAffine is the second pass of group normalisation.
func normalizeAffine() {
	TEXT("normalizeAffineAVX2", NOSPLIT, "func(xhat, y []float32, rstd, gamma, beta float32)")
	Pragma("noescape")
	Doc("normalizeAffineAVX2 sets t = xhat[i]*rstd, xhat[i] = t and y[i] = t*gamma + beta",
		"over the first len(xhat)&^7 elements, rounding like the generic loop (no",
		"fused multiply-add).")
	rstd, gamma, beta := bcast("rstd"), bcast("gamma"), bcast("beta")
	xhat := Load(Param("xhat").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("xhat").Len(), GP64())
	loops("naf", n, func(u int, idx GPVirtual) {
		t, o := YMM(), YMM()
		VMULPS(at(xhat, idx, u), rstd, t)
		VMOVUPS(t, at(xhat, idx, u))
		VMULPS(gamma, t, o)
		VADDPS(beta, o, o)
		VMOVUPS(o, at(y, idx, u))
	})
	VZEROUPPER()
	RET()
}

// siluGrad is SiLU's backward pass from the kept sigmoid.
func siluGrad() {
	TEXT("siluGradAVX2", NOSPLIT, "func(dx, dy, x, s []float32)")
	Pragma("noescape")
	Doc("siluGradAVX2 sets dx[i] = dy[i]*s[i]*(1 + x[i]*(1-s[i])) over the first",
		"len(dx)&^7 elements, rounding like the generic loop (no fused multiply-add).")
	one := constant(1)
	dx := Load(Param("dx").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	sp := Load(Param("s").Base(), GP64())
	n := Load(Param("dx").Len(), GP64())
	loops("sgrad", n, func(u int, idx GPVirtual) {
		sv, t, d := YMM(), YMM(), YMM()
		VMOVUPS(at(sp, idx, u), sv)
		VSUBPS(sv, one, t)          // 1 - s
		VMULPS(at(x, idx, u), t, t) // x*(1-s)
		VADDPS(one, t, t)           // 1 + x*(1-s)
		VMULPS(at(dy, idx, u), sv, d)
		VMULPS(t, d, d)
		VMOVUPS(d, at(dx, idx, u))
	})
	VZEROUPPER()
	RET()
}

// gatherRowPairs8 is gatherRows16 for a panel whose 16 columns are two runs
// of 8 (an 8-pixel-wide image: two output rows per panel).
func gatherRowPairs8() {
	TEXT("gatherRowPairs8AVX2", NOSPLIT, "func(dst, src []float32, offs []int32, base0, base1 int) int")
	Pragma("noescape")
	Doc("gatherRowPairs8AVX2 copies two runs of 8 values per offset:",
		"dst[16p+l] = src[base0+offs[p]+l] and dst[16p+8+l] = src[base1+offs[p]+l] for",
		"l < 8, in order of p, and returns the number of rows copied: it stops at the",
		"first p with a run not inside src. len(src) must be at least 8 and len(dst)",
		"at least 16*len(offs).")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lim := Load(Param("src").Len(), GP64())
	SUBQ(U8(8), lim)
	offs := Load(Param("offs").Base(), GP64())
	n := Load(Param("offs").Len(), GP64())
	base0 := Load(Param("base0"), GP64())
	base1 := Load(Param("base1"), GP64())
	p := GP64()
	XORQ(p, p)
	Label("pairs_loop")
	CMPQ(p, n)
	JGE(LabelRef("pairs_done"))
	o, i0, i1 := GP64(), GP64(), GP64()
	MOVLQSX(Mem{Base: offs, Index: p, Scale: 4}, o)
	MOVQ(o, i0)
	ADDQ(base0, i0)
	MOVQ(o, i1)
	ADDQ(base1, i1)
	// Unsigned: a negative index is out of range too.
	CMPQ(i0, lim)
	JA(LabelRef("pairs_done"))
	CMPQ(i1, lim)
	JA(LabelRef("pairs_done"))
	y0, y1 := YMM(), YMM()
	VMOVUPS(Mem{Base: src, Index: i0, Scale: 4}, y0)
	VMOVUPS(Mem{Base: src, Index: i1, Scale: 4}, y1)
	VMOVUPS(y0, Mem{Base: dst})
	VMOVUPS(y1, Mem{Base: dst, Disp: 32})
	ADDQ(U32(64), dst)
	INCQ(p)
	JMP(LabelRef("pairs_loop"))
	Label("pairs_done")
	VZEROUPPER()
	Store(p, ReturnIndex(0))
	RET()
}

// transpose8 is the blocked transpose behind Transpose: 8x8 blocks, each
// loaded as 128-bit halves so that rows i and i+4 share a register (the
// lane-crossing step is folded into the loads), then two rounds of in-lane
// shuffles. The outer loop runs along the source rows 16 columns at a time
// (8 at the end), the inner loop down the rows: every 64-byte line of src
// is used whole as soon as it is loaded (source rows a power-of-two apart
// would otherwise evict each other from L1 before their second half is
// read), and the destination rows being filled stay in L1.
func transpose8() {
	TEXT("transpose8AVX2", NOSPLIT, "func(dst []float32, ldd int, src []float32, lds, rows, cols int)")
	Pragma("noescape")
	Doc("transpose8AVX2 sets dst[j*ldd+i] = src[i*lds+j] for i < rows&^7 and",
		"j < cols&^7, in 8x8 blocks (the caller checks the bounds).")
	dst := Load(Param("dst").Base(), GP64())
	ldd := Load(Param("ldd"), GP64())
	src := Load(Param("src").Base(), GP64())
	lds := Load(Param("lds"), GP64())
	rows := Load(Param("rows"), GP64())
	cols := Load(Param("cols"), GP64())
	ANDQ(I32(-8), rows)
	ANDQ(I32(-8), cols)
	SHLQ(U8(2), ldd) // bytes
	SHLQ(U8(2), lds)
	lds3, ldd3 := GP64(), GP64()
	LEAQ(Mem{Base: lds, Index: lds, Scale: 2}, lds3)
	LEAQ(Mem{Base: ldd, Index: ldd, Scale: 2}, ldd3)
	// quad addresses row (or column) r < 4 from base b with stride ld.
	quad := func(b, ld, ld3 Register, r, disp int) Mem {
		switch r {
		case 0:
			return Mem{Base: b, Disp: disp}
		case 1:
			return Mem{Base: b, Index: ld, Scale: 1, Disp: disp}
		case 2:
			return Mem{Base: b, Index: ld, Scale: 2, Disp: disp}
		}
		return Mem{Base: b, Index: ld3, Scale: 1, Disp: disp}
	}
	// block transposes the 8x8 block of src at s (rows s, s4 = s + 4 rows;
	// byte offset disp) into dst at d, d4 = d + 4 rows.
	block := func(s, s4, d, d4 Register, disp int) {
		for half := 0; half < 2; half++ {
			// t[r] = row r, columns 4h..4h+3 | row r+4, same columns.
			// Physical registers: avo would take the 128-bit load for a
			// partial write and keep every t live across the loop.
			t := [4]VecPhysical{Y0, Y1, Y2, Y3}
			for r := range t {
				VMOVUPS(quad(s, lds, lds3, r, disp+16*half), t[r].AsX())
				VINSERTF128(U8(1), quad(s4, lds, lds3, r, disp+16*half), t[r], t[r])
			}
			u0, u1, u2, u3 := Y4, Y5, Y6, Y7
			VUNPCKLPS(t[1], t[0], u0) // r0c0 r1c0 r0c1 r1c1
			VUNPCKHPS(t[1], t[0], u1) // r0c2 r1c2 r0c3 r1c3
			VUNPCKLPS(t[3], t[2], u2)
			VUNPCKHPS(t[3], t[2], u3)
			c := [4]VecPhysical{Y8, Y9, Y10, Y11}
			VSHUFPS(U8(0x44), u2, u0, c[0])
			VSHUFPS(U8(0xEE), u2, u0, c[1])
			VSHUFPS(U8(0x44), u3, u1, c[2])
			VSHUFPS(U8(0xEE), u3, u1, c[3])
			for k := range c {
				b := d
				if half == 1 {
					b = d4
				}
				VMOVUPS(c[k], quad(b, ldd, ldd3, k, 0))
			}
		}
	}
	j := GP64()
	XORQ(j, j)
	for _, width := range []int{16, 8} {
		pre := fmt.Sprintf("tr%d", width)
		Label(pre + "_cols")
		last := GP64()
		MOVQ(j, last)
		ADDQ(U8(width), last)
		CMPQ(last, cols)
		JG(LabelRef(pre + "_end"))
		// s: src + 4j (row 0 of the block column); d: dst + j*ldd.
		s, d := GP64(), GP64()
		LEAQ(Mem{Base: src, Index: j, Scale: 4}, s)
		MOVQ(j, d)
		IMULQ(ldd, d) // ldd is in bytes
		ADDQ(dst, d)
		i := GP64()
		XORQ(i, i)
		Label(pre + "_rows")
		CMPQ(i, rows)
		JGE(LabelRef(pre + "_next"))
		s4, d4 := GP64(), GP64()
		LEAQ(Mem{Base: s, Index: lds, Scale: 4}, s4)
		LEAQ(Mem{Base: d, Index: ldd, Scale: 4}, d4)
		block(s, s4, d, d4, 0)
		if width == 16 {
			d8, d12 := GP64(), GP64()
			LEAQ(Mem{Base: d4, Index: ldd, Scale: 4}, d8)
			LEAQ(Mem{Base: d8, Index: ldd, Scale: 4}, d12)
			block(s, s4, d8, d12, 32)
		}
		ADDQ(U8(32), d) // 8 rows of src are 8 floats further along dst
		LEAQ(Mem{Base: s4, Index: lds, Scale: 4}, s)
		ADDQ(U8(8), i)
		JMP(LabelRef(pre + "_rows"))
		Label(pre + "_next")
		ADDQ(U8(width), j)
		JMP(LabelRef(pre + "_cols"))
		Label(pre + "_end")
	}
	VZEROUPPER()
	RET()
}

// sumDot is the first pass of the group-norm backward: the sum of x and
// the dot product of x and y in one read, each into four accumulators.
func sumDot() {
	TEXT("sumDotAVX2", NOSPLIT, "func(x, y []float32) (sx, sxy float32)")
	Pragma("noescape")
	Doc("sumDotAVX2 returns the sum of the first len(x)&^7 elements of x and the",
		"dot product of them with y (four accumulators each, as dotAVX2 sums).")
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	as := zeroAccumulators()
	ad := zeroAccumulators()
	loops("sdot", n, func(u int, idx GPVirtual) {
		t := YMM()
		VMOVUPS(at(x, idx, u), t)
		VADDPS(t, as[u], as[u])
		VFMADD231PS(at(y, idx, u), t, ad[u])
	})
	for k, acc := range [][]VecVirtual{as, ad} {
		VADDPS(acc[1], acc[0], acc[0])
		VADDPS(acc[3], acc[2], acc[2])
		VADDPS(acc[2], acc[0], acc[0])
		VMOVSS(hsum(acc[0]), returnAddr(k))
	}
	VZEROUPPER()
	RET()
}

// groupNormGrad is the second pass of the group-norm backward.
func groupNormGrad() {
	TEXT("groupNormGradAVX2", NOSPLIT, "func(dx, dy, xhat []float32, rstd, gamma, mdy, mdyx float32) float32")
	Pragma("noescape")
	Doc("groupNormGradAVX2 sets dx[i] = rstd*((dy[i]*gamma - mdy) - xhat[i]*mdyx) over",
		"the first len(dx)&^7 elements, rounding like the generic loop (no fused",
		"multiply-add), and returns the sum of the results (four accumulators).")
	rstd, gamma, mdy, mdyx := bcast("rstd"), bcast("gamma"), bcast("mdy"), bcast("mdyx")
	dx := Load(Param("dx").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	xh := Load(Param("xhat").Base(), GP64())
	n := Load(Param("dx").Len(), GP64())
	acc := zeroAccumulators()
	loops("gng", n, func(u int, idx GPVirtual) {
		t, v := YMM(), YMM()
		VMULPS(at(dy, idx, u), gamma, t)
		VSUBPS(mdy, t, t)
		VMULPS(at(xh, idx, u), mdyx, v)
		VSUBPS(v, t, t)
		VMULPS(rstd, t, t)
		VMOVUPS(t, at(dx, idx, u))
		VADDPS(t, acc[u], acc[u])
	})
	returnSum(acc)
}

// winoIn is the Winograd F(2x2, 3x3) input transform of one panel of 16
// tiles (winograd.go), in two groups of 8: each group's two runs of 4 tiles
// are loaded as 8 values from each patch row's start and 8 from 2 further
// on, whose even and odd columns VSHUFPS separates (lanes A0 A1 B0 B1 A2 A3
// B2 B3). Both groups of a plane are done together, so every 64-byte line
// of v is written whole at once. Rows 1 and 2 are transformed first, as
// they appear in two outputs each.
func winoIn() {
	TEXT("winoInAVX2", NOSPLIT, "func(v []float32, vs, vc int, x []float32, o0, o1, o2, o3, ld, planes, ps int)")
	Pragma("noescape")
	Doc("winoInAVX2 is winoInGeneric (the caller checks the bounds).")
	vb := Load(Param("v").Base(), GP64())
	vsb := Load(Param("vs"), GP64())
	SHLQ(U8(2), vsb)
	vs3 := GP64()
	LEAQ(Mem{Base: vsb, Index: vsb, Scale: 2}, vs3)
	vcb := Load(Param("vc"), GP64())
	SHLQ(U8(2), vcb)
	x := Load(Param("x").Base(), GP64())
	var runs [4]Register
	for i := range runs {
		runs[i] = Load(Param(fmt.Sprintf("o%d", i)), GP64())
		LEAQ(Mem{Base: x, Index: runs[i], Scale: 4}, runs[i])
	}
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	ld3 := GP64()
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	n := Load(Param("planes"), GP64())
	ps := Load(Param("ps"), GP64())
	SHLQ(U8(2), ps)
	row := func(p Register, r, disp int) Mem {
		switch r {
		case 0:
			return Mem{Base: p, Disp: disp}
		case 1:
			return Mem{Base: p, Index: ld, Scale: 1, Disp: disp}
		case 2:
			return Mem{Base: p, Index: ld, Scale: 2, Disp: disp}
		}
		return Mem{Base: p, Index: ld3, Scale: 1, Disp: disp}
	}
	// rowT returns the row transform of patch row r of runs pa and pb:
	// d0-d2, d1+d2, d2-d1, d1-d3.
	rowT := func(pa, pb Register, r int) [4]VecVirtual {
		a0, b0, a2, b2 := YMM(), YMM(), YMM(), YMM()
		VMOVUPS(row(pa, r, 0), a0)
		VMOVUPS(row(pb, r, 0), b0)
		VMOVUPS(row(pa, r, 8), a2)
		VMOVUPS(row(pb, r, 8), b2)
		d0, d1, d2, d3 := YMM(), YMM(), YMM(), YMM()
		VSHUFPS(U8(0x88), b0, a0, d0)
		VSHUFPS(U8(0xDD), b0, a0, d1)
		VSHUFPS(U8(0x88), b2, a2, d2)
		VSHUFPS(U8(0xDD), b2, a2, d3)
		t := [4]VecVirtual{YMM(), YMM(), YMM(), YMM()}
		VSUBPS(d2, d0, t[0])
		VADDPS(d2, d1, t[1])
		VSUBPS(d1, d2, t[2])
		VSUBPS(d3, d1, t[3])
		return t
	}
	store := func(y VecVirtual, r, c, disp int) { VMOVUPS(y, xiMem(vb, vsb, vs3, 4*r+c, disp)) }
	group := func(pa, pb Register, disp int) {
		t1 := rowT(pa, pb, 1)
		t2 := rowT(pa, pb, 2)
		for c := 0; c < 4; c++ {
			s, d := YMM(), YMM()
			VADDPS(t2[c], t1[c], s)
			store(s, 1, c, disp)
			VSUBPS(t1[c], t2[c], d)
			store(d, 2, c, disp)
		}
		t0 := rowT(pa, pb, 0)
		for c := 0; c < 4; c++ {
			d := YMM()
			VSUBPS(t2[c], t0[c], d)
			store(d, 0, c, disp)
		}
		t3 := rowT(pa, pb, 3)
		for c := 0; c < 4; c++ {
			d := YMM()
			VSUBPS(t3[c], t1[c], d)
			store(d, 3, c, disp)
		}
	}
	Label("wi_loop")
	TESTQ(n, n)
	JZ(LabelRef("wi_done"))
	group(runs[0], runs[1], 0)
	group(runs[2], runs[3], 32)
	for _, p := range runs {
		ADDQ(ps, p)
	}
	ADDQ(vcb, vb)
	DECQ(n)
	JMP(LabelRef("wi_loop"))
	Label("wi_done")
	VZEROUPPER()
	RET()
}

// winoOut is the Winograd F(2x2, 3x3) output transform of one panel of 16
// tiles (winograd.go), both groups of a channel together (each 64-byte
// line of m is read whole at once). VUNPCKLPS and VUNPCKHPS of an output
// row's two columns give the 8 outputs in that row of the group's first
// and second run, in order.
func winoOut() {
	TEXT("winoOutAVX2", NOSPLIT, "func(y, m []float32, ms, mrow, rows, o0, o1, o2, o3, runs, ld, yplane int, bias []float32, flags int)")
	Pragma("noescape")
	Doc("winoOutAVX2 is winoOutGeneric with flags 1 (acc) and 2 (bias); the caller",
		"checks the bounds.")
	yb := Load(Param("y").Base(), GP64())
	mb := Load(Param("m").Base(), GP64())
	msb := Load(Param("ms"), GP64())
	SHLQ(U8(2), msb)
	ms3 := GP64()
	LEAQ(Mem{Base: msb, Index: msb, Scale: 2}, ms3)
	mrow := Load(Param("mrow"), GP64())
	SHLQ(U8(2), mrow)
	n := Load(Param("rows"), GP64())
	var outs [4]Register
	for i := range outs {
		outs[i] = Load(Param(fmt.Sprintf("o%d", i)), GP64())
		LEAQ(Mem{Base: yb, Index: outs[i], Scale: 4}, outs[i])
	}
	nruns := Load(Param("runs"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	yplane := Load(Param("yplane"), GP64())
	SHLQ(U8(2), yplane)
	bp := Load(Param("bias").Base(), GP64())
	flags := Load(Param("flags"), GP64())
	// load returns element xi = 4r+c of the current row.
	load := func(r, c, disp int) VecVirtual {
		y := YMM()
		VMOVUPS(xiMem(mb, msb, ms3, 4*r+c, disp), y)
		return y
	}
	// group transforms lanes disp/4.. of the row and stores runs ya
	// (always) and yb (when more than first runs are valid).
	group := func(ya, yb Register, disp, first int, pre string) {
		var s0, s1 [4]VecVirtual
		for c := 0; c < 4; c++ {
			m0, m1, m2, m3 := load(0, c, disp), load(1, c, disp), load(2, c, disp), load(3, c, disp)
			s0[c], s1[c] = YMM(), YMM()
			VADDPS(m1, m0, s0[c])
			VADDPS(m2, s0[c], s0[c])
			VSUBPS(m2, m1, s1[c])
			VSUBPS(m3, s1[c], s1[c])
		}
		out := [4]VecVirtual{YMM(), YMM(), YMM(), YMM()} // y00 y01 y10 y11
		for i, s := range [][4]VecVirtual{s0, s1} {
			VADDPS(s[1], s[0], out[2*i])
			VADDPS(s[2], out[2*i], out[2*i])
			VSUBPS(s[2], s[1], out[2*i+1])
			VSUBPS(s[3], out[2*i+1], out[2*i+1])
		}
		TESTQ(U32(2), flags)
		JZ(LabelRef(pre + "_nobias"))
		b := YMM()
		VBROADCASTSS(Mem{Base: bp}, b)
		for _, o := range out {
			VADDPS(b, o, o)
		}
		Label(pre + "_nobias")
		ra0, rb0, ra1, rb1 := YMM(), YMM(), YMM(), YMM()
		VUNPCKLPS(out[1], out[0], ra0)
		VUNPCKHPS(out[1], out[0], rb0)
		VUNPCKLPS(out[3], out[2], ra1)
		VUNPCKHPS(out[3], out[2], rb1)
		TESTQ(U32(1), flags)
		JZ(LabelRef(pre + "_store"))
		VADDPS(Mem{Base: ya}, ra0, ra0)
		VADDPS(Mem{Base: ya, Index: ld, Scale: 1}, ra1, ra1)
		CMPQ(nruns, U8(first+1))
		JLE(LabelRef(pre + "_store"))
		VADDPS(Mem{Base: yb}, rb0, rb0)
		VADDPS(Mem{Base: yb, Index: ld, Scale: 1}, rb1, rb1)
		Label(pre + "_store")
		VMOVUPS(ra0, Mem{Base: ya})
		VMOVUPS(ra1, Mem{Base: ya, Index: ld, Scale: 1})
		CMPQ(nruns, U8(first+1))
		JLE(LabelRef(pre + "_done"))
		VMOVUPS(rb0, Mem{Base: yb})
		VMOVUPS(rb1, Mem{Base: yb, Index: ld, Scale: 1})
		Label(pre + "_done")
	}
	Label("wo_loop")
	TESTQ(n, n)
	JZ(LabelRef("wo_done"))
	group(outs[0], outs[1], 0, 0, "wo_g0")
	CMPQ(nruns, U8(2))
	JLE(LabelRef("wo_next"))
	group(outs[2], outs[3], 32, 2, "wo_g1")
	Label("wo_next")
	ADDQ(U8(4), bp)
	ADDQ(mrow, mb)
	for _, o := range outs {
		ADDQ(yplane, o)
	}
	DECQ(n)
	JMP(LabelRef("wo_loop"))
	Label("wo_done")
	VZEROUPPER()
	RET()
}

// winoDy is the transform of the output gradient for the Winograd weight
// gradient (winograd.go): each 2x2 tile of dy becomes A dy A^T (4x4), over
// one panel of 16 tiles, two groups of two runs, in the lane order of
// winoIn. A run's two tile rows are 8 values each; VSHUFPS separates their
// even and odd columns.
func winoDy() {
	TEXT("winoDyAVX2", NOSPLIT, "func(v []float32, vs, vc int, dy []float32, o0, o1, o2, o3, ld, planes, ps int)")
	Pragma("noescape")
	Doc("winoDyAVX2 is winoDyGeneric (the caller checks the bounds).")
	vb := Load(Param("v").Base(), GP64())
	vsb := Load(Param("vs"), GP64())
	SHLQ(U8(2), vsb)
	vs3 := GP64()
	LEAQ(Mem{Base: vsb, Index: vsb, Scale: 2}, vs3)
	vcb := Load(Param("vc"), GP64())
	SHLQ(U8(2), vcb)
	x := Load(Param("dy").Base(), GP64())
	var runs [4]Register
	for i := range runs {
		runs[i] = Load(Param(fmt.Sprintf("o%d", i)), GP64())
		LEAQ(Mem{Base: x, Index: runs[i], Scale: 4}, runs[i])
	}
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	n := Load(Param("planes"), GP64())
	ps := Load(Param("ps"), GP64())
	SHLQ(U8(2), ps)
	sign := constant(float32(math.Copysign(0, -1)))
	store := func(y VecVirtual, xi, disp int) { VMOVUPS(y, xiMem(vb, vsb, vs3, xi, disp)) }
	group := func(pa, pb Register, disp int) {
		a0, b0, a1, b1 := YMM(), YMM(), YMM(), YMM()
		VMOVUPS(Mem{Base: pa}, a0)
		VMOVUPS(Mem{Base: pb}, b0)
		VMOVUPS(Mem{Base: pa, Index: ld, Scale: 1}, a1)
		VMOVUPS(Mem{Base: pb, Index: ld, Scale: 1}, b1)
		d00, d01, d10, d11 := YMM(), YMM(), YMM(), YMM()
		VSHUFPS(U8(0x88), b0, a0, d00)
		VSHUFPS(U8(0xDD), b0, a0, d01)
		VSHUFPS(U8(0x88), b1, a1, d10)
		VSHUFPS(U8(0xDD), b1, a1, d11)
		// Rows of A dy: (d00, d01), (d00+d10, d01+d11), (d00-d10,
		// d01-d11), (-d10, -d11); each row (p, q) becomes p, p+q, p-q, -q.
		for r := 0; r < 4; r++ {
			p, q := YMM(), YMM()
			switch r {
			case 0:
				p, q = d00, d01
			case 1:
				VADDPS(d10, d00, p)
				VADDPS(d11, d01, q)
			case 2:
				VSUBPS(d10, d00, p)
				VSUBPS(d11, d01, q)
			case 3:
				VXORPS(sign, d10, p)
				VXORPS(sign, d11, q)
			}
			t := YMM()
			store(p, 4*r, disp)
			VADDPS(q, p, t)
			store(t, 4*r+1, disp)
			t = YMM()
			VSUBPS(q, p, t)
			store(t, 4*r+2, disp)
			t = YMM()
			VXORPS(sign, q, t)
			store(t, 4*r+3, disp)
		}
	}
	Label("wd_loop")
	TESTQ(n, n)
	JZ(LabelRef("wd_done"))
	group(runs[0], runs[1], 0)
	group(runs[2], runs[3], 32)
	for _, p := range runs {
		ADDQ(ps, p)
	}
	ADDQ(vcb, vb)
	DECQ(n)
	JMP(LabelRef("wd_loop"))
	Label("wd_done")
	VZEROUPPER()
	RET()
}

// xiMem addresses element xi (0..15, xi = 4r+c) of a Winograd transform
// buffer whose elements lie s bytes apart from base (s3 = 3s), plus disp:
// base + 4r*s (a LEAQ into a fresh register for r > 0) indexed by c*s.
func xiMem(base, s, s3 Register, xi, disp int) Mem {
	r, c := xi/4, xi%4
	q := base
	if r > 0 {
		q = GP64()
		switch r {
		case 1:
			LEAQ(Mem{Base: base, Index: s, Scale: 4}, q)
		case 2:
			LEAQ(Mem{Base: base, Index: s, Scale: 8}, q)
		case 3:
			LEAQ(Mem{Base: base, Index: s3, Scale: 4}, q)
		}
	}
	switch c {
	case 1:
		return Mem{Base: q, Index: s, Scale: 1, Disp: disp}
	case 2:
		return Mem{Base: q, Index: s, Scale: 2, Disp: disp}
	case 3:
		return Mem{Base: q, Index: s3, Scale: 1, Disp: disp}
	}
	return Mem{Base: q, Disp: disp}
}
