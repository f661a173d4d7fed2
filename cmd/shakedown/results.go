package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"shakedown/simulator"
)

// newResultsCmd is `shakedown results`.
func newResultsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "results", Short: "Read and merge simulator results"}
	cmd.AddCommand(newResultsMergeCmd(), newResultsShowCmd())
	return cmd
}

// newResultsMergeCmd is `shakedown results merge`.
func newResultsMergeCmd() *cobra.Command {
	var out string
	merge := &cobra.Command{
		Use:   "merge FILE...",
		Short: "Merge the results of the shards of one fleet",
		Long: `Merge results JSON files written by 'shakedown sim --out' for the shards of
one fleet: counts and failures add up, and the HDR histograms merge exactly,
bucket by bucket, so the merged percentiles are those of all samples together.
Files of different fleets (fleet_id) or a shard given twice are refused. The
merged run is interrupted when any shard was, and keeps "interrupted": true.

The fleet's thresholds (see 'shakedown sim --help') are judged on the merged
results, so a sharded run gets one verdict. Exit status: 0 every threshold
held; 1 a threshold failed, or shards are missing (the merged file is still
written); 3 a shard was interrupted (thresholds not judged).`,
		Example: `  shakedown results merge -o fleet.json shard-0.json shard-1.json shard-2.json shard-3.json`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rs := make([]*simulator.Results, 0, len(args))
			for _, p := range args {
				r, err := readResults(p)
				if err != nil {
					return err
				}
				rs = append(rs, r)
			}
			m, err := simulator.Merge(rs...)
			if err != nil {
				return err
			}
			summary := cmd.OutOrStdout()
			if out == "-" {
				summary = cmd.ErrOrStderr()
			}
			if err := writeResults(m, out, cmd.OutOrStdout()); err != nil {
				return err
			}
			if err := simulator.WriteSummary(summary, m); err != nil {
				return err
			}
			if !m.Complete() && !m.Interrupted {
				return &exitError{code: exitCheckFailed, err: fmt.Errorf("results merge: %d of %d shards merged: thresholds not judged on part of the fleet",
					len(m.Shards), m.Shards[0].Count)}
			}
			return judge("results merge", summary, m)
		},
	}
	merge.Flags().StringVarP(&out, "out", "o", "", "write the merged results JSON here (- for stdout)")
	renamed(merge.Flags(), "output", "out")
	return merge
}

// newResultsShowCmd is `shakedown results show`.
func newResultsShowCmd() *cobra.Command {
	var figures bool
	show := &cobra.Command{
		Use:   "show FILE",
		Short: "Print the summary table of a results file",
		Example: `  shakedown results show fleet.json
  shakedown results show --figures fleet.json | grep handshake_p99_ms`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := readResults(args[0])
			if err != nil {
				return err
			}
			if figures {
				return simulator.WriteFigures(cmd.OutOrStdout(), r)
			}
			if err := simulator.WriteSummary(cmd.OutOrStdout(), r); err != nil {
				return err
			}
			if r.Interrupted {
				return nil
			}
			vs, err := simulator.Evaluate(r)
			if err != nil {
				return err
			}
			return simulator.WriteVerdicts(cmd.OutOrStdout(), vs)
		},
	}
	show.Flags().BoolVar(&figures, "figures", false, "print the headline numbers as name=value lines (rates, p50/p99 in ms, KiB per device)")
	return show
}

func readResults(path string) (*simulator.Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := simulator.DecodeResults(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
