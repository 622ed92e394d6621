"""A self-contained markdown report of one run directory (`allocplot report`):
the method (command, machine, toolchain, repetitions, seeds, the harness's own
cost), ratio tables to a baseline with CIs and significance marks, the
figures, the cells that did not run to completion and the command that
regenerates the report.

Each section is built as a string by a function of the loaded run (see
load_run), so the sections can be tested on fixtures; write_report puts them
together and writes report.md and figures/.
"""
import json
import os
import shlex

import numpy as np
import pandas as pd

from allocplot import plot
from allocplot.load import SchemaError, load_results, ok_rows
from allocplot.significance import (_caption, cell_samples, compare_frames, format_ci,
                                    median_ci, small_n_warning, stats_table)
from allocplot.stats import (CALIBRATION, HIGHER_IS_BETTER, NET_METRICS, ROW, metric_note,
                             select_rows, to_markdown)

# The memory metric of the report: RSS the workload made the allocator use,
# net of the harness's footprint (docs/csv_schema.md).
MEMORY_METRIC = "peak_rss_net_bytes"

# How the baseline's own median is shown: (unit, factor from the column's unit).
UNITS = {"net_ns_per_op": ("ns/op", 1.0), "ns_per_op": ("ns/op", 1.0),
         "peak_rss_net_bytes": ("KiB", 1.0 / 1024)}

MISSING = "–"  # a cell without an ok row of that allocator

# Ratio columns per table: wider tables are split into parts.
COLUMNS_PER_TABLE = 6

# A "not drawn" list longer than this is folded into a <details> block.
LONG_LIST = 10

FAILED_STATUSES = ["crashed", "timeout", "oom", "error"]

