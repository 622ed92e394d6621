"""Confidence intervals and significance over repetitions: a seeded bootstrap
of the median and of the ratio of medians, a Mann-Whitney U test, and the
cell-by-cell comparison behind `allocplot compare` and `table --stats`.

Pure functions over DataFrames and arrays; the only randomness is a numpy
Generator seeded with SEED on every call, so each result is reproducible and
independent of the order in which cells are visited.
"""
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu, rankdata

from allocplot.load import HostMismatch, ok_rows
from allocplot.stats import CALIBRATION, CELL, HIGHER_IS_BETTER, NET_METRICS, to_markdown

SEED = 20261201
RESAMPLES = 10000
LEVEL = 0.95
ALPHA = 0.05


def _rng(seed):
    return np.random.default_rng(seed)


def _bounds(samples):
    """The central LEVEL interval of bootstrap samples (NaNs, from an undefined
    ratio, are left out; NaN bounds when more than the tails are undefined)."""
    tail = (1.0 - LEVEL) / 2.0
    finite = samples[np.isfinite(samples)]
    if len(finite) < (1.0 - tail) * len(samples):
        return float("nan"), float("nan")
    lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    return float(lo), float(hi)


def median_ci(x, resamples=RESAMPLES, seed=SEED):
    """Percentile bootstrap CI (LEVEL) of the median of `x`; NaN bounds for
    fewer than two values."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2:
        return float("nan"), float("nan")
    idx = _rng(seed).integers(0, len(x), size=(resamples, len(x)))
    return _bounds(np.median(x[idx], axis=1))


def _ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def ratio_ci(a, b, paired, resamples=RESAMPLES, seed=SEED):
    """Percentile bootstrap CI (LEVEL) of median(b) / median(a).

    Paired: a[i] and b[i] are the same repetition, resampled together (the
    arrays must have the same length). Unpaired: each side resampled on its
    own. NaN bounds when a side has fewer than two values or the ratio is
    undefined (baseline median <= 0) in more than the tails of the resamples.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan")
    rng = _rng(seed)
    if paired:
        if len(a) != len(b):
            raise ValueError("a paired ratio needs the same repetitions on both sides")
        ia = ib = rng.integers(0, len(a), size=(resamples, len(a)))
    else:
        ia = rng.integers(0, len(a), size=(resamples, len(a)))
        ib = rng.integers(0, len(b), size=(resamples, len(b)))
    return _bounds(_ratio(np.median(b[ib], axis=1), np.median(a[ia], axis=1)))


# Up to this many values a side, scipy's Mann-Whitney test is exact when
# there are no ties (its "auto" method); ties make it fall back to the normal
# approximation, which at such n can give p below the exact floor (min_p).
EXACT_MAX_N = 8


def _exact_rank_sum_p(a, b):
    """Two-sided p of the rank sum of a under every split of the pooled
    values into len(a) and len(b) (mid-ranks for ties): twice the smaller
    tail, as scipy's exact tests define it, at most 1."""
    ranks = rankdata(np.concatenate([a, b]))
    sums = np.array([sum(c) for c in combinations(ranks, len(a))])
    observed = ranks[:len(a)].sum()
    lower = np.mean(sums <= observed + 1e-9)
    upper = np.mean(sums >= observed - 1e-9)
    return float(min(1.0, 2.0 * min(lower, upper)))


def u_test_p(a, b):
    """Two-sided Mann-Whitney U p-value of a against b; NaN when a side is
    empty. scipy's default method, except with ties and at most EXACT_MAX_N
    values a side: then the exact permutation distribution of the rank sum,
    which accounts for the ties and never goes below min_p."""
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    pooled = np.concatenate([a, b])
    if max(len(a), len(b)) <= EXACT_MAX_N and len(np.unique(pooled)) < len(pooled):
        return _exact_rank_sum_p(a, b)
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def min_p(n1, n2):
    """The smallest p-value u_test_p can give for samples of n1 and n2 values:
    that of two completely separated samples (computed by scipy, the same way)."""
    if n1 == 0 or n2 == 0:
        return float("nan")
    return u_test_p(np.arange(n1), np.arange(n1, n1 + n2))


