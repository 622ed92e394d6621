"""Reading results.csv with a schema check (docs/csv_schema.md)."""
import json
import os

import pandas as pd

SCHEMA_VERSION = 2

# Every column allocbench writes, in order (runner/csv.cpp).
COLUMNS = [
    "schema_version", "run_id", "host", "allocator", "workload", "profile", "threads",
    "repetition", "seed", "ops", "status", "error", "wall_s", "mops", "ns_per_op",
    "harness_ns_per_op",
    "net_ns_per_op", "replays", "lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns",
    "lat_max_ns", "lat_samples", "timer_ns", "lat_file", "peak_rss_bytes", "final_rss_bytes",
    "baseline_rss_bytes", "peak_rss_net_bytes", "final_rss_net_bytes", "peak_live_bytes",
    "peak_live_method", "overhead_ratio", "overhead_ratio_raw", "overhead_bytes", "minflt",
    "majflt", "nvcsw", "nivcsw", "user_s", "sys_s", "allocs", "frees", "reallocs",
    "total_ops", "trace_hash", "warmup", "adapter_version", "cell_s",
    "settled_rss_bytes", "settled_rss_net_bytes",
    "repair_dropped_frees", "repair_unknown_reallocs", "repair_leaks_freed",
]

# Columns added to schema 2 after its first files were written, always at the
# end, in this order: a file that stops before some of them (an older
# allocbench) is read with them empty (NaN). The settled RSS (issue 14), then
# a recorded trace's repairs (issue 13).
ADDED_COLUMNS = ["settled_rss_bytes", "settled_rss_net_bytes",
                 "repair_dropped_frees", "repair_unknown_reallocs", "repair_leaks_freed"]

# The schema 1 header, only to recognise an old file and say so.
COLUMNS_V1 = [
    "schema_version", "run_id", "allocator", "workload", "profile", "threads", "repetition",
    "seed", "ops", "status", "error", "wall_s", "mops", "ns_per_op", "lat_p50_ns",
    "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns", "lat_samples", "peak_rss_bytes",
    "final_rss_bytes", "baseline_rss_bytes", "peak_rss_net_bytes", "final_rss_net_bytes",
    "peak_live_bytes", "overhead_ratio", "overhead_ratio_raw", "minflt", "majflt", "nvcsw",
    "nivcsw", "user_s", "sys_s", "allocs", "frees", "reallocs", "total_ops", "trace_hash",
    "warmup", "adapter_version", "cell_s",
]

# `host` came after the other schema 2 columns: a file without it is read as
# from one unnamed host ("").
LATER_COLUMNS = {"host": ""}

TEXT_COLUMNS = {"run_id", "host", "allocator", "workload", "profile", "status", "error", "trace_hash",
                "adapter_version", "lat_file", "peak_live_method"}

STATUSES = {"ok", "skipped", "crashed", "timeout", "oom", "error"}

# Numeric columns that describe the run rather than measure it: not metrics.
SETTING_COLUMNS = {"schema_version", "threads", "repetition", "seed", "ops", "warmup"}

# The columns `table --metric` and `cv --metric` accept, in schema order.
METRICS = [c for c in COLUMNS if c not in TEXT_COLUMNS and c not in SETTING_COLUMNS]

# Columns an ok row must have. The memory columns may be empty on an ok row
# (the peak-RSS reset failed; the reason is in `error`).
REQUIRED_ON_OK = ("wall_s", "mops", "ns_per_op")

# Rows of `allocbench exec` (a real program, workload "exec:NAME") count no
# operations: an ok one needs only its wall time.
EXEC_PREFIX = "exec:"
REQUIRED_ON_OK_EXEC = ("wall_s",)


class SchemaError(ValueError):
    """The file is not an allocbench results.csv this version can read."""