# The repository root: scripts/allocplot/ is two levels below it.
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _read_json(path):
    """The object in `path`; None when the file does not exist; SchemaError,
    naming the file, when it is not a JSON object."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as e:
        raise SchemaError(f"{path}: not valid JSON ({e})")
    if not isinstance(data, dict):
        raise SchemaError(f"{path}: not a JSON object")
    return data


def load_run(results_dir):
    """{"dir", "df", "context", "run", "resumes"} of an allocbench run
    directory: results.csv (load_results), context.json and run.json (None
    when absent), and the context.resume-N.json of each resume, in order.
    A results.csv path is taken as its directory. SchemaError, one line, for
    a missing directory, a missing results.csv or a file that does not parse."""
    if os.path.isfile(results_dir) and results_dir.endswith(".csv"):
        results_dir = os.path.dirname(results_dir) or "."
    if not os.path.isdir(results_dir):
        raise SchemaError(f"{results_dir}: no such directory")
    csv = os.path.join(results_dir, "results.csv")
    if not os.path.isfile(csv):
        raise SchemaError(f"{results_dir}: no results.csv (not an allocbench run directory)")
    resumes, k = [], 1
    while True:
        ctx = _read_json(os.path.join(results_dir, f"context.resume-{k}.json"))
        if ctx is None:
            break
        resumes.append(ctx)
        k += 1
    return {"dir": results_dir, "df": load_results(csv),
            "context": _read_json(os.path.join(results_dir, "context.json")),
            "run": _read_json(os.path.join(results_dir, "run.json")), "resumes": resumes}


def _plural(n, noun):
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _code(text):
    return f"`{text}`" if text not in (None, "") else "(not recorded)"


def _block(text):
    return f"```sh\n{text}\n```"


def reproduce_command(run):
    """The allocbench command that repeats the run, from run.json's args (the
    arguments as given, less --force, which run.json never stores); None
    without run.json. `--force` is added so it may replace the run's own
    directory."""
    if not run or not isinstance(run.get("args"), list):
        return None
    return shlex.join(["build/allocbench", "run"] + [str(a) for a in run["args"]] + ["--force"])


def _counts_text(ns):
    ns = sorted({int(n) for n in ns})
    if not ns:
        return "none"
    return str(ns[0]) if len(ns) == 1 else f"{ns[0]}-{ns[-1]} (differs between cells)"


def consistency_warnings(loaded):
    """Lines on what makes the run harder to reproduce or to read: a dirty
    tree, toolchain.lock mismatches, several run ids, files that disagree."""
    df, ctx, run = loaded["df"], loaded["context"] or {}, loaded["run"] or {}
    out = []
    if loaded["context"] is None:
        out.append("context.json is missing: the machine and toolchain are unknown.")
    if loaded["run"] is None:
        out.append("run.json is missing: the run's arguments are known only from "
                   "context.json's command line.")
    ids = sorted(set(df["run_id"]))
    merged = ctx.get("merged_from")
    if isinstance(merged, list):
        # allocbench merge: one run id per shard is expected, each shard's
        # context is under hosts/.
        hosts = sorted({str(m.get("host", "")) for m in merged if isinstance(m, dict)})
        out.append(f"Merged from {_plural(len(merged), 'shard')} (run ids {', '.join(ids)}) on "
                   f"{_plural(len(hosts), 'host')} ({', '.join(hosts)}): the machine table is "
                   f"the first shard's, every ratio is taken within one host.")
        ids = []
    if len(ids) > 1:
        out.append(f"results.csv holds {len(ids)} run ids ({', '.join(ids)}): rows of "
                   "different runs are mixed.")
    for name, meta in (("context.json", ctx), ("run.json", run)):
        if meta.get("run_id") and ids and meta["run_id"] not in ids:
            out.append(f"{name} is of run {meta['run_id']}, results.csv of {', '.join(ids)}.")
    if ctx.get("git_dirty") or str(run.get("git_commit", "")).endswith("-dirty"):
        out.append("The source tree had uncommitted changes when the run was built or "
                   "started: the commit alone does not reproduce it.")
    for m in ctx.get("lock_mismatches") or []:
        out.append(f"toolchain.lock mismatch: {m}.")
    for i, r in enumerate(loaded["resumes"], 1):
        for m in r.get("lock_mismatches") or []:
            if m not in (ctx.get("lock_mismatches") or []):
                out.append(f"toolchain.lock mismatch at resume {i}: {m}.")
    return out


def command_section(loaded):
    """The command that made the run, how to repeat it and its resumes."""
    ctx, run = loaded["context"] or {}, loaded["run"] or {}
    lines = ["### Command", "", "The run was started with (context.json):", "",
             _block(ctx.get("command_line") or "(not recorded)"), ""]
    for i, r in enumerate(loaded["resumes"], 1):
        lines += [f"Resume {i}, started {r.get('start_time', '?')}:", "",
                  _block(r.get("command_line") or "(not recorded)"), ""]
        if r.get("notes"):
            lines += [f"Its note: {r['notes']}", ""]
    commit = run.get("git_commit") or ctx.get("git_commit")
    repro = reproduce_command(loaded["run"])
    if repro:
        lines += [f"To repeat it: check out commit {_code(commit)}, build with `make build` "
                  f"(build flags {_code(run.get('build_flags') or ctx.get('build_flags'))}), "
                  "then run (run.json's arguments):", "", _block(repro), ""]
    return "\n".join(lines)


def _two_columns(rows, key, value):
    """A markdown table of (key, value) pairs under the headers `key`, `value`."""
    t = pd.DataFrame({value: [v for _, v in rows]}, index=pd.Index([k for k, _ in rows],
                                                                    name=key))
    return to_markdown(t)


def _config_value(v):
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def plan_section(loaded):
    """The plan (run.json's config, else context.json's) next to what
    results.csv holds: rows by status, repetitions per cell, seeds."""
    df = loaded["df"]
    config = (loaded["run"] or {}).get("config") or (loaded["context"] or {}).get("config") or {}
    labels = [("allocators", "allocators"), ("workloads", "workloads (workload:profile)"),
              ("threads", "threads"), ("reps", "repetitions per cell"), ("seed", "seed"),
              ("ops", "operations per thread"), ("warmup", "untimed warm-up replays"),
              ("min_time_s", "timed replays repeated to at least (s)"),
              ("order", "order of the cells"), ("lat_sample", "latency: one op sampled in"),
              ("timeout_s", "timeout per cell (s)"), ("calibrate", "calibration (null adapter)"),
              ("no_aslr", "ASLR disabled")]
    rows = [(label, _config_value(config[key])) for key, label in labels if key in config]
    ok = ok_rows(df)
    reps = ok.groupby(["allocator", "workload", "profile", "threads"]).size()
    status = df["status"].value_counts()
    rows += [("rows in results.csv", f"{len(df)} (" + ", ".join(
                 f"{status[s]} {s}" for s in ["ok"] + sorted(set(status.index) - {"ok"})
                 if s in status) + ")"),
             ("ok repetitions per cell", _counts_text(reps.values)),
             ("seeds in results.csv", ", ".join(str(int(s)) for s in sorted(set(df["seed"]))))]
    return "\n".join(["### Plan", "", "Traces derive from (seed, workload, profile, thread "
                      "index) and are generated before the clock starts; every cell runs in "
                      "a child process of its own.", "", _two_columns(rows, "setting", "value"),
                      ""])


MACHINE_FIELDS = [("cpu_model", "CPU"), ("cpu_id", "CPU family, model, stepping"),
                  ("cores", "cores"), ("machine", "architecture"),
                  ("page_size", "page size (bytes)"), ("kernel", "kernel"),
                  ("compiler", "compiler"), ("glibc", "glibc"), ("build_flags", "build flags"),
                  ("git_commit", "git commit"), ("git_dirty", "uncommitted changes"),
                  ("thp_enabled", "transparent huge pages"), ("thp_defrag", "THP defrag"),
                  ("cpu_governor", "CPU governor"), ("loadavg_at_start", "load average at start"),
                  ("pinned_cpus", "pinned to CPUs"), ("aslr_disabled", "ASLR disabled"),
                  ("start_time", "started"), ("notes", "notes")]


def machine_section(loaded):
    """context.json in two tables: machine and toolchain, and the version
    each allocator reports (allocators that report the same one share a row)."""
    ctx = loaded["context"]
    lines = ["### Machine and toolchain", ""]
    if ctx is None:
        return "\n".join(lines + ["context.json is missing: not recorded.", ""])
    rows = []
    for key, label in MACHINE_FIELDS:
        if key not in ctx:
            continue
        v = ctx[key]
        if key == "loadavg_at_start" and isinstance(v, str):
            v = " ".join(v.split()[:3])
        if key == "pinned_cpus" and v == "":
            v = "not pinned"
        if key == "notes" and v == "":
            continue
        rows.append((label, _config_value(v)))
    hosts = loaded["df"]["host"].value_counts() if "host" in loaded["df"].columns else []
    if len(hosts) > 1 or (len(hosts) == 1 and hosts.index[0] != ""):
        rows.append(("hosts (rows)", ", ".join(f"{h or 'unnamed'} ({n})"
                                              for h, n in sorted(hosts.items()))))
    if (loaded["run"] or {}).get("binaries"):
        rows.append(("binaries (hash of the executables)", loaded["run"]["binaries"]))
    mism = ctx.get("lock_mismatches")
    if mism is not None:
        rows.append(("toolchain.lock mismatches", "; ".join(mism) if mism else "none"))
    lines += [_two_columns(rows, "context.json", "value"), ""]
    versions = ctx.get("allocator_versions") or {}
    in_run = set(loaded["df"]["allocator"])
    by_version = {}
    for a in plot.allocator_order(versions):
        if a in in_run:
            by_version.setdefault(str(versions[a]), []).append(a)
    if by_version:
        rows = [(v, ", ".join(a)) for v, a in by_version.items()]
        lines += ["Versions the allocators report about themselves:", "",
                  _two_columns(rows, "version reported", "allocators"), ""]
    return "\n".join(lines)


def time_metric(df):
    """The time metric of the report: net_ns_per_op when the run calibrated,
    else ns_per_op (raw, including the harness's own cost)."""
    return plot.throughput_metric(df)[0]


def _value_fmt(v):
    """The format of a value (and of its CI) in a table: 3 significant
    digits, no exponent from 1000 on."""
    return "{:,.0f}" if abs(v) >= 1000 else "{:.3g}"


def _fmt(v):
    return "n/a" if pd.isna(v) else _value_fmt(v).format(v)


def harness_cost(df):
    """Per (workload, profile, threads): the calibration's ns_per_op (the
    harness's own cost) median, its CI and n. Empty without calibration rows."""
    samples = cell_samples(df, "ns_per_op")
    rows = []
    for key in sorted(k for k in samples if k[0] == CALIBRATION):
        s = samples[key].values
        lo, hi = median_ci(s)
        rows.append(dict(zip(ROW, key[1:]), median=float(np.median(s)), lo=lo, hi=hi,
                         n=len(s)))
    return pd.DataFrame(rows, columns=ROW + ["median", "lo", "hi", "n"])


def harness_section(df, baseline):
    """The harness's own cost per cell, next to the baseline's raw time and
    the footprint subtracted from its RSS."""
    lines = ["### The harness's own cost", ""]
    h = harness_cost(df)
    if h.empty:
        return "\n".join(lines + [
            f"**Not measured**: the run has no ok rows of the calibration adapter "
            f"`{CALIBRATION}` (it was made with `--no-calibrate`, or the calibration "
            f"failed). The times below are raw `ns_per_op`, including the harness's own "
            f"cost, which is not known for this run.", ""])
    samples = cell_samples(df, "ns_per_op")
    rss = cell_samples(df, "baseline_rss_bytes")
    base_raw, share, foot = [], [], []
    for w, p, t, m in h[ROW + ["median"]].values:
        b = samples.get((baseline, w, p, t))
        raw = float(np.median(b.values)) if b is not None else float("nan")
        base_raw.append(_fmt(raw))
        share.append(f"{100 * m / raw:.0f}%" if raw > 0 else "n/a")
        f = rss.get((baseline, w, p, t))
        foot.append(_fmt(np.median(f.values) / 1024) if f is not None else "n/a")
    t = pd.DataFrame({
        "n": [str(n) for n in h["n"]],
        "harness ns/op [CI]": [format_ci(m, lo, hi) for m, lo, hi in
                               h[["median", "lo", "hi"]].values],
        f"{baseline} raw ns/op": base_raw,
        f"harness share of {baseline}'s raw time": share,
        f"{baseline} RSS before the replays, KiB": foot,
    }, index=pd.MultiIndex.from_frame(h[ROW]))
    lo, hi = h["median"].min(), h["median"].max()
    lines += [
        f"The times of section 2 are net of this cost: the calibration adapter `{CALIBRATION}` "
        f"replays the same trace with blocks that are already faulted in, and its median "
        f"`ns_per_op` per cell is subtracted from every allocator's (`net_ns_per_op`). "
        f"Over the cells it is {_fmt(lo)}-{_fmt(hi)} ns/op. The memory figures are net "
        f"of the RSS before the replays (`baseline_rss_bytes`: the harness's traces, slot "
        f"tables and stacks plus the allocator's initial state).", "",
        f"Table 1. The harness's own cost: median `ns_per_op` of `{CALIBRATION}` over its "
        f"{plot.n_text(h['n'])} ok repetitions per cell, [..] = 95% percentile bootstrap CI "
        f"of the median; beside it {baseline}'s raw `ns_per_op` (which includes it) and "
        f"`baseline_rss_bytes` (subtracted from its peak RSS), medians.", "",
        to_markdown(t), ""]
    return "\n".join(lines)


def method_section(loaded, df, baseline):
    """Section 1: how the figures were made, and what to be wary of. The
    plan describes the whole run; the harness's cost the selected rows `df`."""
    lines = ["## 1. Method", ""]
    warnings = consistency_warnings(loaded)
    if warnings:
        lines += ["**Caveats:**", ""] + [f"- {w}" for w in warnings] + [""]
    lines += [command_section(loaded), plan_section(loaded), machine_section(loaded),
              harness_section(df, baseline),
              "### Statistics", "",
              "Only ok rows count. Each cell (allocator, workload, profile, threads) is "
              "summarised by the median over its repetitions; ratios are the median of an "
              "allocator over the baseline's median in the same (workload, profile, "
              "threads). CIs are 95% percentile bootstrap intervals (10000 resamples, "
              "fixed seed, so the same file gives the same intervals), of the ratio paired "
              "by repetition when both sides hold the same repetitions of one run. A "
              "difference is marked significant (*) only when the two-sided Mann-Whitney "
              "U test gives p < 0.05 **and** the ratio's CI excludes 1 "
              "(`scripts/allocplot/significance.py`).", ""]
    return "\n".join(lines)


def _column_order(df, baseline, allocators):
    """The allocators a ratio table shows, baseline first: `allocators` in
    their order, else every one in allocator_order; never the calibration
    (the harness, in Table 1: its net time is ~0 and its memory is not
    measured)."""
    names = allocators or plot.allocator_order(df["allocator"])
    return [baseline] + [a for a in names if a not in (baseline, CALIBRATION)]


def ratio_cells(df, metric, baseline, allocators=None):
    """(display table, comparisons): one row per (workload, profile, threads)
    the baseline has ok rows of `metric` in; the baseline's median [CI] in its
    unit, then each allocator's ratio of medians to it [CI], ` *` where
    significant, MISSING where it has no ok row. `comparisons` is
    compare_frames' output for every allocator, concatenated."""
    unit, factor = UNITS.get(metric, ("", 1.0))
    base = {k[1:]: s for k, s in cell_samples(df, metric).items() if k[0] == baseline}
    if not base:
        raise ValueError(f"baseline allocator {baseline!r} has no ok rows with {metric}")
    keys = sorted(base)
    col = f"{baseline} median [CI], {unit}" if unit else f"{baseline} median [CI]"
    table = {col: []}
    for k in keys:
        s = base[k].values * factor
        m = float(np.median(s))
        table[col].append(format_ci(m, *median_ci(s), _value_fmt(m)))
    parts = []
    for a in _column_order(df, baseline, allocators)[1:]:
        pair = select_rows(df, [baseline, a])
        t = compare_frames(pair, pair, metric, a_alloc=baseline, b_alloc=a)
        parts.append(t)
        by_row = {tuple(r[ROW]): r for _, r in t.iterrows()}
        table[a] = [MISSING if k not in by_row else
                    format_ci(by_row[k]["ratio"], by_row[k]["ci_lo"], by_row[k]["ci_hi"]) +
                    (" *" if by_row[k]["significant"] else "") for k in keys]
    comparisons = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["n_a", "n_b", "ratio", "significant", "min_p"])
    return pd.DataFrame(table, index=pd.MultiIndex.from_tuples(keys, names=ROW)), comparisons


