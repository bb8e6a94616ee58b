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
//
// params is a plain object of numbers (or numeric strings); seed a
// non-negative integer; onProgress(done, total) is optional.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"syscall/js"

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
	switch v.Type() {
	case js.TypeNumber:
		return v.Float(), nil
	case js.TypeString:
		x, err := strconv.ParseFloat(v.String(), 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a number", what, v.String())
		}
		return x, nil
	}
	return 0, fmt.Errorf("%s: want a number, got %s", what, v.Type())
}

func runExperiment(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		if len(args) < 1 || args[0].Type() != js.TypeString {
			return nil, fmt.Errorf("runExperiment(name, params, seed, onProgress): name must be a string")
		}
		e, err := sim.Lookup(args[0].String())
		if err != nil {
			return nil, err
		}
		overrides := map[string]float64{}
		if len(args) > 1 && !args[1].IsUndefined() && !args[1].IsNull() {
			if args[1].Type() != js.TypeObject {
				return nil, fmt.Errorf("runExperiment: params must be an object, got %s", args[1].Type())
			}
			keys := js.Global().Get("Object").Call("keys", args[1])
			for i := 0; i < keys.Length(); i++ {
				k := keys.Index(i).String()
				x, err := number(args[1].Get(k), "parameter "+k)
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
		if len(args) > 3 && args[3].Type() == js.TypeFunction {
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
