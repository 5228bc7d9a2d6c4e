"""`ticketlab report`: one self-contained HTML page of one or more runs, read from their stores
alone: config and provenance, the statistics of the ticket effect (`analysis.ticket_stats`),
ticket curves with 95 % bootstrap bands, the minimal representation the ticket's first layer
keeps, layer densities, pixel maps for image inputs, and the events log. Figures are the
`plots` package's own, rendered to inline PNG; the page loads nothing from anywhere."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ticketlab.agents.registry import run_spec
from ticketlab.core.config import ExperimentConfig
from ticketlab.core.errors import ConfigError
from ticketlab.envs.base import EnvSpec
from ticketlab.pruning.conditions import CONDITIONS, DENSE, short_name, style
from ticketlab.pruning.summaries import input_module
from ticketlab.reporting.analysis.images import is_conv, pixel_maps
from ticketlab.reporting.analysis.mask_overlap import chance, overlap_rows
from ticketlab.reporting.analysis.ticket_stats import (
    REPS,
    THRESHOLD,
    TicketStats,
    failed_count,
    finished_seeds,
    ticket_stats,
    with_failures,
)
from ticketlab.reporting.plots import figure_makers
from ticketlab.reporting.plots.common import chains, png_bytes
from ticketlab.reporting.plots.input_groups import input_group_table
from ticketlab.reporting.plots.mask_overlap import mask_overlap_figure
from ticketlab.reporting.plots.plasticity import PANELS as PLASTICITY_PANELS
from ticketlab.reporting.plots.plasticity import measured
from ticketlab.reporting.plots.ticket import ticket_figure
from ticketlab.reporting.progress import return_cell
from ticketlab.store import files, paths
from ticketlab.store.completion import read_events
from ticketlab.store.results import load_metrics
from ticketlab.store.rundir import load_run_config

SUFFIXES = (".html", ".htm")
TICKET = "mask_weights"
MAX_NAMED_INPUTS = 32
"""Above this many flat inputs the representation table lists counts and the largest shares."""
FIGURE_DPI = 110
NOTHING_FINISHED = '<p class="bad">No run of this store finished (every chain failed).</p>'


@dataclass(frozen=True)
class RunReport:
    """What the page shows of one run, read from its store."""

    run: Path
    cfg: ExperimentConfig
    meta: dict
    """config.json: config, hash, hashed fields, provenance."""
    spec: EnvSpec
    rows: list[dict]
    """Every metrics row, failed chains scoring the floor at their level and later (`with_failures`)."""
    ok_rows: list[dict]
    """The rows of runs that finished (what the input and layer analyses read)."""
    stats: TicketStats
    events: list[dict]


def check_out(out: str) -> Path:
    """--out: an .html file (not a directory); refused before anything is read or written."""
    path = Path(out)
    if path.suffix.lower() not in SUFFIXES:
        raise ConfigError("out", f"{out!r} must end in {' or '.join(SUFFIXES)}")
    if path.is_dir():
        raise ConfigError("out", f"{out} is a directory; name the report file, e.g. {path / 'report.html'}")
    return path


def check_run(path: str) -> Path:
    """A run directory: a directory with config.json and at least one finished level."""
    run = Path(path)
    if not run.is_dir():
        raise ConfigError("run", f"{run} is not a directory")
    if not paths.config_file(run).exists():
        raise ConfigError("run", f"{run} is not a ticketlab run directory (no config.json)")
    return run


def load_run(run: Path, reps: int = REPS) -> RunReport:
    cfg = load_run_config(run)
    spec = run_spec(cfg)
    raw = load_metrics(run, include_failed=True)
    if not raw:
        raise ConfigError("run", f"{run} has no finished level yet; run it first")
    rows = with_failures(raw, finished_seeds(run), spec.return_floor)
    return RunReport(
        run,
        cfg,
        files.load_json(paths.config_file(run)),
        spec,
        rows,
        [r for r in raw if r.get("status", "ok") == "ok"],
        ticket_stats(rows, spec.return_floor, reps),
        read_events(run),
    )


# --- small HTML pieces ------------------------------------------------------------------------


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    """An HTML table; cells are HTML already (escape text with `esc`)."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def figure_img(fig, alt: str) -> str:
    """A matplotlib figure as an inline base64 PNG (the figure is closed)."""
    data = base64.b64encode(png_bytes(fig, FIGURE_DPI)).decode("ascii")
    return f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{data}"></figure>'