def column_parts(table, width=COLUMNS_PER_TABLE):
    """`table` split into tables of its first column and at most `width` of
    the others each, so a wide table stays readable."""
    rest = list(table.columns[1:])
    chunks = [rest[i:i + width] for i in range(0, len(rest), width)] or [[]]
    return [table[[table.columns[0]] + c] for c in chunks]


def significance_notes(comp, metric, baseline):
    """The lines under a ratio table: how many cells differ significantly,
    and the small-n warning (u_test_p never goes below its floor, ties or not)."""
    if comp.empty:
        return []
    sig = comp[comp["significant"].astype(bool)]
    better = (sig["ratio"] > 1.0) == (metric in HIGHER_IS_BETTER)
    nb, nw = int(better.sum()), int((~better).sum())
    lines = [f"Significant differences: {_plural(nb, 'cell')} better and {nw} worse than "
             f"{baseline}, of {len(comp)} compared.", ""]
    warning = small_n_warning(comp)
    if warning:
        lines += [f"**{warning[0].upper()}{warning[1:]}.**", ""]
    return lines


def ratio_section(df, metric, baseline, allocators, number, title, harness_text=""):
    """One results table: a caption naming the metric, n and the CI method,
    the table (in parts of at most COLUMNS_PER_TABLE allocators), and the
    significance notes."""
    lines = [f"### {title}", ""]
    try:
        table, comp = ratio_cells(df, metric, baseline, allocators)
    except ValueError as e:
        return "\n".join(lines + [f"No table: {e}.", ""])
    unit = UNITS.get(metric, ("",))[0]
    empty = [c for c in table.columns[1:] if (table[c] == MISSING).all()]
    table = table.drop(columns=empty)
    parts = column_parts(table)
    split = (f" In {len(parts)} parts of at most {COLUMNS_PER_TABLE} allocators, for width; "
             f"`--allocators` picks the columns." if len(parts) > 1 else "")
    caption = (f"Table {number}. {_caption(metric, f'ratio of medians to {baseline}')}. "
               f"`{metric}` is {metric_note(metric)}{harness_text}. First column: "
               f"{baseline}'s own median [CI]{', ' + unit if unit else ''}; the others: "
               f"each allocator's median over {baseline}'s in the same row. "
               f"{plot.n_text(list(comp['n_a']) + list(comp['n_b']))} ok repetitions per "
               f"allocator and cell. {MISSING} = no ok row of that allocator in the cell "
               f"(section 4 says why). p and the pairing of each cell: the appendix.{split}")
    if empty:
        caption += (f" Not in the table, without an ok row of `{metric}` in any of these "
                    f"cells: {', '.join(empty)}.")
    lines += [caption, ""]
    for i, part in enumerate(parts):
        if len(parts) > 1:
            lines += [f"Table {number}{chr(ord('a') + i)}.", ""]
        lines += [to_markdown(part), ""]
    return "\n".join(lines + significance_notes(comp, metric, baseline))


