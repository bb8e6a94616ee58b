package main

import (
	"fmt"
	"runtime"

	"github.com/cdp-project/cdp/simd"
)

func init() {
	register(&command{
		name:    "version",
		summary: "print the version, Go toolchain and kernel set",
		run: func(e *env, args []string) error {
			fs := e.flags()
			if err := e.parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return usagef("unexpected argument %q", fs.Arg(0))
			}
			fmt.Fprintf(e.stdout, "cdp %s (%s, %s/%s, simd %s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, simd.Impl())
			return nil
		},
	})
}
