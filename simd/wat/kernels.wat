;; kernels.wat: the float32 kernels of package simd in WebAssembly SIMD128,
;; for the browser build (GOOS=js GOARCH=wasm). Go declares each export with
;; //go:wasmimport cdpkernels <name> (simd/kernels_wasm.go); www/kernels.js
;; instantiates this module on the Go instance's own memory and forwards the
;; Go module's imports to it.
;;
;; Pointers are byte addresses in the Go memory, lengths count float32s. The
;; kernels check nothing: the Go wrappers check every bound before a call.
;;
;; This file is the SIMD128 build as it stands. scripts/wasm-kernels.sh derives
;; the relaxed build from it: every multiply-add written as
;;     A B f32x4.mul ;;fma  C f32x4.add ;;fma      (A*B + C)
;; becomes A B C f32x4.relaxed_madd (fused where the engine can), and the
;; level becomes 2. Everything else is shared by both builds.
(module
  (import "env" "memory" (memory 0))

  ;; level reports the build: 1 for SIMD128, 2 for relaxed SIMD (the stub
  ;; that www/kernels.js supplies without SIMD reports 0).
  (func (export "level") (result i32)
    i32.const 1 ;;level
  )

  ;; hsum adds the four lanes of v: (v0+v2) + (v1+v3).
  (func $hsum (param $v v128) (result f32)
    (local $w v128)
    (local.set $w (f32x4.add (local.get $v)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
    (f32.add (f32x4.extract_lane 0 (local.get $w)) (f32x4.extract_lane 1 (local.get $w)))
  )

  ;; dot returns sum_i x[i]*y[i], i < n.
  (func (export "dot") (param $x i32) (param $y i32) (param $n i32) (result f32)
    (local $s0 v128) (local $s1 v128) (local $end i32) (local $s f32)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done8 (loop $l8
      (br_if $done8 (i32.ge_u (local.get $x) (local.get $end)))
      (v128.load (local.get $x)) (v128.load (local.get $y)) f32x4.mul ;;fma
      (local.get $s0) f32x4.add ;;fma
      (local.set $s0)
      (v128.load offset=16 (local.get $x)) (v128.load offset=16 (local.get $y)) f32x4.mul ;;fma
      (local.get $s1) f32x4.add ;;fma
      (local.set $s1)
      (local.set $x (i32.add (local.get $x) (i32.const 32)))
      (local.set $y (i32.add (local.get $y) (i32.const 32)))
      (br $l8)))
    (local.set $s (call $hsum (f32x4.add (local.get $s0) (local.get $s1))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x)) (f32.load (local.get $y)))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (br $l)))
    (local.get $s)
  )

  ;; sum_squares returns sum_i x[i]*x[i], i < n.
  (func (export "sum_squares") (param $x i32) (param $n i32) (result f32)
    (local $s0 v128) (local $s1 v128) (local $v v128) (local $end i32) (local $s f32)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done8 (loop $l8
      (br_if $done8 (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (local.get $v) (local.get $v) f32x4.mul ;;fma
      (local.get $s0) f32x4.add ;;fma
      (local.set $s0)
      (local.set $v (v128.load offset=16 (local.get $x)))
      (local.get $v) (local.get $v) f32x4.mul ;;fma
      (local.get $s1) f32x4.add ;;fma
      (local.set $s1)
      (local.set $x (i32.add (local.get $x) (i32.const 32)))
      (br $l8)))
    (local.set $s (call $hsum (f32x4.add (local.get $s0) (local.get $s1))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x)) (f32.load (local.get $x)))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br $l)))
    (local.get $s)
  )

  ;; max returns the largest x[i], i < n; NaN if any x[i] is NaN; -Inf if n = 0.
  (func (export "max") (param $x i32) (param $n i32) (result f32)
    (local $m v128) (local $end i32) (local $s f32)
    (local.set $m (f32x4.splat (f32.const -inf)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $m (f32x4.max (local.get $m) (v128.load (local.get $x))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br $l4)))
    (local.set $s (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
      (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $s (f32.max (local.get $s) (f32.load (local.get $x))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br $l)))
    (local.get $s)
  )

  ;; axpy sets y[i] += alpha*x[i], i < n.
  (func (export "axpy") (param $alpha f32) (param $x i32) (param $y i32) (param $n i32)
    (local $a v128) (local $end i32)
    (local.set $a (f32x4.splat (local.get $alpha)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $x) (local.get $end)))
      (local.get $y)
      (local.get $a) (v128.load (local.get $x)) f32x4.mul ;;fma
      (v128.load (local.get $y)) f32x4.add ;;fma
      (v128.store)
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l4)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      ;; the tail goes through lane 0 so that it rounds like the vector body
      (local.get $y)
      (local.get $a) (v128.load32_zero (local.get $x)) f32x4.mul ;;fma
      (v128.load32_zero (local.get $y)) f32x4.add ;;fma
      (v128.store32_lane 0)
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (br $l)))
  )

  ;; scale sets x[i] *= alpha, i < n.
  (func (export "scale") (param $alpha f32) (param $x i32) (param $n i32)
    (local $a v128) (local $end i32)
    (local.set $a (f32x4.splat (local.get $alpha)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $x) (local.get $end)))
      (v128.store (local.get $x) (f32x4.mul (v128.load (local.get $x)) (local.get $a)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br $l4)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (f32.store (local.get $x) (f32.mul (f32.load (local.get $x)) (local.get $alpha)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br $l)))
  )

  ;; add sets dst[i] = x[i] + y[i], i < n.
  (func (export "add") (param $dst i32) (param $x i32) (param $y i32) (param $n i32)
    (local $i i32) (local $end4 i32) (local $end i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
      (v128.store (i32.add (local.get $dst) (local.get $i))
        (f32x4.add (v128.load (i32.add (local.get $x) (local.get $i))) (v128.load (i32.add (local.get $y) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (f32.store (i32.add (local.get $dst) (local.get $i))
        (f32.add (f32.load (i32.add (local.get $x) (local.get $i))) (f32.load (i32.add (local.get $y) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
  )

  ;; mul sets dst[i] = x[i] * y[i], i < n.
  (func (export "mul") (param $dst i32) (param $x i32) (param $y i32) (param $n i32)
    (local $i i32) (local $end4 i32) (local $end i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
      (v128.store (i32.add (local.get $dst) (local.get $i))
        (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $i))) (v128.load (i32.add (local.get $y) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (f32.store (i32.add (local.get $dst) (local.get $i))
        (f32.mul (f32.load (i32.add (local.get $x) (local.get $i))) (f32.load (i32.add (local.get $y) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
  )

  ;; step4 is one vector of the reverse step: (b*eps + a*x) + c*z, with
  ;; eps, x, z the vectors at byte offset i.
  (func $step4 (param $x i32) (param $eps i32) (param $z i32) (param $i i32)
      (param $a v128) (param $b v128) (param $c v128) (result v128)
    (local $t v128)
    (local.get $b) (v128.load (i32.add (local.get $eps) (local.get $i))) f32x4.mul ;;fma
    (f32x4.mul (local.get $a) (v128.load (i32.add (local.get $x) (local.get $i)))) f32x4.add ;;fma
    (local.set $t)
    (local.get $c) (v128.load (i32.add (local.get $z) (local.get $i))) f32x4.mul ;;fma
    (local.get $t) f32x4.add ;;fma
  )

  ;; reverse_step sets out[i] = a*x[i] + b*eps[i] + c*z[i], i < n, summed in
  ;; that order. out may alias x.
  (func (export "reverse_step") (param $out i32) (param $x i32) (param $eps i32) (param $z i32)
      (param $n i32) (param $af f32) (param $bf f32) (param $cf f32)
    (local $a v128) (local $b v128) (local $c v128) (local $i i32) (local $end4 i32) (local $end i32)
    (local.set $a (f32x4.splat (local.get $af)))
    (local.set $b (f32x4.splat (local.get $bf)))
    (local.set $c (f32x4.splat (local.get $cf)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
      (v128.store (i32.add (local.get $out) (local.get $i))
        (call $step4 (local.get $x) (local.get $eps) (local.get $z) (local.get $i) (local.get $a) (local.get $b) (local.get $c)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      ;; one element in lane 0, rounded as in the body
      (v128.store32_lane 0 (i32.add (local.get $out) (local.get $i))
        (call $step4 (local.get $x) (local.get $eps) (local.get $z) (local.get $i) (local.get $a) (local.get $b) (local.get $c)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
  )

  ;; reverse_step_guided sets out[i] = a*x[i] + b*eps[i] + c*z[i] + d*g[i],
  ;; i < n, summed in that order. out may alias x.
  (func (export "reverse_step_guided") (param $out i32) (param $x i32) (param $eps i32) (param $z i32)
      (param $g i32) (param $n i32) (param $af f32) (param $bf f32) (param $cf f32) (param $df f32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $t v128)
    (local $i i32) (local $end4 i32) (local $end i32)
    (local.set $a (f32x4.splat (local.get $af)))
    (local.set $b (f32x4.splat (local.get $bf)))
    (local.set $c (f32x4.splat (local.get $cf)))
    (local.set $d (f32x4.splat (local.get $df)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
      (local.set $t (call $step4 (local.get $x) (local.get $eps) (local.get $z) (local.get $i) (local.get $a) (local.get $b) (local.get $c)))
      (i32.add (local.get $out) (local.get $i))
      (local.get $d) (v128.load (i32.add (local.get $g) (local.get $i))) f32x4.mul ;;fma
      (local.get $t) f32x4.add ;;fma
      (v128.store)
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $t (call $step4 (local.get $x) (local.get $eps) (local.get $z) (local.get $i) (local.get $a) (local.get $b) (local.get $c)))
      (i32.add (local.get $out) (local.get $i))
      (local.get $d) (v128.load (i32.add (local.get $g) (local.get $i))) f32x4.mul ;;fma
      (local.get $t) f32x4.add ;;fma
      (v128.store32_lane 0)
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
  )

  ;; exp4 returns exp(d) lane by lane: d = k*ln2 + r with k = round(d/ln2),
  ;; |r| <= ln2/2 (Cody-Waite, ln2 in two parts), exp(r) by its Taylor
  ;; polynomial of degree 7 (truncation below 2^-27), and 2^k applied as
  ;; 2^(k>>1) * 2^(k-(k>>1)) so that both factors are normal numbers: overflow
  ;; gives +Inf and results below 2^-126 are rounded once, to a subnormal or 0.
  ;; d is clamped to [-104, 89] first (exp(-104) < 2^-150, exp(89) > MaxFloat32);
  ;; NaN stays NaN. Every multiply and add is rounded separately (no fma), in
  ;; both builds.
  (func $exp4 (param $d v128) (result v128)
    (local $k v128) (local $ki v128) (local $k1 v128) (local $r v128) (local $p v128)
    (local.set $d (f32x4.min (f32x4.max (local.get $d) (f32x4.splat (f32.const -104))) (f32x4.splat (f32.const 89))))
    (local.set $k (f32x4.nearest (f32x4.mul (local.get $d) (f32x4.splat (f32.const 0x1.715476p+0)))))
    (local.set $r (f32x4.sub (local.get $d) (f32x4.mul (local.get $k) (f32x4.splat (f32.const 0x1.63p-1)))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (f32x4.splat (f32.const -0x1.bd0106p-13)))))
    (local.set $p (f32x4.splat (f32.const 0x1.a01a02p-13))) ;; 1/5040
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0x1.6c16c2p-10)))) ;; 1/720
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0x1.111112p-7)))) ;; 1/120
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0x1.555556p-5)))) ;; 1/24
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0x1.555556p-3)))) ;; 1/6
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0.5))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1))))
    (local.set $ki (i32x4.trunc_sat_f32x4_s (local.get $k)))
    (local.set $k1 (i32x4.shr_s (local.get $ki) (i32.const 1)))
    (local.set $p (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (local.get $k1) (i32x4.splat (i32.const 127))) (i32.const 23))))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.sub (local.get $ki) (local.get $k1)) (i32x4.splat (i32.const 127))) (i32.const 23)))
  )

  ;; exp_sub_sum sets x[i] = exp(x[i] - shift), i < n, and returns their sum.
  (func (export "exp_sub_sum") (param $x i32) (param $n i32) (param $shift f32) (result f32)
    (local $sh v128) (local $e v128) (local $sum v128) (local $end i32) (local $s f32)
    (local.set $sh (f32x4.splat (local.get $shift)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $e (call $exp4 (f32x4.sub (v128.load (local.get $x)) (local.get $sh))))
      (v128.store (local.get $x) (local.get $e))
      (local.set $sum (f32x4.add (local.get $sum) (local.get $e)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br $l4)))
    (local.set $s (call $hsum (local.get $sum)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $e (call $exp4 (f32x4.splat (f32.sub (f32.load (local.get $x)) (local.get $shift)))))
      (v128.store32_lane 0 (local.get $x) (local.get $e))
      (local.set $s (f32.add (local.get $s) (f32x4.extract_lane 0 (local.get $e))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br $l)))
    (local.get $s)
  )

  ;; gemm_4x8 is the sgemm micro-kernel (mr = 4, nr = 8): it adds the product of a
  ;; packed 4-row panel of A (a[p*4+i]) and a packed 8-column panel of B
  ;; (b[p*8+j]), p < kc, to the 4 x 8 tile of C at c with row stride ldc
  ;; (in floats). The tile's sums stay in registers and are added to C once.
  (func $gemm_4x8 (export "gemm_4x8") (param $kc i32) (param $a i32) (param $b i32) (param $c i32) (param $ldc i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $ai v128) (local $end i32) (local $row i32)
    (local.set $end (i32.add (local.get $a) (i32.mul (local.get $kc) (i32.const 16))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $ai (v128.load32_splat offset=0 (local.get $a)))
      (local.get $ai) (local.get $b0) f32x4.mul ;;fma
      (local.get $c00) f32x4.add ;;fma
      (local.set $c00)
      (local.get $ai) (local.get $b1) f32x4.mul ;;fma
      (local.get $c01) f32x4.add ;;fma
      (local.set $c01)
      (local.set $ai (v128.load32_splat offset=4 (local.get $a)))
      (local.get $ai) (local.get $b0) f32x4.mul ;;fma
      (local.get $c10) f32x4.add ;;fma
      (local.set $c10)
      (local.get $ai) (local.get $b1) f32x4.mul ;;fma
      (local.get $c11) f32x4.add ;;fma
      (local.set $c11)
      (local.set $ai (v128.load32_splat offset=8 (local.get $a)))
      (local.get $ai) (local.get $b0) f32x4.mul ;;fma
      (local.get $c20) f32x4.add ;;fma
      (local.set $c20)
      (local.get $ai) (local.get $b1) f32x4.mul ;;fma
      (local.get $c21) f32x4.add ;;fma
      (local.set $c21)
      (local.set $ai (v128.load32_splat offset=12 (local.get $a)))
      (local.get $ai) (local.get $b0) f32x4.mul ;;fma
      (local.get $c30) f32x4.add ;;fma
      (local.set $c30)
      (local.get $ai) (local.get $b1) f32x4.mul ;;fma
      (local.get $c31) f32x4.add ;;fma
      (local.set $c31)
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 32)))
      (br $l)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $row (local.get $c))
    (v128.store (local.get $row) (f32x4.add (v128.load (local.get $row)) (local.get $c00)))
    (v128.store offset=16 (local.get $row) (f32x4.add (v128.load offset=16 (local.get $row)) (local.get $c01)))
    (local.set $row (i32.add (local.get $row) (local.get $ldc)))
    (v128.store (local.get $row) (f32x4.add (v128.load (local.get $row)) (local.get $c10)))
    (v128.store offset=16 (local.get $row) (f32x4.add (v128.load offset=16 (local.get $row)) (local.get $c11)))
    (local.set $row (i32.add (local.get $row) (local.get $ldc)))
    (v128.store (local.get $row) (f32x4.add (v128.load (local.get $row)) (local.get $c20)))
    (v128.store offset=16 (local.get $row) (f32x4.add (v128.load offset=16 (local.get $row)) (local.get $c21)))
    (local.set $row (i32.add (local.get $row) (local.get $ldc)))
    (v128.store (local.get $row) (f32x4.add (v128.load (local.get $row)) (local.get $c30)))
    (v128.store offset=16 (local.get $row) (f32x4.add (v128.load offset=16 (local.get $row)) (local.get $c31)))
  )

  ;; gemm_block_4x8 runs gemm_4x8 over every tile of an m x n block of C (m a
  ;; multiple of 4, n of 8), the loops of a packed sgemm driver around its
  ;; micro-kernel: a holds m/4 packed A panels of 4*kc floats, b holds n/8
  ;; packed B panels of 8*kc floats, c is the block's top-left element with row
  ;; stride ldc (floats). Column panels outer, row panels inner, as in the Go
  ;; driver, so every element of C is computed exactly as tile by tile.
  (func (export "gemm_block_4x8") (param $kc i32) (param $a i32) (param $b i32) (param $c i32)
      (param $ldc i32) (param $m i32) (param $n i32)
    (local $jr i32) (local $ir i32) (local $ap i32) (local $cp i32) (local $astep i32) (local $cstep i32)
    (local.set $astep (i32.shl (local.get $kc) (i32.const 4)))  ;; 4*kc floats
    (local.set $cstep (i32.shl (local.get $ldc) (i32.const 4))) ;; 4 rows
    (block $donej (loop $lj
      (br_if $donej (i32.ge_u (local.get $jr) (local.get $n)))
      (local.set $ap (local.get $a))
      (local.set $cp (i32.add (local.get $c) (i32.shl (local.get $jr) (i32.const 2))))
      (local.set $ir (i32.const 0))
      (block $donei (loop $li
        (br_if $donei (i32.ge_u (local.get $ir) (local.get $m)))
        (call $gemm_4x8 (local.get $kc) (local.get $ap) (local.get $b) (local.get $cp) (local.get $ldc))
        (local.set $ap (i32.add (local.get $ap) (local.get $astep)))
        (local.set $cp (i32.add (local.get $cp) (local.get $cstep)))
        (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
        (br $li)))
      (local.set $b (i32.add (local.get $b) (i32.shl (local.get $kc) (i32.const 5)))) ;; 8*kc floats
      (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
      (br $lj)))
  )

  ;; transpose4 stores the 4x4 transpose of the rows r0..r3, times alpha, as
  ;; four vectors at dst: dst[4p+i] = alpha*r_i[p].
  (func $transpose4 (param $dst i32) (param $r0 v128) (param $r1 v128) (param $r2 v128) (param $r3 v128) (param $al v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
    (v128.store (local.get $dst) (f32x4.mul (local.get $al) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2))))
    (v128.store offset=16 (local.get $dst) (f32x4.mul (local.get $al) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2))))
    (v128.store offset=32 (local.get $dst) (f32x4.mul (local.get $al) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3))))
    (v128.store offset=48 (local.get $dst) (f32x4.mul (local.get $al) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3))))
  )

  ;; pack_a_4 packs alpha times 4 rows of row-major A (row stride lda floats)
  ;; into one panel of the sgemm driver: dst[4p+i] = alpha*a[i*lda+p], p < kc.
  (func (export "pack_a_4") (param $dst i32) (param $a i32) (param $lda i32) (param $kc i32) (param $alpha f32)
    (local $al v128) (local $p i32) (local $kc4 i32) (local $i i32) (local $src i32)
    (local.set $al (f32x4.splat (local.get $alpha)))
    (local.set $lda (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $kc4 (i32.and (local.get $kc) (i32.const -4)))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $p) (local.get $kc4)))
      (local.set $src (i32.add (local.get $a) (i32.shl (local.get $p) (i32.const 2))))
      (call $transpose4 (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 4)))
        (v128.load (local.get $src))
        (v128.load (i32.add (local.get $src) (local.get $lda)))
        (v128.load (i32.add (local.get $src) (i32.shl (local.get $lda) (i32.const 1))))
        (v128.load (i32.add (local.get $src) (i32.mul (local.get $lda) (i32.const 3))))
        (local.get $al))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (local.get $kc)))
      (local.set $src (i32.add (local.get $a) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $donei (loop $li
        (br_if $donei (i32.ge_u (local.get $i) (i32.const 4)))
        (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.shl (local.get $p) (i32.const 2)) (local.get $i)) (i32.const 2)))
          (f32.mul (local.get $alpha) (f32.load (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $lda))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $li)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
  )

  ;; pack_a_4t packs alpha times 4 columns of A (4 contiguous floats of each
  ;; of kc rows, row stride lda): dst[4p+i] = alpha*a[p*lda+i], p < kc.
  (func (export "pack_a_4t") (param $dst i32) (param $a i32) (param $lda i32) (param $kc i32) (param $alpha f32)
    (local $al v128) (local $end i32)
    (local.set $al (f32x4.splat (local.get $alpha)))
    (local.set $lda (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 4))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (v128.store (local.get $dst) (f32x4.mul (local.get $al) (v128.load (local.get $a))))
      (local.set $a (i32.add (local.get $a) (local.get $lda)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $l)))
  )

  ;; pack_b_8 packs 8 columns of row-major B (row stride ldb floats) into one
  ;; panel: dst[8p+j] = b[p*ldb+j], p < kc.
  (func (export "pack_b_8") (param $dst i32) (param $b i32) (param $ldb i32) (param $kc i32)
    (local $end i32)
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 5))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (v128.store (local.get $dst) (v128.load (local.get $b)))
      (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $b)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
      (br $l)))
  )

  ;; pack_b_8t packs 8 rows of B (the columns of op(B) = B^T, row stride ldb)
  ;; into one panel: dst[8p+j] = b[j*ldb+p], p < kc. It transposes 4x4
  ;; blocks: rows 0-3 fill dst[8p+0..3], rows 4-7 dst[8p+4..7].
  (func (export "pack_b_8t") (param $dst i32) (param $b i32) (param $ldb i32) (param $kc i32)
    (local $p i32) (local $kc4 i32) (local $j i32) (local $src i32) (local $o i32)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $kc4 (i32.and (local.get $kc) (i32.const -4)))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $p) (local.get $kc4)))
      (local.set $j (i32.const 0))
      (block $donej (loop $lj
        (br_if $donej (i32.ge_u (local.get $j) (i32.const 8)))
        (local.set $src (i32.add (i32.add (local.get $b) (i32.shl (local.get $p) (i32.const 2))) (i32.mul (local.get $j) (local.get $ldb))))
        (local.set $r0 (v128.load (local.get $src)))
        (local.set $r1 (v128.load (i32.add (local.get $src) (local.get $ldb))))
        (local.set $r2 (v128.load (i32.add (local.get $src) (i32.shl (local.get $ldb) (i32.const 1)))))
        (local.set $r3 (v128.load (i32.add (local.get $src) (i32.mul (local.get $ldb) (i32.const 3)))))
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
        (local.set $o (i32.add (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 5))) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (v128.store offset=32 (local.get $o) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (v128.store offset=64 (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (v128.store offset=96 (local.get $o) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $lj)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (local.get $kc)))
      (local.set $j (i32.const 0))
      (block $donej (loop $lj
        (br_if $donej (i32.ge_u (local.get $j) (i32.const 8)))
        (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.shl (local.get $p) (i32.const 3)) (local.get $j)) (i32.const 2)))
          (f32.load (i32.add (i32.add (local.get $b) (i32.shl (local.get $p) (i32.const 2))) (i32.mul (local.get $j) (local.get $ldb)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lj)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
  )
)
