"""How well the classes predict problems found in inspections (the seeds' "big data"
requirement): on a generated province, bootstrap a store, run two monthly runs, simulate
inspections from the hidden true risk and report per-class problem-found rates, D-over-A
lift, AUC, stability (PSI), and optionally weights learned from the outcomes."""
