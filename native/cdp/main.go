// Command cdp trains class-conditional diffusion models, samples them with
// contrastive or classifier guidance, adversarially trains and evaluates
// classifiers, and runs the Gaussian-mixture theory simulations.
//
// Each subcommand lives in its own file and registers itself; main only calls
// run(args, stdout, stderr). Exit codes: 0 success, 1 failure, 2 usage error.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/cdp-project/cdp/simd"
	"github.com/spf13/pflag"
)

// version is set at link time by build.sh (-X main.version=...).
var version = "dev"

// command is one subcommand of cdp.
type command struct {
	name    string
	summary string // one line for `cdp help`
	usage   string // arguments after the name, e.g. "[flags] NAME"
	run     func(e *env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("cdp: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// env is what a subcommand may touch: its output streams and a way to make
// its flag set.
type env struct {
	stdout, stderr io.Writer
	cmd            *command
	simd           string
}

// usageError marks a mistake in how cdp was called (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp is returned by parse when --help was asked for: exit 0.
var errHelp = errors.New("help requested")

// flags returns a flag set for the command, with the flags every command has.
func (e *env) flags() *pflag.FlagSet {
	fs := pflag.NewFlagSet(e.cmd.name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.simd, "simd", "auto", "kernel set: auto|"+strings.Join(simd.Names(), "|"))
	fs.Usage = func() {}
	return fs
}

// parse parses args into fs, prints help for --help, and applies --simd.
func (e *env) parse(fs *pflag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		e.printUsage(fs)
		return errHelp
	}
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	if err := simd.Use(e.simd); err != nil {
		return &usageError{msg: "--simd: " + err.Error()}
	}
	return nil
}

func (e *env) printUsage(fs *pflag.FlagSet) {
	fmt.Fprintf(e.stdout, "%s\n\nUsage: cdp %s %s\n\nFlags:\n%s", e.cmd.summary, e.cmd.name, e.cmd.usage, fs.FlagUsages())
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes cdp with the given arguments and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "--help":
		name = "help"
	case "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "cdp: unknown command %q\nRun 'cdp help' for the list of commands.\n", name)
		return 2
	}
	e := &env{stdout: stdout, stderr: stderr, cmd: c}
	err := c.run(e, rest)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "cdp %s: %v\nRun 'cdp %s --help' for usage.\n", name, err, name)
		return 2
	default:
		fmt.Fprintf(stderr, "cdp %s: %v\n", name, err)
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, "cdp: Contrastive-guided diffusion for adversarial robustness\n\nUsage: cdp COMMAND [flags]\n\nCommands:\n")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nEvery command takes --help and --simd auto|%s.\n", strings.Join(simd.Names(), "|"))
}
