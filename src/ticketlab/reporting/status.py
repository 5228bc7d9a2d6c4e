"""`ticketlab status`: what is done, running and failed in one run directory or a whole store."""

from __future__ import annotations

from pathlib import Path

from ticketlab.core.errors import ConfigError
from ticketlab.store import files, paths
from ticketlab.store.completion import read_events, seed_complete, verify_seed
from ticketlab.store.lock import holder
from ticketlab.store.rundir import load_run_config


def find_runs(root: Path) -> list[Path]:
    root = Path(root)
    if not root.is_dir():
        raise ConfigError("status", f"{root} is not a directory")
    if paths.config_file(root).exists():
        return [root]
    runs = sorted(p.parent for p in root.glob("*/config.json"))
    runs += sorted(p.parent for p in root.glob("experts/*/config.json"))
    if not runs:
        raise ConfigError("status", f"{root} holds no ticketlab run (no */config.json)")
    return runs


def run_status(run: Path, verify: bool = False) -> dict:
    cfg = load_run_config(run)
    meta = files.load_json(paths.config_file(run))
    seeds = []
    for seed in range(cfg.seeds):
        done = [lv for lv in range(cfg.levels) if seed_complete(run, lv, seed)]
        bad = [p for lv in done for p in verify_seed(run, lv, seed)] if verify else []
        seeds.append({"seed": seed, "levels_done": len(done), "running": holder(run, seed), "corrupt": bad})
    events = read_events(run)
    failed_chains = [e for e in events if e["event"] == "chain_failed"]
    failed_tasks = [e for e in events if e["event"] == "task_failed"]
    finished = all(s["levels_done"] == cfg.levels for s in seeds)
    running = any(s["running"] for s in seeds)
    state = "running" if running else ("done" if finished else ("failed" if failed_tasks else "incomplete"))
    return {
        "run": str(run),
        "config": cfg,
        "state": state,
        "seeds": seeds,
        "failed_chains": failed_chains,
        "failed_tasks": failed_tasks,
        "recomputed": [e for e in events if e["event"] == "corrupt_recomputed"],
        "provenance": meta.get("provenance", {}),
    }


def format_status(st: dict) -> str:
    cfg = st["config"]
    lines = [f"{st['run']}  [{st['state']}]  {cfg.algo} on {cfg.env.name}, {cfg.seeds} seeds x {cfg.levels} levels"]
    for s in st["seeds"]:
        extra = ""
        if s["running"]:
            r = s["running"]
            extra = f"  running: pid {r.get('pid')} on {r.get('host')} since {r.get('since')}"
        if s["corrupt"]:
            extra += f"  CORRUPT: {s['corrupt'][0]}"
        lines.append(f"  seed {s['seed']}: {s['levels_done']}/{cfg.levels} levels done{extra}")
    for e in st["failed_chains"]:
        lines.append(f"  failed chain: seed {e['seed']} {e['condition']} at level {e['level']}: {e['reason']}")
    for e in st["failed_tasks"]:
        lines.append(f"  failed task: seeds {e['seeds']}: {e['error']}")
    for e in st["recomputed"]:
        lines.append(f"  recomputed: level {e['level']} seed {e['seed']} ({e['problems'][0]})")
    p = st["provenance"]
    if p:
        versions = ", ".join(f"{k} {v}" for k, v in p.get("versions", {}).items() if v)
        lines.append(
            f"  provenance: {p.get('jax_backend')} {p.get('devices')}, XLA_FLAGS={p.get('xla_flags') or '-'}, "
            f"host {p.get('host')}, python {p.get('python')}"
        )
        lines.append(f"              {versions}")
        lines.append(f"              command: {' '.join(p.get('command', []))}")
    return "\n".join(lines)
