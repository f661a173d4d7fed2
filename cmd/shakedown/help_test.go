package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// helpTexts returns every command of the tree with the text its --help
// shows: the long description, the examples, the flags' usages.
func helpTexts(top *cobra.Command) map[*cobra.Command]string {
	out := map[*cobra.Command]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		var b strings.Builder
		b.WriteString(c.Short + "\n" + c.Long + "\n" + c.Example + "\n")
		c.Flags().VisitAll(func(f *pflag.Flag) { b.WriteString(f.Usage + "\n") })
		out[c] = b.String()
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(top)
	return out
}

// resolve returns the command the words name from top, if they all do.
func resolve(top *cobra.Command, words []string) (*cobra.Command, bool) {
	c := top
	for _, w := range words {
		var next *cobra.Command
		for _, s := range c.Commands() {
			if s.Name() == w {
				next = s
			}
		}
		if next == nil {
			return nil, false
		}
		c = next
	}
	return c, true
}

var (
	// "shakedown serverkey init": a command and what follows it.
	commandMention = regexp.MustCompile(`shakedown((?:\s+[a-z][a-z0-9-]*){1,2})`)
	// "sim --out" in quotes, "shakedown mitm run --out": up to three words
	// right after "shakedown" or an opening quote, then a flag.
	flagMention = regexp.MustCompile("(?:shakedown\\s+|[\"'(`])((?:[a-z][a-z0-9-]*\\s+){1,3})(--[a-z][a-z0-9-]*)")
)

// helpProblems lists the commands and flags that the help texts of top
// name and that do not exist.
func helpProblems(top *cobra.Command) []string {
	var problems []string
	for c, text := range helpTexts(top) {
		for _, m := range commandMention.FindAllStringSubmatch(text, -1) {
			words := strings.Fields(m[1])
			group, ok := resolve(top, words[:1])
			if !ok || !group.HasSubCommands() || len(words) < 2 {
				continue // prose ("shakedown tests the channel"), or a command without subcommands
			}
			if _, ok := resolve(top, words); !ok {
				problems = append(problems, fmt.Sprintf("%q: its help names %q, which is no command", c.CommandPath(), "shakedown "+strings.Join(words, " ")))
			}
		}
		for _, m := range flagMention.FindAllStringSubmatch(text, -1) {
			words, flag := strings.Fields(m[1]), strings.TrimPrefix(m[2], "--")
			if flag == "help" {
				continue // cobra adds --help to every command when it runs
			}
			for i := range words {
				target, ok := resolve(top, words[i:])
				if !ok {
					continue
				}
				if target.Flags().Lookup(flag) == nil && target.InheritedFlags().Lookup(flag) == nil {
					problems = append(problems, fmt.Sprintf("%q: its help names %q, a flag %q does not have", c.CommandPath(), strings.Join(words[i:], " ")+" --"+flag, target.CommandPath()))
				}
				break
			}
		}
	}
	return problems
}

var _ = Describe("the help texts", func() {
	It("issue 14: name only commands and flags that exist", func() {
		Expect(helpProblems(root)).To(BeEmpty())
	})

	It("would catch a command or a flag that does not exist", func() {
		top := &cobra.Command{Use: "shakedown"}
		sk := &cobra.Command{Use: "serverkey", Long: "Roll over with shakedown serverkey init."}
		sk.AddCommand(&cobra.Command{Use: "show"})
		sim := &cobra.Command{Use: "sim", Run: func(*cobra.Command, []string) {}}
		sim.Flags().String("results", "", "")
		rep := &cobra.Command{Use: "report", Long: `the fleet's results of "sim --out"`}
		top.AddCommand(sk, sim, rep)
		Expect(helpProblems(top)).To(ConsistOf(
			ContainSubstring(`names "shakedown serverkey init", which is no command`),
			ContainSubstring(`names "sim --out", a flag "shakedown sim" does not have`)))
	})
})
