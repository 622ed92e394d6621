"""Reading results.csv with a schema check (docs/csv_schema.md)."""
import pandas as pd

SCHEMA_VERSION = 1

# Every column allocbench writes, in order (runner/csv.cpp).
COLUMNS = [
    "schema_version", "run_id", "allocator", "workload", "profile", "threads", "repetition",
    "seed", "ops", "status", "error", "wall_s", "mops", "ns_per_op", "lat_p50_ns",
    "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns", "lat_samples", "peak_rss_bytes",
    "final_rss_bytes", "baseline_rss_bytes", "peak_rss_net_bytes", "final_rss_net_bytes",
    "peak_live_bytes", "overhead_ratio", "overhead_ratio_raw", "minflt", "majflt", "nvcsw",
    "nivcsw", "user_s", "sys_s", "allocs", "frees", "reallocs", "total_ops", "trace_hash",
    "warmup", "adapter_version", "cell_s",
]

TEXT_COLUMNS = {"run_id", "allocator", "workload", "profile", "status", "error", "trace_hash",
                "adapter_version"}

STATUSES = {"ok", "skipped", "crashed", "timeout", "oom", "error"}


class SchemaError(ValueError):
    """The file is not an allocbench results.csv this version can read."""


def load_results(path):
    """Returns the rows of `path` as a DataFrame, numeric columns as numbers.

    Raises SchemaError naming the problem when the file is missing, empty,
    has other columns, another schema version, an unknown status, or a
    non-numeric value in a numeric column.
    """
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise SchemaError(f"{path}: no such file")
    except pd.errors.EmptyDataError:
        raise SchemaError(f"{path}: empty file, expected an allocbench results.csv header")
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise SchemaError(f"{path}: not a CSV file ({e})")
    cols = list(df.columns)
    if cols != COLUMNS:
        missing = [c for c in COLUMNS if c not in cols]
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
    for col in ("wall_s", "mops", "ns_per_op", "peak_rss_bytes"):
        if ok[col].isna().any():
            row = ok[ok[col].isna()].index[0]
            raise SchemaError(f"{path}: row {row + 2} has status ok but no {col}")
    return df


def ok_rows(df):
    """Only the rows whose cell ran to completion."""
    return df[df["status"] == "ok"].copy()


PHASE_COLUMNS = ["run_id", "allocator", "workload", "profile", "threads", "repetition", "phase",
                 "rss_bytes", "rss_net_bytes"]


def load_phases(path):
    """Reads a phases.csv (RSS at each phase boundary); SchemaError if malformed."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise SchemaError(f"{path}: no such file")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise SchemaError(f"{path}: not a phases.csv ({e})")
    if list(df.columns) != PHASE_COLUMNS:
        raise SchemaError(f"{path}: not an allocbench phases.csv (columns {list(df.columns)[:4]}...)")
    for col in ["threads", "repetition", "phase", "rss_bytes", "rss_net_bytes"]:
        num = pd.to_numeric(df[col], errors="coerce")
        if num.isna().any():
            row = num[num.isna()].index[0]
            raise SchemaError(f"{path}: row {row + 2}, column {col}: not a number")
        df[col] = num
    return df
