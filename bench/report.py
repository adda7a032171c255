"""`make bench`'s report, from instance/bench-results.json: `python -m bench.report` prints the
README's markdown tables of the last run (`--text` the terminal report `bench.run` prints).

The tables come from one run holding both databases, so the README's numbers are one machine's
at one time (issue #26): a heading with the date and the machine (CPU, cores, Python,
PostgreSQL), then per database the throughput and latency of every URL beside the hello-world
of the same part, the scale run, and SQL statements and server time per page.
"""
import argparse
import json

from bench.run import PAGES, RESULTS, SCALED_PAGES, TARGET_PAGES, TARGETS


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _short(count: int) -> str:
    """1,000 -> 1k, 1,000,000 -> 1M: column headings stay narrow."""
    for size, unit in ((1_000_000, "M"), (1_000, "k")):
        if count >= size and count % size == 0:
            return f"{count // size}{unit}"
    return f"{count:,}"


def _ratio(b: dict, name: str, key: str) -> float:
    return b["scaled"]["large"][name][key] / b["scaled"]["small"][name][key]


def _server_ratio(b: dict, name: str) -> float:
    return (b["inprocess"]["large"][name]["server_ms"]
            / b["inprocess"]["small"][name]["server_ms"])


def hello_ratio(b: dict, name: str) -> float:
    """A URL's req/s over the hello-world's: the runs just before and after it (`yardstick_rps`,
    `run.measure_beside`), or in older results the part's one run."""
    row = b["load"][name]
    return row["rps"] / (row.get("yardstick_rps") or b["load"]["hello-world"]["rps"])


def heading(r: dict) -> str:
    m, a = r["machine"], r["args"]
    pg = f", PostgreSQL {m['postgresql']} on the same machine" if m.get("postgresql") else ""
    connections = "persistent connections" if a["keep_alive"] else "a connection per request"
    return (f"{r['date']}, {m['cores']} cores ({m['cpu']}), Python {m['python']}{pg}; wrk "
            f"-t{a['threads']} -c{a['connections']} -d{a['duration']:g}s per URL, "
            f"{connections}; other processes used {r['other_cpu']['before']:.0%} of the CPU "
            f"before the run, {r['other_cpu']['after']:.0%} after")


def targets(backend: str, b: dict, args: dict) -> list[tuple[bool, str]]:
    """(met, what) of each target of issue #26 and B-2/B-3 for one database."""
    t, load = TARGETS, b["load"]
    small, large = b["sizes"]["small"][1], b["sizes"]["large"][1]
    found = []
    least = t["throughput ratio"][backend]
    for name in TARGET_PAGES:
        ratio = hello_ratio(b, name)
        found.append((ratio >= least, f"{name} throughput {ratio:.2f} x hello-world "
                                      f"(target >= {least})"))
    for name in PAGES:  # the hello-world is the yardstick, not a target
        spread = load[name]["p99_ms"] / load[name]["p50_ms"]
        found.append((spread <= t["p99/p50"], f"{name} p99/p50 {spread:.1f} at "
                                              f"{args['connections']} connections "
                                              f"(target <= {t['p99/p50']:g})"))
    for name in SCALED_PAGES:
        ratio = _ratio(b, name, "p50_ms")
        found.append((ratio <= t["scale ratio"],
                      f"{name} p50 latency at {large:,} / {small:,} invoices {ratio:.2f} "
                      f"(target <= {t['scale ratio']}; server time alone "
                      f"{_server_ratio(b, name):.2f})"))
    return found


def weight_targets(weights: dict) -> list[tuple[bool, str]]:
    t, loader = TARGETS, weights["loader.js"]
    found = [(loader["gzipped"] < t["loader gzipped"],
              f"loader.js {loader['gzipped']:,} bytes gzipped (target < {t['loader gzipped']:,})")]
    for name, row in weights.items():
        if name != "loader.js":
            found.append((row["total"] < t["page weight"], f"{name} {row['total']:,} bytes "
                          f"transferred (target < {t['page weight']:,})"))
    return found


# --- the terminal ------------------------------------------------------------------------------

