package bench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRegistry(t *testing.T) {
	cs := Cases()
	seen := map[string]bool{}
	kernels := map[string]bool{}
	for _, c := range cs {
		if seen[c.Name()] {
			t.Fatalf("duplicate case %s", c.Name())
		}
		seen[c.Name()] = true
		kernels[c.Kernel] = true
		if c.FLOPs <= 0 && c.Bytes <= 0 && c.FLOPsFunc == nil {
			t.Fatalf("case %s has neither FLOPs, FLOPsFunc nor Bytes", c.Name())
		}
	}
	for _, k := range []string{"sgemm", "dot", "reverse-step", "similarity"} {
		if !kernels[k] {
			t.Fatalf("no %s case registered", k)
		}
	}
	if !seen["sgemm/shape=256x256x256/threads=1/impl=gonum"] || !seen["sgemm/shape=256x256x256/threads=1/impl=generic"] {
		t.Fatalf("missing gonum or generic sgemm case: %v", seen)
	}
}

func TestRunAndJSON(t *testing.T) {
	calls := 0
	c := Case{Kernel: "test-kernel", Impl: "x", Shape: "1", Threads: 1, FLOPs: 1e3,
		Setup: func() (func(), func()) {
			return func() {
				calls++
				// Busy for 50 us: a sleep can overshoot by milliseconds
				// on a loaded machine.
				for start := time.Now(); time.Since(start) < 50*time.Microsecond; {
				}
			}, nil
		}}
	r := Run(c, 20*time.Millisecond)
	if calls < r.Iterations+1 || r.Iterations < 2 {
		t.Fatalf("Run made %d calls for %d iterations", calls, r.Iterations)
	}
	if r.NsPerOp < 50e3 || r.GFLOPS != 1e3/r.NsPerOp {
		t.Fatalf("Run result %+v", r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"kernel":"test-kernel"`, `"impl":"x"`, `"shape":"1"`, `"threads":1`, `"gflops":`, `"ns_per_op":`} {
		if !strings.Contains(string(b), key) {
			t.Fatalf("JSON %s lacks %s", b, key)
		}
	}
}

func TestCasesRun(t *testing.T) {
	// Every simd case but the large sgemm ones (same code, bigger buffers)
	// sets up and restores; the cheap ones also run once (the kernels
	// themselves are tested in package simd; other packages' cases are
	// theirs to test).
	simdKernels := map[string]bool{"sgemm": true, "dot": true, "reverse-step": true, "similarity": true}
	for _, c := range Cases() {
		if !simdKernels[c.Kernel] || c.Kernel == "sgemm" && c.Shape != "256x256x256" {
			continue
		}
		op, restore := c.Setup()
		if c.Kernel == "dot" || c.Kernel == "reverse-step" {
			op()
		}
		if restore != nil {
			restore()
		}
	}
}
