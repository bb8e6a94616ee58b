//go:build js && wasm

// Command wasm is the browser module of cdp: the same core compiled to
// GOOS=js GOARCH=wasm. It installs one object, globalThis.cdp, whose long
// calls return Promises, run in goroutines and report progress through a
// callback; errors reject with a message that names the problem.
//
//	cdp.version                      string
//	cdp.impl()                       kernel set in use (wasm-relaxed, wasm-simd128 or generic)
//	cdp.experiments()                JSON text: the sim registry (names, parameters, ranges)
//	cdp.runExperiment(name, params, seed, onProgress) Promise<JSON text of the result>
//	cdp.benchUNet(options)           Promise<object>: times the U-Net forward pass (see benchUNet)
//	cdp.sample(options, onProgress)  Promise<object>: images from a diffusion checkpoint, plain or guided (see sample)
//
// params is a plain object of numbers (or numeric strings); seed a
// non-negative integer; onProgress(done, total) is optional.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/unet"
	"github.com/cdp-project/cdp/sim"
	"github.com/cdp-project/cdp/simd"
)

var version = "dev"

func main() {
	api := js.Global().Get("Object").New()
	api.Set("version", version)
	api.Set("impl", js.FuncOf(func(js.Value, []js.Value) any { return simd.Impl() }))
	api.Set("experiments", js.FuncOf(func(js.Value, []js.Value) any {
		b, err := json.Marshal(sim.Experiments())
		if err != nil {
			return jsError(err.Error())
		}
		return string(b)
	}))
	api.Set("runExperiment", js.FuncOf(runExperiment))
	api.Set("benchUNet", js.FuncOf(benchUNet))
	api.Set("sample", js.FuncOf(sample))
	js.Global().Set("cdp", api)
	if ready := js.Global().Get("cdpReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

func jsError(msg string) js.Value { return js.Global().Get("Error").New("cdp: " + msg) }

// promise runs work in a goroutine and settles a Promise with its result.
func promise(work func() (any, error)) js.Value {
	var handler js.Func
	handler = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer handler.Release()
			defer func() {
				if r := recover(); r != nil {
					reject.Invoke(jsError(fmt.Sprint("internal error: ", r)))
				}
			}()
			v, err := work()
			if err != nil {
				reject.Invoke(jsError(err.Error()))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(handler)
}

// number reads a JS number or numeric string.
func number(v js.Value, what string) (float64, error) {
	switch typeOf(v) {
	case js.TypeNumber:
		return v.Float(), nil
	case js.TypeString:
		x, err := strconv.ParseFloat(v.String(), 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a number", what, v.String())
		}
		return x, nil
	}
	return 0, fmt.Errorf("%s: want a number, got %s", what, describe(v))
}

func runExperiment(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		if len(args) < 1 || typeOf(args[0]) != js.TypeString {
			return nil, fmt.Errorf("runExperiment(name, params, seed, onProgress): name must be a string")
		}
		e, err := sim.Lookup(args[0].String())
		if err != nil {
			return nil, err
		}
		overrides := map[string]float64{}
		if len(args) > 1 && !args[1].IsUndefined() && !args[1].IsNull() {
			if typeOf(args[1]) != js.TypeObject {
				return nil, fmt.Errorf("runExperiment: params must be an object, got %s", describe(args[1]))
			}
			// Object.entries, not Get: a throwing getter or Proxy trap then
			// rejects the call (js.Value.Get does not catch).
			entries := js.Global().Get("Object").Call("entries", args[1])
			for i := 0; i < entries.Length(); i++ {
				k := entries.Index(i).Index(0).String()
				x, err := number(entries.Index(i).Index(1), "parameter "+k)
				if err != nil {
					return nil, err
				}
				overrides[k] = x
			}
		}
		seed := uint64(1)
		if len(args) > 2 && !args[2].IsUndefined() && !args[2].IsNull() {
			s, err := number(args[2], "seed")
			if err != nil {
				return nil, err
			}
			if s < 0 || s != math.Trunc(s) || s > 1<<53 {
				return nil, fmt.Errorf("seed %v must be a non-negative integer", s)
			}
			seed = uint64(s)
		}
		var progress sim.Progress
		if len(args) > 3 && typeOf(args[3]) == js.TypeFunction {
			cb := args[3]
			progress = func(done, total int) { cb.Invoke(done, total) }
		}
		r, err := e.Run(overrides, seed, progress)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	})
}

// Limits of benchUNet's options: a batch or a repetition count past these
// would only make the page wait or run the module out of memory, which no
// recover catches (Forward keeps what Backward needs: unet-small takes about
// 23 MB of wasm memory per image, 1.5 GB at batch 64, against wasm32's 4 GB),
// and 256 MB of weights is far beyond any preset.
const (
	benchMaxBatch   = 64
	benchMaxReps    = 100
	benchMaxWarmup  = 20
	benchMaxWeights = 256 << 20
)

// benchUNet times the forward pass of a U-Net preset in this module, with
// the kernel set in use (cdp.impl()):
//
//	cdp.benchUNet({model: "unet-small", batch: 16, reps: 5, warmup: 1, seed: 1,
//	               weights: Uint8Array (optional .npz, the names of the model's parameters),
//	               tensors: false})
//
// Every option may be left out (the defaults are shown); unknown options are
// refused. The weights are random (PyTorch-style initialisation from seed)
// unless an .npz archive of every parameter is given (as numpy.savez writes a
// PyTorch state_dict of core/unet/testdata/unet.py). The input is x (batch,
// C, H, W) standard normal, t in 1..1000 and y in 0..classes-1, drawn from
// seed. The Promise resolves to
//
//	{model, batch, reps, warmup, impl, weights: "random"|"npz", flopsPerImage,
//	 msPerForward (median of the reps), msBest, ms (every rep),
//	 imageStepsPerSec (batch / median), gflopsPerSec (at the median),
//	 gcCycles (garbage collections during the timed reps), heapMB (Go heap size)}
//
// and, with tensors: true, also x (Float32Array), t and y (Int32Array) and
// out (Float32Array, the predicted eps of the last forward pass) so that
// another runtime can be checked against the same numbers.
func benchUNet(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		o := benchOptions{model: "unet-small", batch: 16, reps: 5, warmup: 1, seed: 1}
		if len(args) > 0 {
			if err := o.parse(args[0]); err != nil {
				return nil, err
			}
		}
		cfg, err := unet.Preset(o.model)
		if err != nil {
			return nil, fmt.Errorf("benchUNet: %w", err)
		}
		u, err := unet.New(cfg, rand.New(rand.NewPCG(o.seed, 1)))
		if err != nil {
			return nil, fmt.Errorf("benchUNet: %w", err)
		}
		u.P.NoGrad = true
		weights := "random"
		if o.weights != nil {
			views := u.P.Views()
			into := make([]ckpt.Tensor, len(views))
			for i, v := range views {
				into[i] = ckpt.Tensor{Name: v.Name, DType: ckpt.Float32, Shape: v.Shape, F32: u.P.Data(v)}
			}
			if err := ckpt.ImportNPZ(bytes.NewReader(o.weights), int64(len(o.weights)), into); err != nil {
				return nil, fmt.Errorf("benchUNet: weights: %w", err)
			}
			weights = "npz"
		}
		// Inputs (N, C, H, W), timesteps and labels from their own stream.
		r := rand.New(rand.NewPCG(o.seed, 2))
		x := make([]float32, o.batch*u.Dim())
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		t, y := make([]int, o.batch), make([]int, o.batch)
		for i := range t {
			t[i], y[i] = 1+r.IntN(1000), r.IntN(cfg.Classes)
		}
		var out []float32
		for range o.warmup {
			out = u.Forward(x, t, y)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ms := make([]float64, o.reps)
		for i := range ms {
			start := time.Now()
			out = u.Forward(x, t, y)
			ms[i] = float64(time.Since(start).Nanoseconds()) / 1e6
		}
		runtime.ReadMemStats(&after)
		sorted := slices.Clone(ms)
		slices.Sort(sorted)
		median := sorted[len(sorted)/2]
		if len(sorted)%2 == 0 {
			median = (sorted[len(sorted)/2-1] + median) / 2
		}
		flops := u.FLOPs()
		res := map[string]any{
			"model": o.model, "batch": o.batch, "reps": o.reps, "warmup": o.warmup,
			"impl": simd.Impl(), "weights": weights, "flopsPerImage": flops,
			"msPerForward": median, "msBest": sorted[0], "ms": toJSArray(ms),
			"imageStepsPerSec": float64(o.batch) * 1000 / median,
			"gflopsPerSec":     float64(o.batch) * flops / median / 1e6,
			"gcCycles":         after.NumGC - before.NumGC,
			"heapMB":           float64(after.HeapSys) / (1 << 20),
		}
		if o.tensors {
			ti, yi := make([]int32, len(t)), make([]int32, len(y))
			for i := range t {
				ti[i], yi[i] = int32(t[i]), int32(y[i])
			}
			res["x"] = typedArray("Float32Array", unsafe.Pointer(&x[0]), 4*len(x))
			res["t"] = typedArray("Int32Array", unsafe.Pointer(&ti[0]), 4*len(ti))
			res["y"] = typedArray("Int32Array", unsafe.Pointer(&yi[0]), 4*len(yi))
			res["out"] = typedArray("Float32Array", unsafe.Pointer(&out[0]), 4*len(out))
		}
		return js.ValueOf(res), nil
	})
}