def significant(p, lo, hi):
    """A difference counts only when p < ALPHA and the ratio's CI excludes 1."""
    if pd.isna(p) or pd.isna(lo) or pd.isna(hi):
        return False
    return bool(p < ALPHA and not (lo <= 1.0 <= hi))


def is_paired(a_keys, b_keys):
    """Pair by repetition when both sides hold the same repetitions, once
    each, of the same run: keys are (run_id, repetition) tuples."""
    a_keys, b_keys = list(a_keys), list(b_keys)
    if len(set(a_keys)) != len(a_keys) or len(set(b_keys)) != len(b_keys):
        return False
    return len(a_keys) > 1 and set(a_keys) == set(b_keys)


def cell_samples(df, metric):
    """{cell tuple: Series of `metric` over ok rows, indexed by (run_id,
    repetition), sorted}; rows without a value are left out."""
    ok = ok_rows(df)
    ok = ok[ok[metric].notna()].sort_values(["run_id", "repetition"], kind="stable")
    # One index for the whole frame, not one per cell: set_index per group
    # made this the slowest step of a 25-allocator heatmap (seconds per call).
    values = ok.set_index(["run_id", "repetition"])[metric]
    keys = [ok[c].values for c in CELL]
    return {tuple(key): s for key, s in values.groupby(keys, sort=True)}


def cell_hashes(df):
    """{cell tuple: set of trace_hash over ok rows}."""
    ok = ok_rows(df)
    return {tuple(k): set(g["trace_hash"].astype(str)) for k, g in ok.groupby(CELL)}


def cell_hosts(df):
    """{cell tuple: set of named hosts over ok rows} ("" rows name none)."""
    if "host" not in df.columns:
        return {}
    ok = ok_rows(df)
    return {tuple(k): set(g["host"].astype(str)) - {""} for k, g in ok.groupby(CELL)}


def check_pair_hosts(pairs, hosts_a, hosts_b):
    """HostMismatch naming the pairs of cells whose rows come from more than
    one host: their ratio would divide one machine's time by another's."""
    bad = []
    for ak, k in pairs:
        hosts = hosts_a.get(ak, set()) | hosts_b.get(k, set())
        if len(hosts) > 1:
            bad.append(f"{k[0]} {k[1]}/{k[2]} threads={k[3]} ({', '.join(sorted(hosts))})")
    if bad:
        raise HostMismatch("refusing to compare cells measured on different hosts (a ratio is "
                           "taken within one machine; compare allocators within one run, where "
                           "each cell's baseline ran on its host): " + ", ".join(bad[:6]) +
                           (", ..." if len(bad) > 6 else ""))


def verdict_words(metric):
    """The (better, worse) verdict words of a metric: 'faster'/'slower' for
    time and throughput, 'smaller'/'larger' for memory, 'better'/'worse' for
    anything else (faults, counts), so a verdict says what the metric means."""
    if metric in HIGHER_IS_BETTER or metric.endswith(("ns_per_op", "_s", "_ns")):
        return "faster", "slower"
    if "rss" in metric or "bytes" in metric or metric.startswith("overhead"):
        return "smaller", "larger"
    return "better", "worse"


def compare_pair(a, b, metric):
    """One comparison of Series a (baseline) and b, as cell_samples gives
    them: a dict of n, medians, ratio b/a, its CI, pairing, p, significance,
    verdict (verdict_words' better or worse word, or 'no significant
    difference'; for a metric where lower is better, a ratio above 1 is
    worse), `worse` (bool) and slower_pct, how much worse in percent."""
    paired = is_paired(a.index, b.index)
    av = a.values
    bv = b.reindex(a.index).values if paired else b.values
    ma, mb = float(np.median(av)), float(np.median(bv))
    ratio = mb / ma if ma > 0 else float("nan")
    lo, hi = ratio_ci(av, bv, paired)
    p = u_test_p(av, bv)
    sig = significant(p, lo, hi)
    better_when_higher = metric in HIGHER_IS_BETTER
    better_word, worse_word = verdict_words(metric)
    worse = sig and (ratio > 1.0) != better_when_higher
    if not sig:
        verdict = "no significant difference"
    else:
        verdict = worse_word if worse else better_word
    slowdown = (1.0 / ratio - 1.0) if better_when_higher else (ratio - 1.0)
    return {"n_a": len(av), "n_b": len(bv), "median_a": ma, "median_b": mb,
            "ratio": ratio, "ci_lo": lo, "ci_hi": hi, "p": p,
            "pairing": "paired" if paired else "unpaired", "significant": sig,
            "verdict": verdict, "worse": worse, "slower_pct": 100.0 * slowdown,
            "min_p": min_p(len(av), len(bv))}


