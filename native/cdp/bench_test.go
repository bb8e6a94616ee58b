package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"bench", "--json", "--filter", "^dot$", "--time", "1ms"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var rs []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out.String())
	}
	if len(rs) == 0 {
		t.Fatal("no results")
	}
	for _, r := range rs {
		if r["kernel"] != "dot" {
			t.Fatalf("filter let through %v", r)
		}
		for _, k := range []string{"impl", "shape", "threads", "gflops", "ns_per_op"} {
			if _, ok := r[k]; !ok {
				t.Fatalf("result lacks %q: %v", k, r)
			}
		}
	}
}

func TestBenchTableAndErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"bench", "--filter", "reverse-step", "--impl", "generic", "--time", "1ms"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "reverse-step") || !strings.Contains(out.String(), "generic") {
		t.Fatalf("table lacks the case:\n%s", out.String())
	}
	for _, args := range [][]string{{"--filter", "("}, {"--time", "0s"}, {"--threads", "0"}} {
		errOut.Reset()
		if code := run(append([]string{"bench"}, args...), &out, &errOut); code != 2 {
			t.Fatalf("bench %v: exit %d, want 2 (%s)", args, code, errOut.String())
		}
	}
	if code := run([]string{"bench", "--filter", "no-such-kernel"}, &out, &errOut); code != 1 {
		t.Fatalf("bench with no matching case: exit %d, want 1", code)
	}
}