def _text_load(b: dict, a: dict) -> None:
    customers, invoices = b["sizes"]["small"]
    print(f"== Throughput and latency ({b['name']}, {invoices:,} invoices over {customers:,} "
          f"customers) ==")
    print(f"{'URL':<18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99/p50':>8} "
          f"{'x hello':>8} {'errors':>7} {'other CPU':>10}")
    for name in [*PAGES, "hello-world"]:
        row = b["load"][name]
        print(f"{name:<18} {row['rps']:8.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} "
              f"{row['p99_ms'] / row['p50_ms']:8.1f} {hello_ratio(b, name):8.2f} "
              f"{row['errors']:7d} {row['other_cpu']:10.0%}")


def _text_scale(b: dict, a: dict) -> None:
    (_, small), (customers, large) = b["sizes"]["small"], b["sizes"]["large"]
    print(f"== Scale ({b['name']}): {large:,} invoices over {customers:,} customers (bulk seed "
          f"{b['seed_seconds']['large']:.0f} s) vs {small:,}; medians of {a['rounds']} rounds "
          "taken by turns ==")
    print(f"{'page':<18} {'invoices':>10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'server ms':>10} {'other CPU':>10}")
    for name in SCALED_PAGES:
        for size in ("small", "large"):
            row, server = b["scaled"][size][name], b["inprocess"][size][name]
            print(f"{name:<18} {b['sizes'][size][1]:10,} {row['rps']:8.0f} {row['p50_ms']:8.2f} "
                  f"{row['p99_ms']:8.2f} {server['server_ms']:10.2f} {row['other_cpu']:10.0%}")
        print(f"{'':<18} {'ratio':>10} {'':>8} {_ratio(b, name, 'p50_ms'):8.2f} "
              f"{_ratio(b, name, 'p99_ms'):8.2f} {_server_ratio(b, name):10.2f}")


def _text_inprocess(b: dict) -> None:
    small, large = b["sizes"]["small"][1], b["sizes"]["large"][1]
    print(f"== SQL statements and server time per request ({b['name']}; in-process, one at a "
          "time) ==")
    print(f"{'page':<18} {'queries':>8} {'ms @ ' + format(small, ','):>12} "
          f"{'ms @ ' + format(large, ','):>16}")
    for name in PAGES:
        few, many = b["inprocess"]["small"][name], b["inprocess"]["large"][name]
        queries = str(few["queries"]) if few["queries"] == many["queries"] else (
            f"{few['queries']}->{many['queries']}")
        print(f"{name:<18} {queries:>8} {few['server_ms']:12.2f} {many['server_ms']:16.2f}")


def _text_weights(weights: dict) -> None:
    print("== Sizes (bytes; bodies as served, no compression by the app) ==")
    loader = weights["loader.js"]
    print(f"loader.js: {loader['raw']:,} raw, {loader['gzipped']:,} gzipped (-9)")
    print(f"{'page':<18} {'html':>7} {'css':>7} {'js':>7} {'other':>6} {'headers':>8} "
          f"{'total':>7} {'gzipped':>8}")
    for name, row in weights.items():
        if name != "loader.js":
            print(f"{name:<18} {row['html']:7,} {row['css']:7,} {row['js']:7,} "
                  f"{row['other']:6,} {row['headers']:8,} {row['total']:7,} {row['gzipped']:8,}")


def text(r: dict) -> None:
    """The terminal report: each database's tables, the sizes and the sign-in flood once, then
    every target per database with ok/MISSED."""
    from bench import signin

    a, backends = r["args"], r["backends"]
    print()
    print(heading(r))
    for b in backends.values():
        print()
        _text_load(b, a)
        print()
        _text_scale(b, a)
        print()
        _text_inprocess(b)
    first = next(iter(backends.values()))
    print()
    _text_weights(first["weights"])
    for b in backends.values():
        if "signin" in b:
            signin.report(b["signin"], {**a, "rounds": a["signin_rounds"]})
            print(f"(the sign-in flood ran on {b['name']})")
    for backend, b in backends.items():
        print()
        print(f"== Targets ({b['name']}) ==")
        for ok, what in targets(backend, b, a):
            print(f"{_mark(ok):>6}  {what}")
    print()
    print("== Targets (sizes) ==")
    for ok, what in weight_targets(first["weights"]):
        print(f"{_mark(ok):>6}  {what}")
    if "seconds" in r:
        print(f"\n(the run took {r['seconds'] / 60:.1f} minutes)")


# --- markdown, for the README ------------------------------------------------------------------