class TraceMismatch(ValueError):
    """Cells whose two sides replayed different traces."""


def compare_frames(a_df, b_df, metric, a_alloc=None, b_alloc=None, allocator=None):
    """Cell by cell, b against a: a DataFrame with CELL (allocator is b's) and
    compare_pair's columns. Two runs (a_alloc/b_alloc None): each allocator
    against itself, `allocator` alone if given. One run: a_alloc against
    b_alloc (one name, or a collection of names), with a_df == b_df. Only
    cells on both sides count; the
    calibration adapter is left out of a net metric. Raises TraceMismatch,
    naming the cells, when a cell's trace_hash differs between the sides."""
    sa, ha = cell_samples(a_df, metric), cell_hashes(a_df)
    # One run (a_df is b_df): its cells are grouped once, not twice.
    sb, hb = (sa, ha) if b_df is a_df else (cell_samples(b_df, metric), cell_hashes(b_df))
    pairs, unmatched = [], []
    b_allocs = {b_alloc} if isinstance(b_alloc, str) else set(b_alloc or ())
    for key in sorted(sb, key=str):
        alloc, rest = key[0], key[1:]
        if a_alloc is not None:
            if alloc not in b_allocs:
                continue
            akey = (a_alloc,) + rest
        else:
            if allocator is not None and alloc != allocator:
                continue
            if metric in NET_METRICS and alloc == CALIBRATION:
                continue
            akey = key
        if akey in sa:
            pairs.append((akey, key))
        else:
            unmatched.append(key)
    bad = [f"{k[0]} {k[1]}/{k[2]} threads={k[3]}" for ak, k in pairs if ha[ak] != hb[k]]
    if bad:
        raise TraceMismatch("refusing to compare cells whose trace_hash differs: " +
                            ", ".join(bad))
    hosts_a = cell_hosts(a_df)
    check_pair_hosts(pairs, hosts_a, hosts_a if b_df is a_df else cell_hosts(b_df))
    rows = []
    for ak, k in pairs:
        row = dict(zip(CELL, k))
        row.update(compare_pair(sa[ak], sb[k], metric))
        rows.append(row)
    cols = CELL + ["n_a", "n_b", "median_a", "median_b", "ratio", "ci_lo", "ci_hi", "p",
                   "pairing", "significant", "verdict", "worse", "slower_pct", "min_p"]
    t = pd.DataFrame(rows, columns=cols)
    # Cells with ok rows on b's side only, so the report can say they were skipped.
    t.attrs["unmatched"] = [f"{k[0]} {k[1]}/{k[2]} threads={k[3]}" for k in unmatched]
    return t


def _g(v, fmt="{:.4g}"):
    return "" if pd.isna(v) else fmt.format(v)


def format_ci(value, lo, hi, fmt="{:.3g}"):
    """'1.23 [1.10, 1.40]'; the bracket is left out when the CI is undefined."""
    if pd.isna(value):
        return "n/a"
    if pd.isna(lo) or pd.isna(hi):
        return fmt.format(value)
    return f"{fmt.format(value)} [{fmt.format(lo)}, {fmt.format(hi)}]"


def format_p(p):
    return "" if pd.isna(p) else (f"{p:.3f}" if p >= 0.001 else f"{p:.1e}")