// benchOptions are the parsed options of benchUNet.
type benchOptions struct {
	model               string
	batch, reps, warmup int
	seed                uint64
	weights             []byte
	tensors             bool
}

// parse reads a JS options object (undefined or null: the defaults). It
// reads the object only through Object.entries and its own typed-array copy:
// a getter or Proxy trap that throws then rejects the call instead of
// unwinding through the Go stack (js.Value.Get does not catch).
func (o *benchOptions) parse(v js.Value) error {
	if v.IsUndefined() || v.IsNull() {
		return nil
	}
	if typeOf(v) != js.TypeObject || js.Global().Get("Array").Call("isArray", v).Bool() {
		return fmt.Errorf("benchUNet(options): options must be an object, got %s", describe(v))
	}
	entries := js.Global().Get("Object").Call("entries", v)
	for i := 0; i < entries.Length(); i++ {
		k, x := entries.Index(i).Index(0).String(), entries.Index(i).Index(1)
		var err error
		switch k {
		case "model":
			if typeOf(x) != js.TypeString {
				return fmt.Errorf("benchUNet: model must be a string, got %s", describe(x))
			}
			if o.model = x.String(); len(o.model) > 64 {
				return fmt.Errorf("benchUNet: model name of %d bytes is no preset (known: %s)", len(o.model), strings.Join(unet.Presets(), ", "))
			}
		case "batch":
			o.batch, err = count("benchUNet", x, "batch", 1, benchMaxBatch)
		case "reps":
			o.reps, err = count("benchUNet", x, "reps", 1, benchMaxReps)
		case "warmup":
			o.warmup, err = count("benchUNet", x, "warmup", 0, benchMaxWarmup)
		case "seed":
			var s int
			s, err = count("benchUNet", x, "seed", 0, 1<<53)
			o.seed = uint64(s)
		case "tensors":
			if typeOf(x) != js.TypeBoolean {
				return fmt.Errorf("benchUNet: tensors must be true or false, got %s", describe(x))
			}
			o.tensors = x.Bool()
		case "weights":
			if x.IsUndefined() || x.IsNull() {
				continue
			}
			o.weights, err = byteArray("benchUNet", "weights", "an .npz archive", x, benchMaxWeights)
		default:
			if len(k) > 40 {
				k = k[:40] + "…"
			}
			return fmt.Errorf("benchUNet: no option %q (model, batch, reps, warmup, seed, weights, tensors)", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// byteArray copies a Uint8Array (holding what, at most max bytes) into Go,
// for option name of function fn.
func byteArray(fn, name, what string, x js.Value, max int) ([]byte, error) {
	if !js.Global().Get("ArrayBuffer").Call("isView", x).Bool() || describe(x) != "[object Uint8Array]" {
		return nil, fmt.Errorf("%s: %s must be a Uint8Array holding %s, got %s", fn, name, what, describe(x))
	}
	own := js.Global().Get("Uint8Array").New(x) // a copy whose length no getter can fake
	n := own.Length()
	if n > max {
		return nil, fmt.Errorf("%s: %s of %d bytes, more than %d", fn, name, n, max)
	}
	b := make([]byte, n)
	js.CopyBytesToGo(b, own)
	return b, nil
}

// count reads an integer in [lo, hi] given as a JS number, for option what
// of function fn.
func count(fn string, v js.Value, what string, lo, hi int) (int, error) {
	if typeOf(v) != js.TypeNumber {
		return 0, fmt.Errorf("%s: %s must be an integer in [%d, %d], got %s", fn, what, lo, hi, describe(v))
	}
	x := v.Float()
	if x != math.Trunc(x) || x < float64(lo) || x > float64(hi) { // NaN fails the first test
		return 0, fmt.Errorf("%s: %s = %v must be an integer in [%d, %d]", fn, what, x, lo, hi)
	}
	return int(x), nil
}

// describe names a JS value's type for an error message: the type for
// primitives (with a short quote of a string), Object.prototype.toString for
// objects ("[object Float32Array]").
func describe(v js.Value) string {
	switch t := typeOf(v); t {
	case js.TypeString:
		s := v.String()
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return fmt.Sprintf("string %q", s)
	case js.TypeObject, js.TypeFunction, typeOther:
		return js.Global().Get("Object").Get("prototype").Get("toString").Call("call", v).String()
	default:
		return t.String()
	}
}

// typeOther is what typeOf says of a value that js.Value.Type cannot
// classify (a BigInt).
const typeOther js.Type = -1

// typeOf is v.Type(), or typeOther where Type would panic.
func typeOf(v js.Value) (t js.Type) {
	defer func() {
		if recover() != nil {
			t = typeOther
		}
	}()
	return v.Type()
}

// toJSArray copies xs into a JS array of numbers.
func toJSArray(xs []float64) js.Value {
	a := js.Global().Get("Array").New(len(xs))
	for i, x := range xs {
		a.SetIndex(i, x)
	}
	return a
}

// typedArray copies n bytes at p into a new JS typed array of the named
// kind (Float32Array, Int32Array); wasm is little-endian like every JS engine
// that runs it.
func typedArray(kind string, p unsafe.Pointer, n int) js.Value {
	b := js.Global().Get("Uint8Array").New(n)
	js.CopyBytesToJS(b, unsafe.Slice((*byte)(p), n))
	return js.Global().Get(kind).New(b.Get("buffer"))
}
