"""Reliability campaigns (issues 14 and 22; their figures are in docs/RELIABILITY.md), each run
as a module from the repository root: `python -m bench.reliability.kill_resume --quick`.

Campaigns: `kill_resume` (SIGKILL `rnnkit train`, resume, compare), `distributed_kill` (one
process of a two-process torchrun run killed), `numerics` (extreme learning rates, NaN/inf),
`disk_faults` (full, read-only and damaged disks; its helpers `disk_fault_checks` and
`disk_fault_damage`), `fuzz` (atheris over the readers and loaders; its harness bodies in
`harnesses`, their seeds in `fuzz_seeds` and `fuzz_checkpoints`), `unbounded` (issue 22's
unbounded inputs), `web_load` (a bounded load test of the demo page's endpoints) and
`web_schema` (schemathesis over the web API's OpenAPI schema). tests/reliability runs short
versions of them: `from bench.reliability import kill_resume`.
"""