def check_metric(metric):
    """ValueError, one line naming every valid metric, unless `metric` is one
    of METRICS."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; valid metrics: {', '.join(METRICS)}")


def _declared_version(df):
    """The schema_version of the first data row, or None if there is none."""
    if "schema_version" not in df.columns or df.empty:
        return None
    return str(df["schema_version"].iloc[0]).strip()


def _accepted(cols):
    """True for COLUMNS, and for COLUMNS without some of ADDED_COLUMNS (files
    of older builds, which had some of the added columns and not others:
    each was added in its own change), the rest in COLUMNS order."""
    base = COLUMNS[:len(COLUMNS) - len(ADDED_COLUMNS)]
    return (cols[:len(base)] == base and
            cols[len(base):] == [c for c in ADDED_COLUMNS if c in cols[len(base):]])


def _add_later_columns(df):
    """A schema 2 file from before a LATER_COLUMNS column gets it, with its
    default, at its place in COLUMNS; any other header is left for
    _check_header."""
    cols = list(df.columns)
    for c, default in LATER_COLUMNS.items():
        if c in cols:
            continue
        with_c = cols[:COLUMNS.index(c)] + [c] + cols[COLUMNS.index(c):]
        if _accepted(with_c):
            df.insert(COLUMNS.index(c), c, default)
            cols = with_c
    return df


def _check_header(path, df):
    """SchemaError unless the header is COLUMNS, or COLUMNS without some of
    ADDED_COLUMNS; an older schema is named."""
    cols = list(df.columns)
    if _accepted(cols):
        return
    version = _declared_version(df)
    if cols == COLUMNS_V1 or version == "1":
        raise SchemaError(
            f"{path}: this is a schema 1 results.csv (written by an older allocbench); "
            f"this allocplot reads schema {SCHEMA_VERSION} only. Re-run the benchmark to get "
            f"a schema {SCHEMA_VERSION} file, or read this one with the older allocplot "
            f"(the version from before schema {SCHEMA_VERSION}, in git history)")
    if version is not None and version.isdigit() and version != str(SCHEMA_VERSION):
        raise SchemaError(f"{path}: this is a schema {version} results.csv; this allocplot "
                          f"reads schema {SCHEMA_VERSION} only")
    # A file from before a later column is not faulted for lacking it.
    missing = [c for c in COLUMNS if c not in cols and c not in LATER_COLUMNS]
    extra = [c for c in cols if c not in COLUMNS]
    detail = []
    if missing:
        detail.append("missing columns: " + ", ".join(missing[:8]))
    if extra:
        detail.append("unexpected columns: " + ", ".join(extra[:8]))
    if not detail:
        detail.append("columns in a different order")
    raise SchemaError(f"{path}: not an allocbench schema {SCHEMA_VERSION} results file "
                      f"({'; '.join(detail)})")


def load_results(path):
    """Returns the rows of `path` as a DataFrame, numeric columns as numbers.

    Raises SchemaError naming the problem when the file is missing, empty,
    has other columns, another schema version (a schema 1 file is named as
    such), an unknown status, a non-numeric value in a
    numeric column, or an ok row without wall_s, mops or ns_per_op (an
    `allocbench exec` row, workload exec:NAME, needs only wall_s). Empty
    numeric fields become NaN. A file written before the ADDED_COLUMNS
    existed is read with them empty, so the result always has COLUMNS.
    """
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise SchemaError(f"{path}: no such file")
    except pd.errors.EmptyDataError:
        raise SchemaError(f"{path}: empty file, expected an allocbench results.csv header")
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise SchemaError(f"{path}: not a CSV file ({e})")
    _check_header(path, _add_later_columns(df))
    for col in ADDED_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df[COLUMNS].copy()  # The added columns a file lacked, in their places.
    bad_version = df[df["schema_version"] != str(SCHEMA_VERSION)]
    if len(bad_version):
        raise SchemaError(f"{path}: row {bad_version.index[0] + 2} has schema_version "
                          f"{bad_version['schema_version'].iloc[0]!r}, expected {SCHEMA_VERSION}")
    bad_status = df[~df["status"].isin(STATUSES)]
    if len(bad_status):
        raise SchemaError(f"{path}: row {bad_status.index[0] + 2} has unknown status "
                          f"{bad_status['status'].iloc[0]!r}")
    for col in COLUMNS:
        if col in TEXT_COLUMNS:
            continue
        values = df[col].replace("", None)
        numeric = pd.to_numeric(values, errors="coerce")
        bad = numeric.isna() & values.notna()
        if bad.any():
            row = bad[bad].index[0]
            raise SchemaError(f"{path}: row {row + 2}, column {col}: "
                              f"{df[col].iloc[row]!r} is not a number")
        df[col] = numeric
    ok = df[df["status"] == "ok"]
    is_exec = ok["workload"].str.startswith(EXEC_PREFIX)
    for rows, required in ((ok[~is_exec], REQUIRED_ON_OK), (ok[is_exec], REQUIRED_ON_OK_EXEC)):
        for col in required:
            if rows[col].isna().any():
                row = rows[rows[col].isna()].index[0]
                raise SchemaError(f"{path}: row {row + 2} has status ok but no {col}")
    return df


class HostMismatch(ValueError):
    """A ratio would divide a time measured on one machine by one from another."""


def mixed_host_groups(df, by):
    """The groups of ok rows (grouped by the columns `by`) measured on more
    than one named host, as "key: host1, host2" strings. Rows without a host
    (files from before the column) match any host."""
    if "host" not in df.columns:
        return []
    ok = df[(df["status"] == "ok") & (df["host"] != "")]
    out = []
    for key, g in ok.groupby(by, sort=True):
        hosts = sorted(set(g["host"]))
        if len(hosts) > 1:
            key = key if isinstance(key, tuple) else (key,)
            out.append(f"{'/'.join(str(k) for k in key)}: {', '.join(hosts)}")
    return out


def check_one_host(df, by, what):
    """HostMismatch naming the groups of `by` that hold rows of several hosts:
    `what` (a ratio, a comparison) is computed within one host only."""
    bad = mixed_host_groups(df, by)
    if bad:
        raise HostMismatch(
            f"refusing {what} across hosts: a ratio is taken within one machine, and these "
            f"groups hold rows from several ({'; '.join(bad[:6])}"
            f"{'; ...' if len(bad) > 6 else ''}). Merge shards with `allocbench merge` (a shard "
            f"keeps each workload/profile/threads group, with its baseline, on one host) or "
            f"select one host's rows")


def ok_rows(df):
    """Only the rows whose cell ran to completion."""
    return df[df["status"] == "ok"].copy()


def _read_text_csv(path, what):
    """`path` as a DataFrame of strings; SchemaError when it is missing or is
    not a CSV file (`what` names the kind of file in the message)."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise SchemaError(f"{path}: no such file")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise SchemaError(f"{path}: not a {what} ({e})")