def small_n_warning(t):
    """One line when some cells have too few repetitions for the U test to
    reach p < ALPHA at all, else None. `t` has n_a, n_b and min_p columns."""
    hopeless = t[t["min_p"] >= ALPHA]
    if hopeless.empty:
        return None
    sizes = sorted({(int(a), int(b), float(m)) for a, b, m in
                    hopeless[["n_a", "n_b", "min_p"]].values})
    what = ", ".join(f"n = {a} vs {b} (minimum p = {m:.3g})" for a, b, m in sizes)
    return (f"warning: {len(hopeless)} of {len(t)} cells cannot show a significant "
            f"difference: with {what} the two-sided Mann-Whitney U test cannot reach "
            f"p < {ALPHA}; run more repetitions")


def _caption(metric, what):
    better = "higher" if metric in HIGHER_IS_BETTER else "lower"
    return (f"{metric}: {what} ({better} is better); [..] = {LEVEL:.0%} percentile "
            f"bootstrap CI ({RESAMPLES} resamples, seed {SEED}), paired by repetition "
            f"when both sides hold the same repetitions of one run, else unpaired; "
            f"p = two-sided Mann-Whitney U; * = significant: p < {ALPHA} and the ratio's "
            f"CI excludes 1")


def compare_report(t, metric, a_name, b_name):
    """The `allocplot compare` output: a caption, a pipe table (one row per
    cell), a summary line and, if needed, the small-n warning."""
    cells = pd.DataFrame({
        "n": [f"{a}/{b}" for a, b in zip(t["n_a"], t["n_b"])],
        f"{a_name} median": [_g(v) for v in t["median_a"]],
        f"{b_name} median": [_g(v) for v in t["median_b"]],
        f"ratio {b_name}/{a_name} [CI]": [format_ci(r, lo, hi) for r, lo, hi in
                                         t[["ratio", "ci_lo", "ci_hi"]].values],
        "p": [format_p(p) for p in t["p"]],
        "pairing": list(t["pairing"]),
        "verdict": list(t["verdict"]),
    }, index=pd.MultiIndex.from_frame(t[CELL]) if len(t) else
        pd.MultiIndex.from_tuples([], names=CELL))
    counts = t["verdict"].value_counts()
    better_word, worse_word = verdict_words(metric)
    summary = (f"summary: {counts.get(better_word, 0)} {better_word}, "
               f"{counts.get(worse_word, 0)} {worse_word}, "
               f"{counts.get('no significant difference', 0)} no significant "
               f"difference (of {len(t)} cells; {b_name} against {a_name})")
    lines = [_caption(metric, f"ratio of medians {b_name}/{a_name}"), to_markdown(cells),
             summary]
    warning = small_n_warning(t)
    if warning:
        lines.append(warning)
    unmatched = t.attrs.get("unmatched", [])
    if unmatched:
        lines.append(f"not compared, no ok rows of {metric} on the {a_name} side: "
                     + ", ".join(unmatched))
    return "\n".join(lines)


def stats_table(df, metric, baseline=None, allocators=None):
    """The `allocplot table --stats` output: one row per cell with n and the
    median [CI]; with a baseline also the ratio [CI] to the baseline's median
    in the same (workload, profile, threads), its pairing, p and a
    significance mark. The calibration adapter is left out of a net metric."""
    samples = cell_samples(df, metric)
    rows = []
    for key in sorted(samples, key=str):
        alloc = key[0]
        if metric in NET_METRICS and alloc == CALIBRATION:
            continue
        if allocators and alloc not in allocators:
            continue
        s = samples[key]
        lo, hi = median_ci(s.values)
        row = dict(zip(CELL, key), n=str(len(s)),
                   median=format_ci(float(np.median(s.values)), lo, hi, "{:.4g}"))
        if baseline:
            base = samples.get((baseline,) + key[1:])
            if base is None:
                row.update(ratio="", pairing="", p="", sig="")
            elif alloc == baseline:
                row.update(ratio="1 (baseline)", pairing="", p="", sig="", _self=True)
            else:
                c = compare_pair(base, s, metric)
                row.update(ratio=format_ci(c["ratio"], c["ci_lo"], c["ci_hi"]),
                           pairing=c["pairing"], p=format_p(c["p"]),
                           sig="*" if c["significant"] else "",
                           _n=(c["n_a"], c["n_b"], c["min_p"]), _self=alloc == baseline)
        rows.append(row)
    if baseline and not any((baseline,) + k[1:] in samples for k in samples):
        raise ValueError(f"baseline allocator {baseline!r} has no ok rows with {metric}")
    t = pd.DataFrame(rows)
    if t.empty:
        raise ValueError(f"{metric} has no values in ok rows")
    order = ["workload", "profile", "threads", "allocator"]
    t = t.sort_values(order, kind="stable")
    shown = ["n", "median"] + (["ratio", "pairing", "p", "sig"] if baseline else [])
    cells = t.set_index(order)[shown].rename(columns={
        "median": "median [CI]", "ratio": f"ratio to {baseline} [CI]", "sig": "significant"})
    what = f"median and ratio of medians to {baseline}" if baseline else "median"
    lines = [_caption(metric, what), to_markdown(cells)]
    if baseline and "_n" in t:
        others = t[t["_n"].notna()]
        if len(others):
            n = pd.DataFrame(list(others["_n"]), columns=["n_a", "n_b", "min_p"])
            warning = small_n_warning(n)
            if warning:
                lines.append(warning)
    return "\n".join(lines)


