package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cdp-project/cdp/bench"
	"github.com/cdp-project/cdp/simd"
)

func init() {
	register(&command{
		name:    "cpu",
		summary: "print the detected CPU features and the kernel set in use",
		run: func(e *env, args []string) error {
			fs := e.flags()
			asJSON := fs.Bool("json", false, "print JSON")
			peak := fs.Bool("peak", false, "also measure the FMA peak (GFLOP/s) on 1 and 2 goroutines, about a second")
			if err := e.parse(fs, args); err != nil {
				return err
			}
			c := simd.DescribeCPU()
			var peaks []bench.Result
			if *peak {
				for _, pc := range bench.Cases() {
					if pc.Kernel == "fma-peak" {
						peaks = append(peaks, bench.Run(pc, 400*time.Millisecond))
					}
				}
				if len(peaks) == 0 {
					fmt.Fprintln(e.stderr, "cdp cpu: no peak loop for this CPU (cdp has one for AVX2 with FMA)")
				}
			}
			if *asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if !*peak {
					return enc.Encode(c)
				}
				return enc.Encode(struct {
					simd.CPU
					Peak []bench.Result `json:"peak"`
				}{c, peaks})
			}
			fmt.Fprintf(e.stdout, "cpu:       %s (%s)\ncores:     %d physical, %d logical\nfeatures:  %s\nsupported: %s\nin use:    %s\nthreads:   %d\n",
				c.Brand, c.Vendor, c.Cores, c.Threads, strings.Join(c.Features, " "), strings.Join(c.Sets, ", "), c.Impl, simd.Threads())
			for _, r := range peaks {
				fmt.Fprintf(e.stdout, "peak:      %.1f GFLOP/s on %d goroutine(s) (fused multiply-adds in registers, measured now)\n", r.GFLOPS, r.Threads)
			}
			return nil
		},
	})
}
