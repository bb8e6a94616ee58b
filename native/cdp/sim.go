package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/cdp-project/cdp/native/store"
	"github.com/cdp-project/cdp/sim"
	simplot "github.com/cdp-project/cdp/sim/plot"
)

const simUsage = `list [--json]
       cdp sim run NAME [--param name=value ...] [--seed N] [--format png|svg] [--json] [--out DIR]

Subcommands:
  list   print every experiment with its parameters (default [min, max]) and outputs
  run    run one experiment; with --out DIR it writes DIR/NAME.csv, DIR/NAME.json and
         DIR/NAME.png (or .svg), each written to a temporary file and renamed into place;
         with --json it prints the result as JSON on stdout. At least one of --out and
         --json is required. Parameters are given as --param name=value (repeatable, or
         comma-separated: --param d=50,m=10); unnamed parameters keep their defaults.
         Progress goes to stderr (--quiet silences it). The same seed gives the same
         numbers natively and in the browser.

Flags of run:
  --param name=value   parameter override (repeatable; name=value,name=value also works)
  --seed N             random seed (default 1)
  --format png|svg     plot format (default png)
  --json               print the result as JSON on stdout
  --out DIR            write DIR/NAME.{json,csv,png|svg}
  --quiet              no progress on stderr

Example:
  cdp sim run spread --param m=40 --param sigmaMax=4 --seed 7 --out docs/figures`

func init() {
	register(&command{
		name:    "sim",
		summary: "run the Gaussian-mixture theory experiments (list, run)",
		usage:   simUsage,
		run:     runSim,
	})
}

func runSim(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: list or run")
	}
	switch args[0] {
	case "list":
		return simList(e, args[1:])
	case "run":
		return simRun(e, args[1:])
	case "-h", "--help", "help":
		return e.parse(e.flags(), []string{"--help"})
	}
	return usagef("unknown subcommand %q: want list or run", args[0])
}

func simList(e *env, args []string) error {
	fs := e.flags()
	asJSON := fs.Bool("json", false, "print the registry as JSON")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("list takes no arguments, got %q", fs.Args())
	}
	exps := sim.Experiments()
	if *asJSON {
		return printJSON(e.stdout, exps)
	}
	for _, x := range exps {
		fmt.Fprintf(e.stdout, "%s\n  %s\n  parameters:\n", x.Name, x.Description)
		for _, p := range x.Params {
			kind := ""
			if p.Integer {
				kind = ", integer"
			}
			fmt.Fprintf(e.stdout, "    %-14s %-10s [%g, %g%s]  %s\n", p.Name, fmt.Sprintf("%g", p.Default), p.Min, p.Max, kind, p.Description)
		}
		fmt.Fprintf(e.stdout, "  outputs:\n")
		for _, o := range x.Outputs {
			fmt.Fprintf(e.stdout, "    %s\n", o)
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}

func simRun(e *env, args []string) error {
	fs := e.flags()
	params := fs.StringArray("param", nil, "parameter override name=value (repeatable; comma-separated lists allowed)")
	seed := fs.Uint64("seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "print the result as JSON on stdout")
	out := fs.String("out", "", "directory for NAME.csv, NAME.json and the plot")
	format := fs.String("format", "png", "plot format: "+strings.Join(simplot.Formats, "|"))
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("run needs exactly one experiment NAME (see 'cdp sim list'), got %d arguments", fs.NArg())
	}
	if *out == "" && !*asJSON {
		return usagef("give --out DIR, --json, or both")
	}
	if *format != "png" && *format != "svg" {
		return usagef("--format %q: want png or svg", *format)
	}
	x, err := sim.Lookup(fs.Arg(0))
	if err != nil {
		return usagef("%v", err)
	}
	text := map[string]string{}
	for _, kv := range *params {
		for _, item := range strings.Split(kv, ",") {
			name, val, ok := strings.Cut(item, "=")
			if !ok {
				return usagef("--param %q: want name=value", item)
			}
			text[strings.TrimSpace(name)] = val
		}
	}
	over, err := x.Parse(text)
	if err != nil {
		return usagef("%v", err)
	}
	if _, err := x.Resolve(over); err != nil {
		return usagef("%v", err)
	}
	var progress sim.Progress
	if !*quiet {
		last := time.Time{}
		progress = func(done, total int) {
			if now := time.Now(); done == total || now.Sub(last) > 200*time.Millisecond {
				last = now
				fmt.Fprintf(e.stderr, "\rsim %s: %d/%d", x.Name, done, total)
				if done == total {
					fmt.Fprintln(e.stderr)
				}
			}
		}
	}
	start := time.Now()
	r, err := x.Run(over, *seed, progress)
	if err != nil {
		return usagef("%v", err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the result: %w", err)
	}
	js = append(js, '\n')
	if *asJSON {
		if _, err := e.stdout.Write(js); err != nil {
			return err
		}
	}
	if *out == "" {
		return nil
	}
	if err := ensureDir(*out); err != nil {
		return err
	}
	base := filepath.Join(*out, x.Name)
	if err := store.WriteFileAtomic(base+".json", func(w io.Writer) error { _, err := w.Write(js); return err }); err != nil {
		return err
	}
	if err := store.WriteFileAtomic(base+".csv", r.WriteCSV); err != nil {
		return err
	}
	if err := store.WriteFileAtomic(base+"."+*format, func(w io.Writer) error { return simplot.Write(w, r, *format) }); err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(e.stderr, "sim %s: wrote %s.{json,csv,%s} in %.1fs\n", x.Name, base, *format, time.Since(start).Seconds())
	}
	return nil
}
