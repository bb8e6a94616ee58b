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

  ;; The constants of $exp_loop, as globals: V8 rebuilds a constant vector
  ;; (three instructions) at every use inside a loop, but reads a global with
  ;; one load.
  (global $g_lo v128 (v128.const f32x4 -104 -104 -104 -104))
  (global $g_hi v128 (v128.const f32x4 89 89 89 89))
  (global $g_l2e v128 (v128.const f32x4 0x1.715476p+0 0x1.715476p+0 0x1.715476p+0 0x1.715476p+0))
  (global $g_magic v128 (v128.const f32x4 0x1.8p23 0x1.8p23 0x1.8p23 0x1.8p23))
  (global $g_ln2hi v128 (v128.const f32x4 0x1.63p-1 0x1.63p-1 0x1.63p-1 0x1.63p-1))
  (global $g_ln2lo v128 (v128.const f32x4 -0x1.bd0106p-13 -0x1.bd0106p-13 -0x1.bd0106p-13 -0x1.bd0106p-13))
  (global $g_c7 v128 (v128.const f32x4 0x1.a01a02p-13 0x1.a01a02p-13 0x1.a01a02p-13 0x1.a01a02p-13))
  (global $g_c6 v128 (v128.const f32x4 0x1.6c16c2p-10 0x1.6c16c2p-10 0x1.6c16c2p-10 0x1.6c16c2p-10))
  (global $g_c5 v128 (v128.const f32x4 0x1.111112p-7 0x1.111112p-7 0x1.111112p-7 0x1.111112p-7))
  (global $g_c4 v128 (v128.const f32x4 0x1.555556p-5 0x1.555556p-5 0x1.555556p-5 0x1.555556p-5))
  (global $g_c3 v128 (v128.const f32x4 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3))
  (global $g_c2 v128 (v128.const f32x4 0.5 0.5 0.5 0.5))
  (global $g_one v128 (v128.const f32x4 1 1 1 1))
  (global $g_bias v128 (v128.const i32x4 127 127 127 127))

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
  ;; d is clamped to [-104, 89] first (exp(-104) < 2^-150, exp(89) > MaxFloat32)
  ;; with pmax/pmin, which keep a NaN; NaN stays NaN. k is rounded to the
  ;; nearest integer (ties to even) by adding and subtracting 1.5*2^23, whose
  ;; sum also holds k in its low bits (|k| <= 151). Every multiply and add is
  ;; rounded separately (no fma), in both builds. $exp_loop computes exactly
  ;; this, written out in its loop: change both together.
  (func $exp4 (param $d v128) (result v128)
    (local $t v128) (local $k v128) (local $ki v128) (local $k1 v128) (local $r v128) (local $p v128)
    (local.set $d (f32x4.pmin (f32x4.pmax (local.get $d) (global.get $g_lo)) (global.get $g_hi)))
    (local.set $t (f32x4.add (f32x4.mul (local.get $d) (global.get $g_l2e)) (global.get $g_magic)))
    (local.set $k (f32x4.sub (local.get $t) (global.get $g_magic)))
    (local.set $ki (i32x4.sub (local.get $t) (global.get $g_magic)))
    (local.set $r (f32x4.sub (local.get $d) (f32x4.mul (local.get $k) (global.get $g_ln2hi))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (global.get $g_ln2lo))))
    (local.set $p (global.get $g_c7)) ;; 1/5040
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_c6))) ;; 1/720
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_c5))) ;; 1/120
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_c4))) ;; 1/24
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_c3))) ;; 1/6
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_c2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_one)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_one)))
    (local.set $k1 (i32x4.shr_s (local.get $ki) (i32.const 1)))
    (local.set $p (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (local.get $k1) (global.get $g_bias)) (i32.const 23))))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.sub (local.get $ki) (local.get $k1)) (global.get $g_bias)) (i32.const 23)))
  )

  ;; exp_loop sets dst[i] = exp(a*src[i] - shift), i < n (n a multiple of
  ;; 4; a is 1 or -1, so a*src[i] is exact), with exp exactly as $exp4, and
  ;; returns the lane-wise sums of the results. The body is $exp4 written out
  ;; with its constants in globals: V8 does not inline $exp4, and the
  ;; constants it builds at every call cost more than the arithmetic.
  (func $exp_loop (param $dst i32) (param $src i32) (param $n i32) (param $af f32) (param $shift f32) (result v128)
    (local $a v128) (local $sh v128)
    (local $d v128) (local $t v128) (local $k v128) (local $ki v128) (local $k1 v128) (local $r v128) (local $p v128)
    (local $sum v128) (local $end i32)
    (local.set $a (f32x4.splat (local.get $af)))
    (local.set $sh (f32x4.splat (local.get $shift)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (local.set $d (f32x4.sub (f32x4.mul (local.get $a) (v128.load (local.get $src))) (local.get $sh)))
      (local.set $d (f32x4.pmin (f32x4.pmax (local.get $d) (global.get $g_lo)) (global.get $g_hi)))
      (local.set $t (f32x4.add (f32x4.mul (local.get $d) (global.get $g_l2e)) (global.get $g_magic)))
      (local.set $k (f32x4.sub (local.get $t) (global.get $g_magic)))
      (local.set $ki (i32x4.sub (local.get $t) (global.get $g_magic)))
      (local.set $r (f32x4.sub (local.get $d) (f32x4.mul (local.get $k) (global.get $g_ln2hi))))
      (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (global.get $g_ln2lo))))
      (local.set $p (f32x4.add (f32x4.mul (global.get $g_c7) (local.get $r)) (global.get $g_c6)))
      (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_c5)))
      (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_c4)))
      (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_c3)))
      (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_c2)))
      (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_one)))
      (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $g_one)))
      (local.set $k1 (i32x4.shr_s (local.get $ki) (i32.const 1)))
      (local.set $p (f32x4.mul (local.get $p) (i32x4.shl (i32x4.add (local.get $k1) (global.get $g_bias)) (i32.const 23))))
      (local.set $p (f32x4.mul (local.get $p)
        (i32x4.shl (i32x4.add (i32x4.sub (local.get $ki) (local.get $k1)) (global.get $g_bias)) (i32.const 23))))
      (v128.store (local.get $dst) (local.get $p))
      (local.set $sum (f32x4.add (local.get $sum) (local.get $p)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $l)))
    (local.get $sum)
  )

  ;; exp_sub_sum sets x[i] = exp(x[i] - shift), i < n, and returns their sum.
  (func (export "exp_sub_sum") (param $x i32) (param $n i32) (param $shift f32) (result f32)
    (local $e v128) (local $end i32) (local $s f32)
    (local.set $s (call $hsum (call $exp_loop (local.get $x) (local.get $x)
      (i32.and (local.get $n) (i32.const -4)) (f32.const 1) (local.get $shift))))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $x (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $e (call $exp4 (f32x4.splat (f32.sub (f32.load (local.get $x)) (local.get $shift)))))
      (v128.store32_lane 0 (local.get $x) (local.get $e))
      (local.set $s (f32.add (local.get $s) (f32x4.extract_lane 0 (local.get $e))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br $l)))
    (local.get $s)
  )

  ;; gemm_2x16 is the sgemm micro-kernel (mr = 2, nr = 16): it adds the
  ;; product of a packed 2-row panel of A (a[p*2+i]) and a packed 16-column
  ;; panel of B (b[p*16+j]), p < kc, to the 2 x 16 tile of C at c with row
  ;; stride ldc (in floats), or with store != 0 overwrites the tile with it. The tile's sums stay in registers (8 of them, so
  ;; that V8 keeps the loop free of spills) and are added to C once. Two rows
  ;; and four B vectors per step need one broadcast per 4 multiply-adds, like
  ;; a 4x8 tile, with fewer address computations.
  (func $gemm_2x16 (export "gemm_2x16") (param $kc i32) (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $store i32)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $ai v128) (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 3))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $b2 (v128.load offset=32 (local.get $b)))
      (local.set $b3 (v128.load offset=48 (local.get $b)))
      (local.set $ai (v128.load32_splat (local.get $a)))
      (local.get $ai) (local.get $b0) f32x4.mul ;;fma
      (local.get $c00) f32x4.add ;;fma
      (local.set $c00)
      (local.get $ai) (local.get $b1) f32x4.mul ;;fma
      (local.get $c01) f32x4.add ;;fma
      (local.set $c01)
      (local.get $ai) (local.get $b2) f32x4.mul ;;fma
      (local.get $c02) f32x4.add ;;fma
      (local.set $c02)
      (local.get $ai) (local.get $b3) f32x4.mul ;;fma
      (local.get $c03) f32x4.add ;;fma
      (local.set $c03)
      (local.set $ai (v128.load32_splat offset=4 (local.get $a)))
      (local.get $ai) (local.get $b0) f32x4.mul ;;fma
      (local.get $c10) f32x4.add ;;fma
      (local.set $c10)
      (local.get $ai) (local.get $b1) f32x4.mul ;;fma
      (local.get $c11) f32x4.add ;;fma
      (local.set $c11)
      (local.get $ai) (local.get $b2) f32x4.mul ;;fma
      (local.get $c12) f32x4.add ;;fma
      (local.set $c12)
      (local.get $ai) (local.get $b3) f32x4.mul ;;fma
      (local.get $c13) f32x4.add ;;fma
      (local.set $c13)
      (local.set $a (i32.add (local.get $a) (i32.const 8)))
      (local.set $b (i32.add (local.get $b) (i32.const 64)))
      (br $l)))
    (if (local.get $store)
      (then
        ;; the sums start from +0, so none is -0: storing them equals
        ;; clearing C and adding them, bit for bit
        (v128.store (local.get $c) (local.get $c00))
        (v128.store offset=16 (local.get $c) (local.get $c01))
        (v128.store offset=32 (local.get $c) (local.get $c02))
        (v128.store offset=48 (local.get $c) (local.get $c03))
        (local.set $c (i32.add (local.get $c) (i32.shl (local.get $ldc) (i32.const 2))))
        (v128.store (local.get $c) (local.get $c10))
        (v128.store offset=16 (local.get $c) (local.get $c11))
        (v128.store offset=32 (local.get $c) (local.get $c12))
        (v128.store offset=48 (local.get $c) (local.get $c13))
        (return)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c00)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
    (v128.store offset=32 (local.get $c) (f32x4.add (v128.load offset=32 (local.get $c)) (local.get $c02)))
    (v128.store offset=48 (local.get $c) (f32x4.add (v128.load offset=48 (local.get $c)) (local.get $c03)))
    (local.set $c (i32.add (local.get $c) (i32.shl (local.get $ldc) (i32.const 2))))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c10)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
    (v128.store offset=32 (local.get $c) (f32x4.add (v128.load offset=32 (local.get $c)) (local.get $c12)))
    (v128.store offset=48 (local.get $c) (f32x4.add (v128.load offset=48 (local.get $c)) (local.get $c13)))
  )

  ;; gemm_block_2x16 runs gemm_2x16 over every tile of an m x n block of C
  ;; (m a multiple of 2, n of 16), the loops of a packed sgemm driver around
  ;; its micro-kernel: a holds m/2 packed A panels of 2*kc floats, b holds
  ;; n/16 packed B panels of 16*kc floats, c is the block's top-left element
  ;; with row stride ldc (floats); store as in gemm_2x16. Column panels outer,
  ;; row panels inner, as in the Go driver, so every element of C is computed
  ;; exactly as tile by tile.
  ;; The micro-kernel stays a function of its own: V8 compiles it with its
  ;; optimising tier after its first calls, while a long-running loop in this
  ;; function would keep running in the baseline tier until it returns.
  (func (export "gemm_block_2x16") (param $kc i32) (param $a i32) (param $b i32) (param $c i32)
      (param $ldc i32) (param $m i32) (param $n i32) (param $store i32)
    (local $jr i32) (local $ir i32) (local $ap i32) (local $cp i32) (local $astep i32) (local $cstep i32)
    (local.set $astep (i32.shl (local.get $kc) (i32.const 3)))  ;; 2*kc floats
    (local.set $cstep (i32.shl (local.get $ldc) (i32.const 3))) ;; 2 rows
    (block $donej (loop $lj
      (br_if $donej (i32.ge_u (local.get $jr) (local.get $n)))
      (local.set $ap (local.get $a))
      (local.set $cp (i32.add (local.get $c) (i32.shl (local.get $jr) (i32.const 2))))
      (local.set $ir (i32.const 0))
      (block $donei (loop $li
        (br_if $donei (i32.ge_u (local.get $ir) (local.get $m)))
        (call $gemm_2x16 (local.get $kc) (local.get $ap) (local.get $b) (local.get $cp) (local.get $ldc) (local.get $store))
        (local.set $ap (i32.add (local.get $ap) (local.get $astep)))
        (local.set $cp (i32.add (local.get $cp) (local.get $cstep)))
        (local.set $ir (i32.add (local.get $ir) (i32.const 2)))
        (br $li)))
      (local.set $b (i32.add (local.get $b) (i32.shl (local.get $kc) (i32.const 6)))) ;; 16*kc floats
      (local.set $jr (i32.add (local.get $jr) (i32.const 16)))
      (br $lj)))
  )

  ;; pack_a_2 packs alpha times 2 rows of row-major A (row stride lda floats)
  ;; into one panel of the sgemm driver: dst[2p+i] = alpha*a[i*lda+p], p < kc.
  (func (export "pack_a_2") (param $dst i32) (param $a i32) (param $lda i32) (param $kc i32) (param $alpha f32)
    (local $al v128) (local $r0 v128) (local $r1 v128) (local $a1 i32) (local $end4 i32) (local $end i32)
    (local.set $al (f32x4.splat (local.get $alpha)))
    (local.set $a1 (i32.add (local.get $a) (i32.shl (local.get $lda) (i32.const 2))))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $a) (i32.shl (i32.and (local.get $kc) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $a) (local.get $end4)))
      (local.set $r0 (f32x4.mul (local.get $al) (v128.load (local.get $a))))
      (local.set $r1 (f32x4.mul (local.get $al) (v128.load (local.get $a1))))
      (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
      (v128.store offset=16 (local.get $dst) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $a1 (i32.add (local.get $a1) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
      (br $l4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (f32.store (local.get $dst) (f32.mul (local.get $alpha) (f32.load (local.get $a))))
      (f32.store offset=4 (local.get $dst) (f32.mul (local.get $alpha) (f32.load (local.get $a1))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
      (br $l)))
  )

  ;; pack_a_2t packs alpha times 2 columns of A (2 contiguous floats of each
  ;; of kc rows, row stride lda): dst[2p+i] = alpha*a[p*lda+i], p < kc.
  (func (export "pack_a_2t") (param $dst i32) (param $a i32) (param $lda i32) (param $kc i32) (param $alpha f32)
    (local $al v128) (local $end i32)
    (local.set $al (f32x4.splat (local.get $alpha)))
    (local.set $lda (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 3))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (v128.store64_lane 0 (local.get $dst) (f32x4.mul (local.get $al) (v128.load64_zero (local.get $a))))
      (local.set $a (i32.add (local.get $a) (local.get $lda)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
      (br $l)))
  )

  ;; pack_b_16 packs 16 columns of row-major B (row stride ldb floats) into
  ;; one panel: dst[16p+j] = b[p*ldb+j], p < kc.
  (func (export "pack_b_16") (param $dst i32) (param $b i32) (param $ldb i32) (param $kc i32)
    (local $end i32)
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 6))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (v128.store (local.get $dst) (v128.load (local.get $b)))
      (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $b)))
      (v128.store offset=32 (local.get $dst) (v128.load offset=32 (local.get $b)))
      (v128.store offset=48 (local.get $dst) (v128.load offset=48 (local.get $b)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
      (br $l)))
  )

  ;; pack_b_16t packs 16 rows of B (the columns of op(B) = B^T, row stride
  ;; ldb) into one panel: dst[16p+j] = b[j*ldb+p], p < kc. It transposes 4x4
  ;; blocks: rows 4q..4q+3 fill dst[16p+4q..4q+3].
  (func (export "pack_b_16t") (param $dst i32) (param $b i32) (param $ldb i32) (param $kc i32)
    (local $p i32) (local $kc4 i32) (local $j i32) (local $src i32) (local $o i32)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $kc4 (i32.and (local.get $kc) (i32.const -4)))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $p) (local.get $kc4)))
      (local.set $j (i32.const 0))
      (block $donej (loop $lj
        (br_if $donej (i32.ge_u (local.get $j) (i32.const 16)))
        (local.set $src (i32.add (i32.add (local.get $b) (i32.shl (local.get $p) (i32.const 2))) (i32.mul (local.get $j) (local.get $ldb))))
        (local.set $r0 (v128.load (local.get $src)))
        (local.set $r1 (v128.load (i32.add (local.get $src) (local.get $ldb))))
        (local.set $r2 (v128.load (i32.add (local.get $src) (i32.shl (local.get $ldb) (i32.const 1)))))
        (local.set $r3 (v128.load (i32.add (local.get $src) (i32.mul (local.get $ldb) (i32.const 3)))))
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
        (local.set $o (i32.add (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 6))) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (v128.store offset=64 (local.get $o) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (v128.store offset=128 (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (v128.store offset=192 (local.get $o) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $lj)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (local.get $kc)))
      (local.set $j (i32.const 0))
      (block $donej (loop $lj
        (br_if $donej (i32.ge_u (local.get $j) (i32.const 16)))
        (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.shl (local.get $p) (i32.const 4)) (local.get $j)) (i32.const 2)))
          (f32.load (i32.add (i32.add (local.get $b) (i32.shl (local.get $p) (i32.const 2))) (i32.mul (local.get $j) (local.get $ldb)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lj)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
  )

  ;; gemm_4x8 is the micro-kernel of plain sgemm (simd.Sgemm; mr = 4,
  ;; nr = 8): it adds the product of a packed 4-row panel of A (a[p*4+i])
  ;; and a packed 8-column panel of B (b[p*8+j]), p < kc, to the 4 x 8 tile
  ;; of C at c with row stride ldc (floats), or with store != 0 overwrites the
  ;; tile with it. As in gemm_2x16 the sums (8 vectors of 4) stay in registers
  ;; and are added to C once, in the order of the generic loop (p ascending).
  ;;
  ;; The loop does two steps of p per pass, the second behind its own exit
  ;; test (kc may be odd). The test is what makes the unrolled loop pay: V8
  ;; issues the loads of a straight-line block before its arithmetic, so two
  ;; steps in one block hold 4 B vectors and 8 broadcasts at once and spill;
  ;; a branch between them keeps each step's 6 loads next to its own 16
  ;; multiplies and adds (15 xmm registers, no spills), and the pass pays
  ;; the loop's fixed cost (pointer updates, V8's stack check) once for two
  ;; steps. Measured in node 20 on the kernel alone (kc = 256, data in L1),
  ;; as a fraction of the same run's multiply-add peak: 0.81 here against
  ;; 0.66 for gemm_2x16 (0.55 for this tile unrolled without the test). With
  ;; relaxed_madd both reach the peak of separate multiplies and adds.
  (func $gemm_4x8 (export "gemm_4x8") (param $kc i32) (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $store i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $ai v128) (local $end i32) (local $end1 i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 4))))
    (local.set $end1 (i32.sub (local.get $end) (i32.const 16))) ;; a < end1: step p+1 exists
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (local.set $b0 (v128.load offset=0 (local.get $b)))
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
      ;; the second step, in a block of its own (see above)
      (br_if $done (i32.ge_u (local.get $a) (local.get $end1)))
      (local.set $b0 (v128.load offset=32 (local.get $b)))
      (local.set $b1 (v128.load offset=48 (local.get $b)))
      (local.set $ai (v128.load32_splat offset=16 (local.get $a)))
      (local.get $ai) (local.get $b0) f32x4.mul ;;fma
      (local.get $c00) f32x4.add ;;fma
      (local.set $c00)
      (local.get $ai) (local.get $b1) f32x4.mul ;;fma
      (local.get $c01) f32x4.add ;;fma
      (local.set $c01)
      (local.set $ai (v128.load32_splat offset=20 (local.get $a)))
      (local.get $ai) (local.get $b0) f32x4.mul ;;fma
      (local.get $c10) f32x4.add ;;fma
      (local.set $c10)
      (local.get $ai) (local.get $b1) f32x4.mul ;;fma
      (local.get $c11) f32x4.add ;;fma
      (local.set $c11)
      (local.set $ai (v128.load32_splat offset=24 (local.get $a)))
      (local.get $ai) (local.get $b0) f32x4.mul ;;fma
      (local.get $c20) f32x4.add ;;fma
      (local.set $c20)
      (local.get $ai) (local.get $b1) f32x4.mul ;;fma
      (local.get $c21) f32x4.add ;;fma
      (local.set $c21)
      (local.set $ai (v128.load32_splat offset=28 (local.get $a)))
      (local.get $ai) (local.get $b0) f32x4.mul ;;fma
      (local.get $c30) f32x4.add ;;fma
      (local.set $c30)
      (local.get $ai) (local.get $b1) f32x4.mul ;;fma
      (local.get $c31) f32x4.add ;;fma
      (local.set $c31)
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (local.set $b (i32.add (local.get $b) (i32.const 64)))
      (br $l)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (if (local.get $store)
      (then
        ;; the sums start from +0, so none is -0: storing them equals
        ;; clearing C and adding them, bit for bit
        (v128.store (local.get $c) (local.get $c00))
        (v128.store offset=16 (local.get $c) (local.get $c01))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store (local.get $c) (local.get $c10))
        (v128.store offset=16 (local.get $c) (local.get $c11))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store (local.get $c) (local.get $c20))
        (v128.store offset=16 (local.get $c) (local.get $c21))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store (local.get $c) (local.get $c30))
        (v128.store offset=16 (local.get $c) (local.get $c31))
        (return)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c00)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c10)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c20)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c21)))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c30)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c31)))
  )

  ;; gemm_block_4x8 runs gemm_4x8 over every tile of an m x n block of C (m
  ;; a multiple of 4, n of 8), as gemm_block_2x16 does for its tile: a holds
  ;; m/4 packed A panels of 4*kc floats, b holds n/8 packed B panels of 8*kc
  ;; floats, column panels outer and row panels inner.
  (func (export "gemm_block_4x8") (param $kc i32) (param $a i32) (param $b i32) (param $c i32)
      (param $ldc i32) (param $m i32) (param $n i32) (param $store i32)
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
        (call $gemm_4x8 (local.get $kc) (local.get $ap) (local.get $b) (local.get $cp) (local.get $ldc) (local.get $store))
        (local.set $ap (i32.add (local.get $ap) (local.get $astep)))
        (local.set $cp (i32.add (local.get $cp) (local.get $cstep)))
        (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
        (br $li)))
      (local.set $b (i32.add (local.get $b) (i32.shl (local.get $kc) (i32.const 5)))) ;; 8*kc floats
      (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
      (br $lj)))
  )

  ;; pack_a_4 packs alpha times 4 rows of row-major A (row stride lda floats)
  ;; into one panel of gemm_4x8: dst[4p+i] = alpha*a[i*lda+p], p < kc. Four
  ;; columns at a time are a 4x4 transpose.
  (func (export "pack_a_4") (param $dst i32) (param $a i32) (param $lda i32) (param $kc i32) (param $alpha f32)
    (local $al v128) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $end4 i32) (local $end i32)
    (local.set $al (f32x4.splat (local.get $alpha)))
    (local.set $lda (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $a1 (i32.add (local.get $a) (local.get $lda)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $lda)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $lda)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $a) (i32.shl (i32.and (local.get $kc) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $a) (local.get $end4)))
      (local.set $r0 (f32x4.mul (local.get $al) (v128.load (local.get $a))))
      (local.set $r1 (f32x4.mul (local.get $al) (v128.load (local.get $a1))))
      (local.set $r2 (f32x4.mul (local.get $al) (v128.load (local.get $a2))))
      (local.set $r3 (f32x4.mul (local.get $al) (v128.load (local.get $a3))))
      (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
      (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
      (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
      (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
      (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
      (v128.store offset=16 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
      (v128.store offset=32 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
      (v128.store offset=48 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $a1 (i32.add (local.get $a1) (i32.const 16)))
      (local.set $a2 (i32.add (local.get $a2) (i32.const 16)))
      (local.set $a3 (i32.add (local.get $a3) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
      (br $l4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (f32.store (local.get $dst) (f32.mul (local.get $alpha) (f32.load (local.get $a))))
      (f32.store offset=4 (local.get $dst) (f32.mul (local.get $alpha) (f32.load (local.get $a1))))
      (f32.store offset=8 (local.get $dst) (f32.mul (local.get $alpha) (f32.load (local.get $a2))))
      (f32.store offset=12 (local.get $dst) (f32.mul (local.get $alpha) (f32.load (local.get $a3))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
      (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
      (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
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
  ;; panel of gemm_4x8: dst[8p+j] = b[p*ldb+j], p < kc.
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
  ;; into one panel of gemm_4x8: dst[8p+j] = b[j*ldb+p], p < kc, transposing
  ;; 4x4 blocks as pack_b_16t does.
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

  ;; gather16 copies n rows of 16 floats: dst[16p+l] = src[base+offs[p]+l],
  ;; p < n (offs holds int32 offsets in floats). It packs the panels of a
  ;; convolution product straight from a padded image (simd.GatherRows).
  (func (export "gather16") (param $dst i32) (param $src i32) (param $offs i32) (param $n i32) (param $base i32)
    (local $end i32) (local $s i32)
    (local.set $src (i32.add (local.get $src) (i32.shl (local.get $base) (i32.const 2))))
    (local.set $end (i32.add (local.get $offs) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $offs) (local.get $end)))
      (local.set $s (i32.add (local.get $src) (i32.shl (i32.load (local.get $offs)) (i32.const 2))))
      (v128.store (local.get $dst) (v128.load (local.get $s)))
      (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $s)))
      (v128.store offset=32 (local.get $dst) (v128.load offset=32 (local.get $s)))
      (v128.store offset=48 (local.get $dst) (v128.load offset=48 (local.get $s)))
      (local.set $offs (i32.add (local.get $offs) (i32.const 4)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
      (br $l)))
  )

  ;; offs_range returns the smallest and the largest of offs[i], i < n
  ;; (int32, n >= 1), as min | max<<32: the Go side of gather16 checks its rows
  ;; against src with them before any row is copied.
  (func (export "offs_range") (param $offs i32) (param $n i32) (result i64)
    (local $lo v128) (local $hi v128) (local $end i32) (local $mn i32) (local $mx i32) (local $v i32)
    (local.set $lo (i32x4.splat (i32.load (local.get $offs))))
    (local.set $hi (local.get $lo))
    (local.set $end (i32.add (local.get $offs) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $offs) (local.get $end)))
      (local.set $lo (i32x4.min_s (local.get $lo) (v128.load (local.get $offs))))
      (local.set $hi (i32x4.max_s (local.get $hi) (v128.load (local.get $offs))))
      (local.set $offs (i32.add (local.get $offs) (i32.const 16)))
      (br $l4)))
    (local.set $lo (i32x4.min_s (local.get $lo) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $lo) (local.get $lo))))
    (local.set $hi (i32x4.max_s (local.get $hi) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $hi) (local.get $hi))))
    (local.set $mn (select (i32x4.extract_lane 0 (local.get $lo)) (i32x4.extract_lane 1 (local.get $lo))
      (i32.lt_s (i32x4.extract_lane 0 (local.get $lo)) (i32x4.extract_lane 1 (local.get $lo)))))
    (local.set $mx (select (i32x4.extract_lane 0 (local.get $hi)) (i32x4.extract_lane 1 (local.get $hi))
      (i32.gt_s (i32x4.extract_lane 0 (local.get $hi)) (i32x4.extract_lane 1 (local.get $hi)))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $offs) (local.get $end)))
      (local.set $v (i32.load (local.get $offs)))
      (local.set $mn (select (local.get $v) (local.get $mn) (i32.lt_s (local.get $v) (local.get $mn))))
      (local.set $mx (select (local.get $v) (local.get $mx) (i32.gt_s (local.get $v) (local.get $mx))))
      (local.set $offs (i32.add (local.get $offs) (i32.const 4)))
      (br $l)))
    (i64.or (i64.shl (i64.extend_i32_s (local.get $mx)) (i64.const 32)) (i64.extend_i32_u (local.get $mn)))
  )

  ;; silu sets s[i] = 1/(1+exp(-x[i])) and y[i] = x[i]*s[i], i < n, n a
  ;; multiple of 4 (simd.SiLU does the rest), exactly as the loop over
  ;; exp_sub_sum(-x, 0) that it replaces: s = exp(-x) first, then the
  ;; division and the product, each rounded once.
  (func (export "silu") (param $y i32) (param $s i32) (param $x i32) (param $n i32)
    (local $end i32) (local $v v128) (local $sg v128) (local $one v128)
    (drop (call $exp_loop (local.get $s) (local.get $x) (local.get $n) (f32.const -1) (f32.const 0)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (local.set $sg (f32x4.div (local.get $one) (f32x4.add (local.get $one) (v128.load (local.get $s)))))
      (v128.store (local.get $s) (local.get $sg))
      (v128.store (local.get $y) (f32x4.mul (local.get $v) (local.get $sg)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $s (i32.add (local.get $s) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l)))
  )

  ;; center_sum_squares sets dst[i] = x[i] - mean, i < n, and returns the sum
  ;; of dst[i]*dst[i], summed as sum_squares does (8 partial sums, then the
  ;; tail in order). dst may alias x. It is the statistics pass of a group
  ;; norm.
  (func (export "center_sum_squares") (param $dst i32) (param $x i32) (param $n i32) (param $mean f32) (result f32)
    (local $m v128) (local $s0 v128) (local $s1 v128) (local $v v128) (local $end i32) (local $s f32) (local $d f32)
    (local.set $m (f32x4.splat (local.get $mean)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done8 (loop $l8
      (br_if $done8 (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (f32x4.sub (v128.load (local.get $x)) (local.get $m)))
      (v128.store (local.get $dst) (local.get $v))
      (local.get $v) (local.get $v) f32x4.mul ;;fma
      (local.get $s0) f32x4.add ;;fma
      (local.set $s0)
      (local.set $v (f32x4.sub (v128.load offset=16 (local.get $x)) (local.get $m)))
      (v128.store offset=16 (local.get $dst) (local.get $v))
      (local.get $v) (local.get $v) f32x4.mul ;;fma
      (local.get $s1) f32x4.add ;;fma
      (local.set $s1)
      (local.set $x (i32.add (local.get $x) (i32.const 32)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
      (br $l8)))
    (local.set $s (call $hsum (f32x4.add (local.get $s0) (local.get $s1))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $d (f32.sub (f32.load (local.get $x)) (local.get $mean)))
      (f32.store (local.get $dst) (local.get $d))
      (local.set $s (f32.add (local.get $s) (f32.mul (local.get $d) (local.get $d))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (br $l)))
    (local.get $s)
  )

  ;; normalize_affine sets t = xhat[i]*rstd, xhat[i] = t and
  ;; y[i] = t*gamma + beta, i < n: the apply pass of a group norm on one
  ;; channel.
  (func (export "normalize_affine") (param $xh i32) (param $y i32) (param $n i32)
      (param $rstd f32) (param $gamma f32) (param $beta f32)
    (local $r v128) (local $g v128) (local $b v128) (local $t v128) (local $end4 i32) (local $end i32)
    (local.set $r (f32x4.splat (local.get $rstd)))
    (local.set $g (f32x4.splat (local.get $gamma)))
    (local.set $b (f32x4.splat (local.get $beta)))
    (local.set $end (i32.add (local.get $xh) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $xh) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $l4
      (br_if $done4 (i32.ge_u (local.get $xh) (local.get $end4)))
      ;; t = xhat*rstd back to xhat, y = t*gamma + beta
      (local.set $t (f32x4.mul (v128.load (local.get $xh)) (local.get $r)))
      (v128.store (local.get $xh) (local.get $t))
      (local.get $y)
      (local.get $t) (local.get $g) f32x4.mul ;;fma
      (local.get $b) f32x4.add ;;fma
      (v128.store)
      (local.set $xh (i32.add (local.get $xh) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $xh) (local.get $end)))
      ;; one element in lane 0 (the other lanes are scratch: the load reads
      ;; 4 bytes, the store writes 4), rounded as in the body
      (v128.store32_lane 0 (local.get $y)
        (call $affine4s (local.get $xh) (local.get $r) (local.get $g) (local.get $b)))
      (local.set $xh (i32.add (local.get $xh) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (br $l)))
  )

  ;; affine4s is the loop body of normalize_affine on the single float at xh
  ;; (lane 0), rounded the same way.
  (func $affine4s (param $xh i32) (param $r v128) (param $g v128) (param $b v128) (result v128)
    (local $t v128)
    (local.set $t (f32x4.mul (v128.load32_zero (local.get $xh)) (local.get $r)))
    (v128.store32_lane 0 (local.get $xh) (local.get $t))
    (local.get $t) (local.get $g) f32x4.mul ;;fma
    (local.get $b) f32x4.add ;;fma
  )
)
