package main

func init() {
	register(&command{
		name:    "help",
		summary: "list the commands, or show one command's flags",
		usage:   "[COMMAND]",
		run: func(e *env, args []string) error {
			if len(args) == 0 {
				printHelp(e.stdout)
				return nil
			}
			c, ok := commands[args[0]]
			if !ok {
				return usagef("unknown command %q", args[0])
			}
			sub := &env{stdout: e.stdout, stderr: e.stderr, cmd: c}
			return c.run(sub, []string{"--help"})
		},
	})
}
