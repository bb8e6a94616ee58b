package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cdp-project/cdp/simd"
)

func init() {
	register(&command{
		name:    "cpu",
		summary: "print the detected CPU features and the kernel set in use",
		run: func(e *env, args []string) error {
			fs := e.flags()
			asJSON := fs.Bool("json", false, "print JSON")
			if err := e.parse(fs, args); err != nil {
				return err
			}
			c := simd.DescribeCPU()
			if *asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(c)
			}
			fmt.Fprintf(e.stdout, "cpu:       %s (%s)\ncores:     %d physical, %d logical\nfeatures:  %s\nsupported: %s\nin use:    %s\nthreads:   %d\n",
				c.Brand, c.Vendor, c.Cores, c.Threads, strings.Join(c.Features, " "), strings.Join(c.Sets, ", "), c.Impl, simd.Threads())
			return nil
		},
	})
}