def results_section(df, baseline, allocators):
    """Section 2: the time table and the memory table."""
    metric = time_metric(df)
    h = harness_cost(df)
    harness_text = ""
    if metric in NET_METRICS and not h.empty:
        harness_text = (f"; the harness's cost subtracted is {_fmt(h['median'].min())}-"
                        f"{_fmt(h['median'].max())} ns/op, Table 1")
    title = ("Time per operation, net of the harness" if metric in NET_METRICS else
             "Time per operation, raw (the harness's cost included: not measured)")
    return "\n".join([
        "## 2. Results", "",
        ratio_section(df, metric, baseline, allocators, 2, title, harness_text),
        ratio_section(df, MEMORY_METRIC, baseline, allocators, 3,
                      "Peak memory, net of the harness's footprint")])


def figure_caption(name):
    """The plot module's caption of the figure (plot.caption: its own entry
    in plot.CAPTIONS, else its prefix's), without its final period, else a
    title made from the file name."""
    text = plot.caption(name)
    if text:
        return text.rstrip().rstrip(".")
    stem = os.path.splitext(name)[0].replace("_", " ")
    return stem[:1].upper() + stem[1:]


def figures_section(written, skipped, report_dir):
    """Section 3: every written PNG, embedded by its path relative to
    `report_dir` with a numbered caption, then the lines of what was not drawn."""
    lines = ["## 3. Figures", ""]
    if not written:
        lines += ["No figure could be drawn from this run.", ""]
    for i, path in enumerate(written, 1):
        rel = os.path.relpath(path, report_dir).replace(os.sep, "/")
        cap = figure_caption(os.path.basename(path)).rstrip(".")
        lines += [f"![{cap}]({rel})", "", f"*Figure {i}. {cap}.*", ""]
    if skipped:
        items = [f"- {s}" for s in skipped]
        if len(skipped) > LONG_LIST:
            # A long list is mostly the skipped cells of section 4 again: folded.
            lines += ["<details>", f"<summary>Not drawn: {len(skipped)} lines (an allocator "
                      "left out of some cells of a figure; section 4 says why)</summary>", ""]
            lines += items + ["", "</details>", ""]
        else:
            lines += ["Not drawn:", ""] + items + [""]
    return "\n".join(lines)


