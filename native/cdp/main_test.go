package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cdp-project/cdp/bench"
	"github.com/cdp-project/cdp/simd"
)

// cdp runs the CLI in-process and returns its exit code and output.
func cdp(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	defer simd.Use("auto")
	cases := []struct {
		args []string
		code int
		want string // substring of stdout+stderr
	}{
		{nil, 2, "Commands:"},
		{[]string{"help"}, 0, "version"},
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{"nosuch"}, 2, `unknown command "nosuch"`},
		{[]string{"help", "nosuch"}, 2, `unknown command "nosuch"`},
		{[]string{"version"}, 0, "cdp "},
		{[]string{"version", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"version", "--nosuchflag"}, 2, "unknown flag: --nosuchflag"},
		{[]string{"cpu", "--simd", "nosuch"}, 2, `unknown kernel set "nosuch"`},
		{[]string{"cpu", "--simd", "generic"}, 0, "in use:    generic"},
		{[]string{"cpu", "--help"}, 0, "--simd"},
		{[]string{"bench", "sgemm"}, 2, `unexpected argument "sgemm"`},
		{[]string{"help", "cpu"}, 0, "--json"},
		{[]string{"serve", "--addr", "0.0.0.0:8080"}, 2, "only loopback"},
	}
	for _, c := range cases {
		code, out, errOut := cdp(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("cdp %q: exit %d, want %d; output lacks %q:\n%s%s", c.args, code, c.code, c.want, out, errOut)
		}
	}
}

func TestCPUJSON(t *testing.T) {
	defer simd.Use("auto")
	code, out, errOut := cdp(t, "cpu", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var c simd.CPU
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("cpu --json is not JSON: %v\n%s", err, out)
	}
	if c.Impl != simd.Impl() || len(c.Sets) == 0 {
		t.Errorf("cpu --json: impl %q sets %v, want impl %q", c.Impl, c.Sets, simd.Impl())
	}
}

// TestCPUPeak: `cpu --peak --json` adds one positive fma-peak measurement per
// thread count where the CPU has a peak loop, and none (with a note) where
// it has not.
func TestCPUPeak(t *testing.T) {
	code, out, errOut := cdp(t, "cpu", "--peak", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var c struct {
		Impl string         `json:"impl"`
		Peak []bench.Result `json:"peak"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("cpu --peak --json is not JSON: %v\n%s", err, out)
	}
	if simd.PeakLoop(1) == 0 {
		if len(c.Peak) != 0 || !strings.Contains(errOut, "no peak loop") {
			t.Fatalf("no peak loop here, yet cpu --peak gave %v (stderr %q)", c.Peak, errOut)
		}
		return
	}
	if len(c.Peak) != 2 {
		t.Fatalf("cpu --peak: %d measurements, want 2 (1 and 2 goroutines)", len(c.Peak))
	}
	for i, r := range c.Peak {
		if r.Kernel != "fma-peak" || r.Threads != i+1 || !(r.GFLOPS > 0) {
			t.Errorf("cpu --peak measurement %d: %+v", i, r)
		}
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for name := range commands {
		code, out, errOut := cdp(t, name, "--help")
		if name == "help" {
			continue
		}
		if code != 0 || !strings.Contains(out, "Usage: cdp "+name) {
			t.Errorf("cdp %s --help: exit %d\n%s%s", name, code, out, errOut)
		}
	}
}