def swatch(condition: str) -> str:
    colour, label = style(condition)
    return f'<span class="sw" style="background:{esc(colour)}"></span>{esc(label)}'


def conditions_of(rows: list[dict]) -> list[str]:
    present = {r["condition"] for r in rows if r["condition"] != DENSE}
    return [c for c in CONDITIONS.names() if c in present] + sorted(present - set(CONDITIONS.names()))


def level_percent(rows: list[dict], level: int) -> float:
    """The IMP count's percent of weights remaining at a level (structured chains differ)."""
    values = [round(100 * r["density"], 2) for r in rows if r["level"] == level]
    return max(set(values), key=values.count)


# --- sections ---------------------------------------------------------------------------------


def provenance_section(rep: RunReport) -> str:
    prov = rep.meta.get("provenance", {})
    versions = ", ".join(f"{k} {v}" for k, v in sorted(prov.get("versions", {}).items()))
    fields = rep.meta.get("hashed_fields", {})
    items = [
        ("run directory", f"<code>{esc(rep.run.resolve())}</code>"),
        ("config hash", f"<code>{esc(rep.meta.get('hash', ''))}</code>"),
        ("environment", esc(rep.spec.id)),
        ("seeds x levels", esc(f"{rep.cfg.seeds} x {rep.cfg.levels}")),
        ("conditions", ", ".join(swatch(c) for c in conditions_of(rep.rows))),
        (
            "fields off their defaults",
            "<br>".join(f"<code>{esc(k)} = {esc(json.dumps(v))}</code>" for k, v in fields.items()) or "none",
        ),
        ("command line", f"<code>{esc(' '.join(prov.get('command', [])))}</code>"),
        ("host", esc(prov.get("host", ""))),
        ("platform", esc(f"{prov.get('platform', '')}, Python {prov.get('python', '')}")),
        ("JAX backend, devices", esc(f"{prov.get('jax_backend', '')}: {', '.join(prov.get('devices', []))}")),
        ("XLA flags", f"<code>{esc(prov.get('xla_flags', '') or 'none')}</code>"),
        ("versions", esc(versions)),
    ]
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in items)
    config = esc(json.dumps(rep.meta.get("config", {}), indent=1, sort_keys=True))
    return f'<table class="kv">{rows}</table><details><summary>full config.json</summary><pre>{config}</pre></details>'


def retention_section(rep: RunReport, figure: str) -> str:
    """The ticket curves beside the one number per condition: the fewest weights left at which
    its mean normalized return still reaches THRESHOLD of dense, with its 95 % CI."""
    retained = [
        [
            swatch(c),
            esc(f"{r.percent:.3g}% ({r.low:.3g}-{r.high:.3g})"),
            esc(r.seeds),
            f'<span class="bad">{r.failed}</span>' if r.failed else "0",
        ]
        for c in conditions_of(rep.rows)
        for r in [rep.stats.retention.get(c)]
        if r is not None
    ]
    floor = rep.spec.return_floor
    assumed = "" if rep.spec.floor_known else " (floor assumed 0: the environment has none; set --env.return-floor)"
    numbers = table(["condition", "weights left (95% CI)", "seeds", "failed"], retained)
    side = (
        f"<h4>Fewest weights left at which the mean still reaches {100 * THRESHOLD:.0f}&nbsp;% of dense</h4>"
        + (f"<p class=note>{esc(rep.stats.no_retention)}</p>" if rep.stats.no_retention else numbers)
        + f"<p class=note>Normalized return (R &minus; floor) / (dense mean &minus; floor), floor {floor:g}{assumed}, "
        "mean over seeds; the curves' bands and these intervals are 95&nbsp;% stratified bootstrap "
        f"intervals ({REPS:,} resamples of the seeds; for this number whole chains are resampled and "
        "the number recomputed). A failed run counts as the floor (normalized 0) at its level and "
        "every later one.</p>"
    )
    return f'<div class="row"><div>{figure}</div><div class="side">{side}</div></div>'