def _reps_text(reps, total):
    reps = sorted(int(r) for r in reps)
    return f"{', '.join(map(str, reps))} (of {total})"


def failures_section(df):
    """Section 4: rows that did not end ok, by status: the failures (crashed,
    timeout, oom, error) one row per cell and error, the skipped cells
    grouped by allocator and reason, and the caveats on ok rows."""
    lines = ["## 4. Cells that did not run to completion", ""]
    bad = df[df["status"] != "ok"]
    total = df.groupby(["allocator", "workload", "profile", "threads"])["repetition"].nunique()
    if bad.empty:
        lines += ["Every row of results.csv is ok.", ""]
    else:
        counts = bad["status"].value_counts()
        lines += ["Rows by status: " + ", ".join(
            f"{counts[s]} {s}" for s in FAILED_STATUSES + ["skipped"] if s in counts) +
            ". Cells with some ok repetitions are in the tables with the ok ones only.", ""]
    failed = bad[bad["status"].isin(FAILED_STATUSES)]
    lines += ["### Failed (crashed, timeout, oom, error)", ""]
    if failed.empty:
        lines += ["None.", ""]
    else:
        keys = ["allocator", "workload", "profile", "threads", "status", "error"]
        rows = []
        for k, g in failed.groupby(keys, sort=False):
            rows.append(dict(zip(keys, k), repetitions=_reps_text(
                g["repetition"], total[k[:4]])))
        t = pd.DataFrame(rows).sort_values(keys[:4] + ["status"], kind="stable")
        t["error"] = [e or "(no reason recorded)" for e in t["error"]]
        lines += [to_markdown(t.set_index(keys[:5])[["repetitions", "error"]]), ""]
    skipped = bad[bad["status"] == "skipped"]
    lines += ["### Skipped (the adapter cannot serve the workload)", ""]
    if skipped.empty:
        lines += ["None.", ""]
    else:
        groups = {}
        for (a, e), g in skipped.groupby(["allocator", "error"]):
            cells = plot._cell_text(set(zip(g["workload"], g["profile"], g["threads"])))
            groups.setdefault((cells, e or "(no reason recorded)"), []).append(a)
        t = pd.DataFrame([(c, e, ", ".join(plot.allocator_order(a)))
                          for (c, e), a in sorted(groups.items())],
                         columns=["cells", "reason", "allocators"]).set_index("cells")
        lines += [to_markdown(t), ""]
    caveats = df[(df["status"] == "ok") & (df["error"] != "")]
    if len(caveats):
        rows = [(e, ", ".join(plot.allocator_order(g["allocator"])), str(len(g)))
                for e, g in caveats.groupby("error")]
        t = pd.DataFrame(rows, columns=["caveat", "allocators", "rows"]).set_index("caveat")
        lines += ["### Caveats on ok rows", "", to_markdown(t), ""]
    return "\n".join(lines)


