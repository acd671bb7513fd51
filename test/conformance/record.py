#!/usr/bin/env python3
"""Record the expected traces of conformance scenarios on real OTP.

Runs the reference oracle (otp_scenario_runner.exs) several times per scenario, removes the wall-clock "t"
keys, applies the per-scenario recording hints from hints.json (any_order groups, loose t_min bounds),
refuses to write when the runs disagree, and stores the trace as the scenario's "expect". Finally it runs
the oracle once more with --check against the file it just wrote. See README.md.
"""
import argparse
import difflib
import json
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_ORACLE = str(HERE / "oracle" / "otp_scenario_runner.exs")
ORACLE = os.environ.get("OTP_ORACLE", DEFAULT_ORACLE)


def run_oracle(path, check=False):
    cmd = ["elixir", "--erl", "+S 1:1", ORACLE, str(path)] + (["--check"] if check else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def sub(event, pattern):
    """Same subset match as the oracle: every key of the pattern must be equal in the event."""
    return all(event.get(k) == v for k, v in pattern.items())


def find(events, pattern, start=0, occurrence=1):
    seen = 0
    for i in range(start, len(events)):
        if sub(events[i], pattern):
            seen += 1
            if seen == occurrence:
                return i
    raise SystemExit(f"hint pattern {json.dumps(pattern)} not found in the trace; fix hints.json")


def apply_hints(events, hints):
    """events still carry "t". Returns the expect list (no "t", any_order groups, t_min bounds)."""
    events = [dict(e) for e in events]
    for tm in hints.get("t_min", []):
        i = find(events, tm["match"], occurrence=tm.get("occurrence", 1))
        if events[i]["t"] < tm["t_min"]:
            raise SystemExit(f"t_min hint {tm} violated by the recorded trace (t={events[i]['t']})")
        events[i]["t_min"] = tm["t_min"]
    for e in events:
        e.pop("t", None)
    ranges = []
    for g in hints.get("any_order", []):
        if "after" in g:
            first = find(events, g["after"], occurrence=g.get("occurrence", 1)) + 1
        else:
            first = 0
        if "until" in g:
            end = find(events, g["until"], start=first)
        else:
            end = first + g["count"]
        if end - first < 2 or end > len(events):
            raise SystemExit(f"any_order hint {g} selects {end - first} events; fix hints.json")
        ranges.append((first, end))
    ranges.sort()
    out, pos = [], 0
    for first, end in ranges:
        if first < pos:
            raise SystemExit("overlapping any_order hints; fix hints.json")
        out.extend(events[pos:first])
        out.append({"any_order": events[first:end]})
        pos = end
    out.extend(events[pos:])
    return out


def canonical(expect):
    """Order-insensitive inside any_order groups, so equal runs compare equal."""
    lines = []
    for item in expect:
        if "any_order" in item:
            lines.append("any_order:")
            lines.extend("  " + s for s in sorted(json.dumps(e, sort_keys=True) for e in item["any_order"]))
        else:
            lines.append(json.dumps(item, sort_keys=True))
    return lines


def record(path, runs, hints, final_check=True):
    expects = []
    for n in range(runs):
        rc, events, err = run_oracle(path)
        if rc != 0 or not events:
            print(f"  run {n + 1}: oracle failed (rc={rc})\n{err}", file=sys.stderr)
            return False
        expects.append(apply_hints(events, hints))
    base = canonical(expects[0])
    for n, exp in enumerate(expects[1:], 2):
        other = canonical(exp)
        if other != base:
            print(f"  NONDETERMINISTIC: run 1 and run {n} differ:", file=sys.stderr)
            sys.stderr.writelines(l + "\n" for l in difflib.unified_diff(base, other, "run1", f"run{n}", lineterm=""))
            return False
    doc = json.loads(path.read_text())
    doc["expect"] = expects[0]
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return check(path) if final_check else True


def check(path):
    rc, _events, err = run_oracle(path, check=True)
    ok = rc == 0
    if not ok:
        print("  " + err.strip().splitlines()[-1] if err.strip() else "  check failed", file=sys.stderr)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", help="scenario files (default: every scenarios/*.json)")
    ap.add_argument("--runs", type=int, default=3, help="oracle runs that must agree (default 3)")
    ap.add_argument("--check", action="store_true", help="only run the oracle's --check, write nothing")
    ap.add_argument("--no-final-check", action="store_true", help="skip the --check run after writing (the fuzzer's quick mode)")
    args = ap.parse_args()
    if not pathlib.Path(ORACLE).is_file():
        raise SystemExit(f"oracle not found at {ORACLE}; set OTP_ORACLE=/path/to/otp_scenario_runner.exs")
    files = [pathlib.Path(f) for f in args.files] or sorted((HERE / "scenarios").glob("*.json"))
    all_hints = json.loads((HERE / "hints.json").read_text())
    failed = []
    for f in files:
        ok = check(f) if args.check else record(f, args.runs, all_hints.get(f.name, {}), not args.no_final_check)
        print(f"{'ok  ' if ok else 'FAIL'} {f.name}", flush=True)
        if not ok:
            failed.append(f.name)
    if failed:
        print(f"{len(failed)} failed: {' '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