def scaling_table(df, metric="mops"):
    """Per (allocator, workload, profile) and each thread count above the
    lowest in the file for that cell: the ratio of medians of `metric` at that
    count to at the lowest (a throughput's scaling), with its unpaired
    bootstrap CI (ratio_ci: different thread counts are different cells, so
    their repetitions are not paired), and the calibration's own scaling on
    the same trace, the ceiling a harness-bound figure can reach."""
    samples = cell_samples(df, metric)
    groups = {}
    for (alloc, w, p, t), s in samples.items():
        groups.setdefault((alloc, w, p), {})[int(t)] = s.values
    rows = []
    for (alloc, w, p), by_t in sorted(groups.items()):
        base_t = min(by_t)
        null = groups.get((CALIBRATION, w, p), {})
        for t in sorted(by_t):
            if t == base_t:
                continue
            a, b = by_t[base_t], by_t[t]
            lo, hi = ratio_ci(a, b, paired=False)
            med_a = float(np.median(a))
            ratio = float(np.median(b)) / med_a if med_a > 0 else float("nan")
            harness = (float(np.median(null[t]) / np.median(null[base_t]))
                       if base_t in null and t in null and np.median(null[base_t]) > 0
                       else float("nan"))
            rows.append({"allocator": alloc, "workload": w, "profile": p, "threads": t,
                         "base_threads": base_t, "n_base": len(a), "n": len(b),
                         "median_base": med_a, "median": float(np.median(b)),
                         "ratio": ratio, "ci_lo": lo, "ci_hi": hi, "harness_ratio": harness})
    return pd.DataFrame(rows, columns=CELL + ["base_threads", "n_base", "n", "median_base",
                                              "median", "ratio", "ci_lo", "ci_hi",
                                              "harness_ratio"])


def scaling_report(df, metric="mops"):
    """The `allocplot scaling` output: a caption and a pipe table."""
    t = scaling_table(df, metric)
    cells = pd.DataFrame({
        "from threads": [str(v) for v in t["base_threads"]],
        "n": [f"{a}/{b}" for a, b in zip(t["n_base"], t["n"])],
        "median there": [_g(v) for v in t["median_base"]],
        "median here": [_g(v) for v in t["median"]],
        "scaling [CI]": [format_ci(r, lo, hi) for r, lo, hi in t[["ratio", "ci_lo", "ci_hi"]].values],
        f"{CALIBRATION} scaling": ["n/a" if np.isnan(v) else f"{v:.3g}" for v in t["harness_ratio"]],
    }, index=pd.MultiIndex.from_frame(t[CELL]) if len(t) else
        pd.MultiIndex.from_tuples([], names=CELL))
    caption = (f"{metric}: scaling = median at `threads` / median at the cell's lowest thread "
               f"count (`from threads`); [..] = {LEVEL:.0%} percentile bootstrap CI "
               f"({RESAMPLES} resamples, seed {SEED}), unpaired; `{CALIBRATION} scaling`: the "
               f"harness alone on the same trace")
    return "\n".join([caption, to_markdown(cells)])