def blocks(text):
    """`text` with a blank line wherever a table starts or ends, so a caption
    line above a table and a note below it stay out of the table in markdown."""
    out, prev = [], None
    for line in text.splitlines():
        is_row = line.startswith("|")
        if prev is not None and is_row != prev and line and out[-1]:
            out.append("")
        out.append(line)
        prev = is_row
    return "\n".join(out)


def appendix_section(df, metrics, baseline, allocators):
    """Per-cell detail behind the ratio tables: stats_table of each metric
    (n, median [CI], ratio [CI], pairing, p)."""
    lines = ["## Appendix: per-cell statistics", ""]
    for m in metrics:
        try:
            text = stats_table(df, m, baseline, allocators)
        except ValueError as e:
            text = f"No table: {e}."
        lines += [f"### `{m}`", "", blocks(text), ""]
    return "\n".join(lines)


def display_path(path):
    """`path` relative to the repository root when it is inside it, else
    absolute: the same text from whichever directory the report was made."""
    path = os.path.abspath(path)
    rel = os.path.relpath(path, SOURCE_DIR)
    return path if rel == ".." or rel.startswith(".." + os.sep) else rel


def regenerate_command(results_dir, out_dir, baseline, allocators=None, workloads=None):
    """The allocplot command that writes this report again, with paths
    relative to the repository root when they are inside it (else absolute)."""
    argv = ["scripts/allocplot.sh", "report", display_path(results_dir), "--out",
            display_path(out_dir),
            "--baseline", baseline]
    if allocators:
        argv += ["--allocators", ",".join(allocators)]
    if workloads:
        argv += ["--workloads", ",".join(workloads)]
    return shlex.join(argv)