def level_stats_section(rep: RunReport) -> str:
    """Normalized return per level and condition: mean and 95 % bootstrap CI over seeds."""
    conditions = conditions_of(rep.rows)
    by = {(s.condition, s.level): s for s in rep.stats.levels}
    cells = []
    for lv in sorted({s.level for s in rep.stats.levels}):
        row = [esc(lv), esc(f"{level_percent(rep.rows, lv):g}%")]
        for c in conditions:
            s = by.get((c, lv))
            text = "" if s is None else f"{s.mean:.2f} <small>({s.low:.2f}&ndash;{s.high:.2f})</small>"
            if s is not None and abs(s.percent - level_percent(rep.rows, lv)) > 0.05:
                text += f" <small>@ {s.percent:.1f}%</small>"
            if s is not None and s.failed:
                text += f' <span class="bad">failed ({s.failed} of {s.seeds} seeds)</span>'
            row.append(text)
        cells.append(row)
    kind = "Raw (not normalized: see above)" if rep.stats.no_retention else "Normalized"
    return f"<h4>{kind} best return per level (mean, 95&nbsp;% CI)</h4>" + table(
        ["level", "weights left", *[swatch(c) for c in conditions]], cells
    )


def returns_section(rep: RunReport) -> str:
    conditions = [DENSE, *conditions_of(rep.rows)]
    body = []
    for lv in sorted({r["level"] for r in rep.rows}):
        at = [r for r in rep.rows if r["level"] == lv]
        row = [esc(lv), esc(f"{level_percent(rep.rows, lv):g}%")]
        for c in conditions:
            own = [r for r in at if r["condition"] == c]
            cell = esc(return_cell([r["best_return"] for r in own], failed_count(own)))
            row.append(cell.replace("failed", '<span class="bad">failed', 1) + "</span>" if failed_count(own) else cell)
        body.append(row)
    return "<h4>Best evaluation return (mean &plusmn; sd over seeds, ddof = 1)</h4>" + table(
        ["level", "weights left", *[swatch(c) if c != DENSE else "dense" for c in conditions]], body
    )


def ticket_chain(rows: list[dict]) -> tuple[str, list[dict]]:
    """The condition whose first layer the representation tables read (the ticket if present) and
    its chain: the dense level 0, then its own levels."""
    conditions = conditions_of(rows)
    condition = TICKET if TICKET in conditions else (conditions[0] if conditions else DENSE)
    return condition, [r for r in rows if r["level"] == 0 or r["condition"] == condition]