PHASE_COLUMNS = ["run_id", "allocator", "workload", "profile", "threads", "repetition", "phase",
                 "rss_bytes", "rss_net_bytes"]


def load_phases(path):
    """Reads a phases.csv (RSS at each phase boundary); SchemaError if malformed."""
    df = _read_text_csv(path, "phases.csv")
    if list(df.columns) != PHASE_COLUMNS:
        raise SchemaError(f"{path}: not an allocbench phases.csv (columns {list(df.columns)[:4]}...)")
    for col in ["threads", "repetition", "phase", "rss_bytes", "rss_net_bytes"]:
        num = pd.to_numeric(df[col], errors="coerce")
        if num.isna().any():
            row = num[num.isna()].index[0]
            raise SchemaError(f"{path}: row {row + 2}, column {col}: not a number")
        df[col] = num
    return df


# timeline.csv of `allocbench run --timeline` (one cell's RSS samples per
# row group) and of `allocbench exec` (one program run's).
TIMELINE_COLUMNS = ["run_id", "allocator", "workload", "profile", "threads", "repetition",
                    "t_ms", "stage", "rss_bytes", "rss_net_bytes"]
EXEC_TIMELINE_COLUMNS = ["run_id", "allocator", "rep", "t_ms", "rss_bytes"]
TIMELINE_STAGES = {"setup", "warmup", "timed", "settle", "latency", "exit"}


def load_timeline(path, exec_workload="exec"):
    """Reads a timeline.csv of either kind as TIMELINE_COLUMNS, numbers as
    numbers. An exec timeline (EXEC_TIMELINE_COLUMNS) gets workload
    `exec_workload`, profile default, threads 1, stage "run" and no net RSS
    (NaN). SchemaError naming the problem when the file is missing, has other
    columns, an unknown stage or a value that is not a number (rss_net_bytes
    may be empty)."""
    df = _read_text_csv(path, "timeline.csv")
    cols = list(df.columns)
    if cols == EXEC_TIMELINE_COLUMNS:
        df = df.rename(columns={"rep": "repetition"})
        df["workload"], df["profile"], df["threads"] = exec_workload, "default", "1"
        df["stage"], df["rss_net_bytes"] = "run", ""
        df = df[TIMELINE_COLUMNS]
    elif cols == TIMELINE_COLUMNS:
        bad = df[~df["stage"].isin(TIMELINE_STAGES)]
        if len(bad):
            raise SchemaError(f"{path}: row {bad.index[0] + 2} has unknown stage "
                              f"{bad['stage'].iloc[0]!r}")
    else:
        raise SchemaError(f"{path}: not an allocbench timeline.csv (columns "
                          f"{', '.join(cols[:5])}...)")
    for col in ["threads", "repetition", "t_ms", "rss_bytes", "rss_net_bytes"]:
        values = df[col].replace("", None)
        num = pd.to_numeric(values, errors="coerce")
        bad = num.isna() & values.notna()
        if col != "rss_net_bytes":
            bad = bad | values.isna()
        if bad.any():
            row = bad[bad].index[0]
            raise SchemaError(f"{path}: row {row + 2}, column {col}: "
                              f"{df[col].iloc[row]!r} is not a number")
        df[col] = num
    return df


def load_context(results_dir):
    """The run's context.json (machine, toolchain; docs/csv_schema.md) from
    `results_dir` as a dict; {} when there is none or it is not JSON (the
    figures then say the machine was not recorded)."""
    if results_dir is None:
        return {}
    try:
        with open(os.path.join(results_dir, "context.json")) as f:
            context = json.load(f)
    except (OSError, ValueError):
        return {}
    return context if isinstance(context, dict) else {}
