package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimRunWritesFiles(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run([]string{"sim", "run", "samples", "--param", "d=10,mMax=20", "--param", "points=3", "--param", "reps=5",
		"--seed", "3", "--json", "--out", dir, "--format", "svg"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r struct {
		Experiment string             `json:"experiment"`
		Params     map[string]float64 `json:"params"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Experiment != "samples" || r.Params["d"] != 10 {
		t.Fatalf("stdout JSON %v: %+v", err, r)
	}
	for _, f := range []string{"samples.json", "samples.csv", "samples.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if !strings.Contains(errb.String(), "9/9") {
		t.Errorf("no progress on stderr: %q", errb.String())
	}
}

func TestSimUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "run", "spread", "--param", "d=0", "--json"}, "parameter d = 0 must be an integer in [1, 5000]"},
		{[]string{"sim", "run", "spread", "--param", "d", "--json"}, "want name=value"},
		{[]string{"sim", "run", "nope", "--json"}, `no experiment "nope"`},
		{[]string{"sim", "run", "spread"}, "give --out DIR, --json, or both"},
		{[]string{"sim", "frobnicate"}, "unknown subcommand"},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"sim", "list"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "guided2d") {
		t.Errorf("list: exit %d, %q", code, out.String())
	}
}