def representation_rows(chain: list[dict], spec) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of what the first layer keeps per level, mean over seeds: for a few named
    inputs (or a conv layer's channels) each one's share of the cumulative |W| and its surviving
    connections; for image inputs each channel's pixels that keep a connection; for many flat
    inputs the count kept and the largest shares."""
    module = input_module(chain[0])
    layer = chain[0]["input_layer"][module]
    conv = is_conv(chain[0])
    n = len(layer["kept"])
    if spec.image_layout is not None and not conv:
        header, rows = pixel_rows(chain, spec)
        return header, rows
    names = list(spec.channel_names if conv else spec.obs_names)
    names = names if len(names) == n else [f"input {i}" for i in range(n)]
    header = ["level", "weights left", "inputs kept (all seeds)"]
    header += [esc(x) for x in names] if n <= MAX_NAMED_INPUTS else ["largest shares of |W|"]
    rows = []
    for lv in sorted({r["level"] for r in chain}):
        at = [r for r in chain if r["level"] == lv]
        kept = np.array([r["input_layer"][module]["kept"] for r in at], float)
        mag = np.array([r["input_layer"][module]["magnitude"] for r in at], float)
        share = (mag / np.where(mag.sum(axis=1, keepdims=True) > 0, mag.sum(axis=1, keepdims=True), 1)).mean(axis=0)
        alive = (kept > 0).all(axis=0)
        row = [esc(lv), esc(f"{100 * np.mean([r['density'] for r in at]):.3g}%"), esc(f"{int(alive.sum())} of {n}")]
        if n <= MAX_NAMED_INPUTS:
            row += [
                f"{100 * share[i]:.1f}% <small>&middot; {count(kept[:, i].mean())}</small>"
                if kept[:, i].any()
                else '<span class="gone">removed</span>'
                for i in range(n)
            ]
        else:
            top = np.argsort(-share)[:5]
            row.append(", ".join(f"{esc(names[i])} {100 * share[i]:.1f}%" for i in top))
        rows.append(row)
    return header, rows


def count(mean: float) -> str:
    """A mean connection count: whole above 10, one decimal below (a last connection in one seed)."""
    return f"{mean:.0f}" if mean >= 10 else f"{mean:.1f}"


def pixel_rows(chain: list[dict], spec) -> tuple[list[str], list[list[str]]]:
    """Image inputs, dense first layer: per channel the pixels with a surviving connection (mean
    over seeds, of height x width) and the channel's share of the cumulative |W|."""
    channels = list(spec.channel_names)
    header = ["level", "weights left", *[esc(c) for c in channels]]
    rows = []
    for lv in sorted({r["level"] for r in chain}):
        at = [r for r in chain if r["level"] == lv]
        maps = [pixel_maps(r, tuple(spec.obs_shape), spec.image_layout) for r in at]
        pixels = np.mean([(m["kept"] > 0).reshape(len(channels), -1).sum(axis=1) for m in maps], axis=0)
        mag = np.array([m["magnitude"].reshape(len(channels), -1).sum(axis=1) for m in maps])
        share = (mag / np.maximum(mag.sum(axis=1, keepdims=True), 1e-30)).mean(axis=0)
        size = maps[0]["kept"][0].size
        rows.append(
            [
                esc(lv),
                esc(f"{100 * np.mean([r['density'] for r in at]):.3g}%"),
                *[
                    f"{pixels[c]:.0f} of {size} pixels <small>&middot; {100 * share[c]:.1f}% of |W|</small>"
                    for c in range(len(channels))
                ],
            ]
        )
    return header, rows


def representation_section(rep: RunReport) -> str:
    condition, chain = ticket_chain(rep.ok_rows)
    if not chain:
        return NOTHING_FINISHED
    header, rows = representation_rows(chain, rep.spec)
    module = input_module(chain[0])
    layer = chain[0]["input_layer"][module].get("layer", "dense_0")
    return (
        f"<p>What the first layer (<code>{esc(module)}/{esc(layer)}</code>) of {swatch(condition)} keeps, "
        "mean over seeds: each input's share of the layer's cumulative |W| &middot; its surviving "
        "connections; an input with no connection left in any seed is removed. "
        "\u201cinputs kept\u201d counts those with a connection in every seed.</p>" + table(header, rows)
    ) + (group_section(chain, rep.spec) if rep.spec.obs_groups else "")


def group_section(chain: list[dict], spec) -> str:
    """The parts of a structured observation (`EnvSpec.obs_groups`): each part's first-layer
    connections kept, per level, mean over seeds."""
    levels, dens, fractions = input_group_table(chain, spec.obs_groups)
    header = ["part", *[esc(f"level {lv} ({100 * d:.3g}%)") for lv, d in zip(levels, dens)]]
    rows = [[esc(g), *[f"{100 * f:.1f}%" for f in frac]] for g, frac in fractions.items()]
    return (
        "<p>The observation's parts: the share of each part's first-layer connections kept, per level "
        "(mean over seeds).</p>" + table(header, rows)
    )


def layers_section(rep: RunReport) -> str:
    condition, chain = ticket_chain(rep.ok_rows)
    if not chain:
        return NOTHING_FINISHED
    layers = list(chain[-1]["layer_density"])
    rows = []
    for lv in sorted({r["level"] for r in chain}):
        at = [r for r in chain if r["level"] == lv]
        rows.append(
            [esc(lv), *[esc(f"{100 * np.mean([r['layer_density'].get(k, 1.0) for r in at]):.3g}%") for k in layers]]
        )
    return f"<p>Percent of each prunable layer that remains under {swatch(condition)}, mean over seeds.</p>" + table(
        ["level", *[f"<code>{esc(k)}</code>" for k in layers]], rows
    )


def figures_section(rep: RunReport) -> dict[str, str]:
    """Every figure of the run as inline PNG, by its file stem; the ticket curves with the 95 %
    bootstrap bands of the statistics."""
    out = {}
    for name, make in figure_makers(rep.cfg, rep.ok_rows) if rep.ok_rows else ():
        if name == "ticket":
            fig = ticket_figure(rep.rows, rep.cfg, intervals=rep.stats.levels)
        else:
            fig = make(rep.ok_rows, rep.cfg)
        out[name] = figure_img(fig, f"{rep.cfg.name}: {name}")
    return out


def plasticity_section(rep: RunReport) -> str:
    """Per level and condition, at the best checkpoint: the policy network's 0.1-dormant units
    (mean over hidden layers), the srank of its last hidden layer, its kernels' L2 norm."""
    rows = measured(rep.ok_rows)
    if not rows:
        return (
            '<p class="note">No plasticity metrics: the agent does not say what its networks see, '
            "or the store predates them.</p>"
        )
    module = input_module(rows[0])
    cells = []
    for condition, chain in chains(rows).items():
        for level in sorted({r["level"] for r in chain}):
            at = [r["plasticity"]["best"][module] for r in chain if r["level"] == level]
            values = [[panel[1](m) for m in at] for panel in PLASTICITY_PANELS]
            cells.append([esc(level), esc(short_name(condition)), *[esc(f"{np.mean(v):.3g}") for v in values]])
    header = ["level", "condition", "dormant units, tau 0.1 (%)", "srank", "kernel L2 norm"]
    note = (
        "<p class=\"note\">ReDo's dormant units, Kumar et al.'s srank (delta 0.01) and the kernels' norm, "
        "on a batch of the agent's own observations; mean over seeds.</p>"
    )
    return note + table(header, cells)


def overlap_section(rep: RunReport) -> str:
    """The Jaccard overlap of masks between seeds and against the ticket, all layers and per layer."""
    overlaps = overlap_rows(rep.run, rep.ok_rows)
    if not overlaps:
        return '<p class="note">No masks to compare (one seed and one condition).</p>'
    levels = sorted({o["level"] for o in overlaps})
    shown = set(levels[:: max(1, len(levels) // 6)]) | {levels[-1]}
    cells = [
        [
            esc(o["level"]),
            esc(f"{100 * o['density']:.3g}%"),
            esc(short_name(o["condition"])),
            esc(o["kind"]),
            esc(o["layer"]),
            esc(f"{o['jaccard']:.3f}"),
            esc(f"{chance(o['density']):.3f}"),
        ]
        for o in overlaps
        if o["level"] in shown
    ]
    header = ["level", "weights left", "condition", "between", "layer", "Jaccard", "random masks"]
    return figure_img(mask_overlap_figure(overlaps, rep.cfg), f"{rep.cfg.name}: mask overlap") + table(header, cells)


def events_section(rep: RunReport) -> str:
    if not rep.events:
        return "<p>No events: no chain failed, no file was recomputed, no task failed.</p>"
    rows = []
    for e in rep.events:
        rest = {k: v for k, v in e.items() if k not in ("time", "event", "host", "pid")}
        cls = "bad" if "fail" in e.get("event", "") else ""
        rows.append(
            [
                esc(e.get("time", "")),
                f'<span class="{cls}">{esc(e.get("event", ""))}</span>',
                esc(f"{e.get('host', '')} pid {e.get('pid', '')}"),
                "<code>" + esc(", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(rest.items()))) + "</code>",
            ]
        )
    return table(["time", "event", "where", "details"], rows)


# --- the page ---------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Helvetica,Arial,sans-serif;
     margin:0;color:#1d2330;background:#fff;line-height:1.45;font-size:15px}
header{background:#1f3a5f;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:24px} header p{margin:4px 0 0;color:#c9d6e8}
main{max-width:1100px;margin:0 auto;padding:8px 32px 48px}
nav{background:#f3f6fa;border:1px solid #dde4ee;border-radius:6px;padding:10px 18px;margin:18px 0}
nav ol{margin:4px 0;padding-left:22px} nav a{color:#1f4f8f;text-decoration:none}
h2{border-bottom:2px solid #1f3a5f;padding-bottom:4px;margin-top:36px;color:#1f3a5f}
h3{margin-top:26px;color:#2b4870} h4{margin:16px 0 6px}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d5dce6;padding:3px 8px;text-align:right;vertical-align:top}
thead th{background:#e8eef6} tbody tr:nth-child(even){background:#f7f9fc}
table.kv th{text-align:left;background:#eef2f8;white-space:nowrap} table.kv td{text-align:left}
code,pre{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:8px;max-height:360px;overflow:auto}
figure{margin:10px 0} img{max-width:100%;border:1px solid #e3e7ee}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:baseline}
.row{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap} .side{flex:1;min-width:320px}
.bad{color:#b42318;font-weight:600} .gone{color:#98a2b3} small{color:#5b6577} .note{color:#5b6577;font-size:13px}
"""


def run_sections(rep: RunReport, i: int) -> tuple[str, list[tuple[str, str]]]:
    """(HTML, table-of-contents entries (anchor, title)) of one run."""
    figs = figures_section(rep)
    image_figs = "".join(figs[k] for k in figs if k not in ("ticket", "layer_density", "plasticity"))
    parts = [
        ("provenance", "Config and provenance", provenance_section(rep)),
        ("ticket", "The ticket effect", retention_section(rep, figs.get("ticket", ""))),
        ("levels", "Per level", level_stats_section(rep) + returns_section(rep)),
        ("representation", "Minimal representation", representation_section(rep) + image_figs),
        ("layers", "Layer densities", layers_section(rep) + figs.get("layer_density", "")),
        ("plasticity", "Plasticity", plasticity_section(rep) + figs.get("plasticity", "")),
        ("overlap", "Mask overlap", overlap_section(rep)),
        ("events", "Events", events_section(rep)),
    ]
    anchor = f"run{i}"
    body = f'<h2 id="{anchor}">{esc(rep.run.name)}</h2>'
    body += "".join(f'<h3 id="{anchor}-{key}">{esc(title)}</h3>{content}' for key, title, content in parts)
    return body, [(anchor, rep.run.name)] + [(f"{anchor}-{key}", title) for key, title, _ in parts]


def render(reports: list[RunReport]) -> str:
    """The whole page."""
    sections, toc = [], []
    for i, rep in enumerate(reports):
        body, entries = run_sections(rep, i)
        sections.append(body)
        toc.append(
            f'<li><a href="#{entries[0][0]}">{esc(entries[0][1])}</a><ol>'
            + "".join(f'<li><a href="#{a}">{esc(t)}</a></li>' for a, t in entries[1:])
            + "</ol></li>"
        )
    names = ", ".join(rep.run.name for rep in reports)
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>ticketlab report: {esc(names)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>ticketlab report</h1><p>{esc(names)}</p></header><main>"
        f"<nav><b>Contents</b><ol>{''.join(toc)}</ol></nav>{''.join(sections)}</main></body></html>"
    )


def write_report(runs: list[str], out: str, reps: int = REPS) -> Path:
    """Check every input, then write the page to `out` atomically (nothing else is written)."""
    path = check_out(out)
    dirs = [check_run(r) for r in runs]
    files.save_text(path, render([load_run(run, reps) for run in dirs]))
    return path
