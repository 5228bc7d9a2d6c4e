"""Everything that reads finished runs: per-run figures (plots/), the analyses they draw (analysis/),
the paper figures, the HTML report, the progress bar and closing table, and `ticketlab status`.
Figures read only the results store; only `ticketlab figure` trains what a paper figure lacks."""