def _table(head: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    lines = ["| " + " | ".join(head) + " |",
             "| " + " | ".join("---" if i < right_from else "---:" for i in range(len(head)))
             + " |"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _md_load(b: dict) -> list[str]:
    rows = []
    for name in [*PAGES, "hello-world"]:
        row = b["load"][name]
        rows.append([name, f"{row['rps']:,.0f}", f"{row['p50_ms']:.1f}", f"{row['p99_ms']:.1f}",
                     f"{row['p99_ms'] / row['p50_ms']:.1f}", f"{hello_ratio(b, name):.2f}",
                     f"{row['other_cpu']:.0%}"])
    return _table([f"URL ({b['name']}, {b['sizes']['small'][1]:,} invoices)", "req/s",
                   "p50 ms", "p99 ms", "p99/p50", "× hello-world", "other CPU"], rows)


def _md_scale(b: dict, rounds: int) -> list[str]:
    small, large = _short(b["sizes"]["small"][1]), _short(b["sizes"]["large"][1])
    rows = []
    for name in SCALED_PAGES:
        few, many = b["scaled"]["small"][name], b["scaled"]["large"][name]
        server = b["inprocess"]["small"][name], b["inprocess"]["large"][name]
        rows.append([name, f"{few['rps']:,.0f} / {many['rps']:,.0f}",
                     f"{few['p50_ms']:.1f} / {many['p50_ms']:.1f}",
                     f"{_ratio(b, name, 'p50_ms'):.2f}", f"{_ratio(b, name, 'p99_ms'):.2f}",
                     f"{server[0]['server_ms']:.2f} / {server[1]['server_ms']:.2f}"])
    return _table([f"scale, {b['name']} (medians of {rounds} rounds)",
                   f"req/s {small} / {large}", f"p50 ms {small} / {large}", "p50 ratio",
                   "p99 ratio", f"server ms {small} / {large}"], rows)


def _md_inprocess(b: dict) -> list[str]:
    small, large = _short(b["sizes"]["small"][1]), _short(b["sizes"]["large"][1])
    rows = []
    for name in PAGES:
        few, many = b["inprocess"]["small"][name], b["inprocess"]["large"][name]
        queries = str(few["queries"]) if few["queries"] == many["queries"] else (
            f"{few['queries']} → {many['queries']}")
        rows.append([name, queries, f"{few['server_ms']:.2f}", f"{many['server_ms']:.2f}"])
    return _table([f"page ({b['name']})", "SQL statements", f"server ms @ {small}",
                   f"server ms @ {large}"], rows)


def _md_weights(weights: dict) -> list[str]:
    rows = [[name, f"{row['total']:,}", f"{row['gzipped']:,}"]
            for name, row in weights.items() if name != "loader.js"]
    loader = weights["loader.js"]
    return [*_table(["page", "bytes transferred (HTML + CSS + JS + headers)",
                     "bodies gzipped"], rows),
            "", f"`loader.js`: {loader['raw']:,} bytes, {loader['gzipped']:,} gzipped."]


def markdown(r: dict) -> str:
    """The README's tables from one run: the heading, per database its throughput, scale,
    and statements/server-time tables and its targets, then the page weights."""
    lines = [f"One run, {heading(r)}.", ""]
    for backend, b in r["backends"].items():
        lines += [f"#### {b['name']}", "", *_md_load(b), "", *_md_scale(b, r["args"]["rounds"]),
                  "", *_md_inprocess(b), ""]
        lines += [f"- {_mark(ok)}: {what}" for ok, what in targets(backend, b, r["args"])]
        lines.append("")
    first = next(iter(r["backends"].values()))
    lines += ["#### Page weights", "", *_md_weights(first["weights"])]
    return "\n".join(lines)


def load_results() -> dict:
    """The last run's results, refused when missing or written before both databases were."""
    if not RESULTS.exists():
        raise SystemExit(f"{RESULTS} is missing: run `make bench` first")
    results = json.loads(RESULTS.read_text())
    if "backends" not in results:
        raise SystemExit(f"{RESULTS} is from before the two-database bench: run it again")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", action="store_true", help="the terminal report instead")
    args = parser.parse_args()
    results = load_results()
    if args.text:
        text(results)
    else:
        print(markdown(results))


if __name__ == "__main__":
    main()