def select_run(df, baseline, allocators=None, workloads=None):
    """The rows a report of `allocators` (None: all) and `workloads` reads:
    also the baseline's and the calibration's (the harness's cost). Unknown
    names raise ValueError naming the valid ones (select_rows)."""
    named = list(allocators or []) + [baseline]
    select_rows(df, named)
    df = select_rows(df, None, workloads)
    if allocators:
        keep = set(named) | {CALIBRATION}
        df = df[df["allocator"].isin(keep)]
    return df


def build_report(loaded, df, baseline, allocators, written, skipped, report_dir, command):
    """The whole report.md text for the selected rows `df` of `loaded`."""
    ctx = loaded["context"] or {}
    run_id = ctx.get("run_id") or ", ".join(sorted(set(df["run_id"])))
    metrics = [time_metric(df), MEMORY_METRIC]
    files = ["results.csv"] + [f"{k}.json" for k in ("context", "run") if loaded[k] is not None]
    head = [f"# allocbench report: run {run_id}", "",
            f"From `{display_path(loaded['dir'])}` ({', '.join(files)}), "
            f"{_plural(len(set(df['allocator'])), 'allocator')}, "
            f"{_plural(len(set(zip(df['workload'], df['profile']))), 'workload profile')}, "
            f"baseline "
            f"**{baseline}**. Regenerate this report with:", "", _block(command), ""]
    parts = head + [method_section(loaded, df, baseline), results_section(df, baseline, allocators),
                    figures_section(written, skipped, report_dir), failures_section(df),
                    "## 5. Regenerating this report", "",
                    "From the repository root:", "", _block(command), "",
                    appendix_section(df, metrics, baseline, allocators)]
    return "\n".join(parts).rstrip() + "\n"


def write_report(results_dir, out_dir="report", baseline="glibc", allocators=None,
                 workloads=None):
    """Writes out_dir/report.md and its figures (out_dir/figures/) for the run
    in `results_dir`. Returns (report path, figures written, lines of what
    was not drawn). SchemaError or ValueError, one line, for bad input."""
    if baseline == CALIBRATION:
        raise ValueError(f"the calibration adapter {CALIBRATION} is the harness, not an "
                         f"allocator (its net time is ~0, its memory not measured): choose "
                         f"another baseline")
    loaded = load_run(results_dir)
    df = select_run(loaded["df"], baseline, allocators, workloads)
    if not (ok_rows(df)["allocator"] == baseline).any():
        raise ValueError(f"baseline allocator {baseline!r} has no ok rows")
    figures = os.path.join(out_dir, "figures")
    written, skipped = plot.plot_all(df, figures, loaded["dir"])
    command = regenerate_command(results_dir, out_dir, baseline, allocators, workloads)
    text = build_report(loaded, df, baseline, allocators, written, skipped, out_dir, command)
    path = os.path.join(out_dir, "report.md")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path, written, skipped
