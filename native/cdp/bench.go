package main

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/cdp-project/cdp/bench"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "time the kernels (sgemm, dot, reverse step, similarity, ...) of every implementation",
		usage:   "[flags]",
		run: func(e *env, args []string) error {
			fs := e.flags()
			asJSON := fs.Bool("json", false, "print a JSON array, one object per measurement")
			filter := fs.String("filter", "", "run only kernels whose name matches this regular expression")
			implFilter := fs.String("impl", "", "run only implementations whose name matches this regular expression")
			minTime := fs.Duration("time", time.Second, "minimum timed duration per case")
			threads := fs.IntSlice("threads", nil, "run only cases with these thread counts (default all)")
			list := fs.Bool("list", false, "list the cases without running them")
			if err := e.parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return usagef("unexpected argument %q (choose cases with --filter and --impl)", fs.Arg(0))
			}
			kernelRe, err := regexp.Compile(*filter)
			if err != nil {
				return usagef("--filter: %v", err)
			}
			implRe, err := regexp.Compile(*implFilter)
			if err != nil {
				return usagef("--impl: %v", err)
			}
			if *minTime <= 0 {
				return usagef("--time must be positive, got %v", *minTime)
			}
			for _, t := range *threads {
				if t <= 0 {
					return usagef("--threads: thread counts must be positive, got %d", t)
				}
			}
			var cases []bench.Case
			for _, c := range bench.Cases() {
				if !kernelRe.MatchString(c.Kernel) || !implRe.MatchString(c.Impl) {
					continue
				}
				if len(*threads) > 0 && !slices.Contains(*threads, c.Threads) {
					continue
				}
				cases = append(cases, c)
			}
			if len(cases) == 0 {
				return fmt.Errorf("no benchmark case matches --filter %q --impl %q --threads %v", *filter, *implFilter, *threads)
			}
			if *list {
				for _, c := range cases {
					fmt.Fprintln(e.stdout, c.Name())
				}
				return nil
			}
			const row = "%-14s %-16s %7v %-8s %14v %9v %8v\n"
			if !*asJSON {
				fmt.Fprintf(e.stdout, row, "kernel", "shape", "threads", "impl", "ns/op", "GFLOP/s", "GB/s")
			}
			results := make([]bench.Result, 0, len(cases))
			for _, c := range cases {
				r := bench.Run(c, *minTime)
				results = append(results, r)
				if !*asJSON { // one line per case as it finishes
					fmt.Fprintf(e.stdout, row, r.Kernel, r.Shape, r.Threads, r.Impl, fmt.Sprintf("%.0f", r.NsPerOp), rate(r.GFLOPS), rate(r.GBPS))
				}
			}
			if *asJSON {
				return printJSON(e.stdout, results)
			}
			return nil
		},
	})
}

func rate(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}
