#!/usr/bin/env python3
"""Scores the auto-forward rule (issue 13) on the labelled set of
Benchmarks/forwarding-eval/make_set.py: runs `thugate scan --format json --mail-from X
--rcpt-to Y... FILE` once per message (each has its own envelope), counts a message as refused
when scan reports a finding with rule `auto-forward`, and prints Markdown: precision and recall
overall, per signal and per direction, false refusals per negative category, and the
misclassified messages with the finding's detail. Progress goes to stderr.

    python3 Benchmarks/forwarding-eval/make_set.py --out /tmp/fwdset
    python3 Benchmarks/forwarding_eval.py --bin .build/debug/thugate --set /tmp/fwdset [--config F] [--markdown out.md]
"""
import argparse
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

RULE = "auto-forward"


def load(set_dir):
    with open(os.path.join(set_dir, "labels.jsonl"), encoding="utf-8") as f:
        labels = [json.loads(line) for line in f if line.strip()]
    for label in labels:
        label["path"] = os.path.join(set_dir, label["file"])
    return labels


def scan(binary, label, config, timeout):
    """(refused, detail, problem) for one message in its envelope."""
    cmd = [binary, "scan", "--format", "json", "--mail-from", label["mail_from"] or "<>"]
    for rcpt in label["rcpt_to"]:
        cmd += ["--rcpt-to", rcpt]
    if config:
        cmd += ["--config", config]
    cmd.append(label["path"])
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, "", f"timeout after {timeout:g} s"
    problem = None if run.returncode in (0, 1) else f"exit {run.returncode}: {run.stderr.strip()[-300:]}"
    reports = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    if not reports:
        return False, "", problem or f"no report: {run.stderr.strip()[-300:]}"
    report = reports[0]
    want_from = "<" + label["mail_from"] + ">"
    got = report.get("envelope") or {}
    if got.get("mail_from") != want_from or len(got.get("rcpt_to") or []) != len(label["rcpt_to"]):
        problem = f"envelope judged {got} differs from the label's"
    findings = [f for f in report.get("findings", []) if f.get("rule") == RULE]
    return bool(findings), "; ".join(f.get("detail", "") for f in findings), problem


def signals_named(detail):
    m = re.search(r"automatically forwarded \(([^)]*)\)", detail)
    return [s.strip() for s in m.group(1).split(",")] if m else []


def ratio(a, b):
    return f"{a / b:.3f}" if b else "–"


def counts(rows):
    tp = sum(1 for r in rows if r["expected"] == "refuse" and r["refused"])
    fn = sum(1 for r in rows if r["expected"] == "refuse" and not r["refused"])
    fp = sum(1 for r in rows if r["expected"] == "deliver" and r["refused"])
    tn = sum(1 for r in rows if r["expected"] == "deliver" and not r["refused"])
    return tp, fn, fp, tn


def table_row(name, rows):
    tp, fn, fp, tn = counts(rows)
    return f"| {name} | {len(rows)} | {tp + fn} | {tp} | {fn} | {tn + fp} | {fp} | {ratio(tp, tp + fp)} | {ratio(tp, tp + fn)} |"


HEADER = ("| {} | messages | labelled refuse | refused | missed | labelled deliver | falsely refused | precision | recall |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|")


def report(rows, problems):
    out = []
    tp, fn, fp, tn = counts(rows)
    out.append(f"{len(rows)} messages: {tp + fn} labelled refuse, {tn + fp} labelled deliver. "
               f"Refused {tp + fp}: {tp} right, {fp} false refusals; {fn} forwards missed.\n")
    out.append(HEADER.format("set"))
    out.append(table_row("all", rows))
    out.append(table_row("forwards (pos/, incl. gov→gov)", [r for r in rows if r["signal"]]))
    out.append(table_row("forwards of list / bulk mail", [r for r in rows if r["category"].startswith("forward-of-")]))
    out.append(table_row("negatives (neg/)", [r for r in rows if not r["signal"]]))
    out.append("")
    out.append("**Per signal** (the trace the forwarding system writes, as labelled; gov→gov copies are the "
               "labelled-deliver column; \"named\" = the finding lists that signal among those it saw):\n")
    out.append("| signal | messages | labelled refuse | refused | missed | labelled deliver | falsely refused | precision | recall | named |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    by_signal = defaultdict(list)
    for r in rows:
        if r["signal"]:
            by_signal[r["signal"]].append(r)
    for signal, group in sorted(by_signal.items()):
        named = sum(1 for r in group if r["refused"] and signal in signals_named(r["detail"]))
        refused = sum(1 for r in group if r["refused"])
        out.append(table_row(f"`{signal}`", group) + f" {named}/{refused} |")
    out.append("")
    out.append("**Per system** (how each was made; see the note column of labels.jsonl):\n")
    out.append(HEADER.format("system"))
    by_system = defaultdict(list)
    for r in rows:
        if r["signal"]:
            kind, system = r["category"].split(":", 1)
            by_system[system + {"forward-of-list": " (of list mail)", "forward-of-bulk": " (of bulk mail)"}.get(kind, "")].append(r)
    for system, group in sorted(by_system.items()):
        out.append(table_row(system, group))
    out.append("")
    out.append("**Per direction:**\n")
    out.append(HEADER.format("direction"))
    by_direction = defaultdict(list)
    for r in rows:
        by_direction[r["direction"]].append(r)
    for direction in ["gov→gmail", "gmail→gov", "gov→gov", "none"]:
        if by_direction.get(direction):
            out.append(table_row(direction, by_direction[direction]))
    out.append("")
    out.append("**False refusals per negative category** (all labelled deliver):\n")
    out.append("| category | messages | falsely refused |\n|---|---:|---:|")
    by_category = defaultdict(list)
    for r in rows:
        if not r["signal"]:
            by_category[r["category"]].append(r)
    for category, group in sorted(by_category.items()):
        out.append(f"| {category} | {len(group)} | {sum(1 for r in group if r['refused'])} |")
    out.append("")
    wrong = [r for r in rows if (r["expected"] == "refuse") != r["refused"]]
    out.append(f"**Misclassified ({len(wrong)}):**\n")
    if wrong:
        out.append("| file | envelope | expected | got | signal / category | note | finding |\n|---|---|---|---|---|---|---|")
        for r in wrong:
            env = f"`{r['mail_from'] or '<>'}` → " + ", ".join(f"`{x}`" for x in r["rcpt_to"])
            out.append(f"| {r['file']} | {env} | {r['expected']} | {'refuse' if r['refused'] else 'deliver'} | "
                       f"{r['signal'] or r['category']} | {r['note']} | {r['detail'] or '–'} |")
    else:
        out.append("none")
    if problems:
        out.append("\n**Problems running scan:**\n")
        out += [f"- {p}" for p in problems]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="the thugate binary")
    parser.add_argument("--set", required=True, help="the directory make_set.py wrote")
    parser.add_argument("--config", help="a thugate.toml (default: the built-in defaults)")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--markdown", help="also write the Markdown here")
    args = parser.parse_args()
    labels = load(args.set)
    rows, problems = [], []
    for i, label in enumerate(labels, 1):
        refused, detail, problem = scan(args.bin, label, args.config, args.timeout)
        if problem:
            problems.append(f"{label['file']}: {problem}")
        rows.append(dict(label, refused=refused, detail=detail))
        ok = (label["expected"] == "refuse") == refused
        print(f"[{i}/{len(labels)}] {'ok   ' if ok else 'WRONG'} {label['file']}", file=sys.stderr)
    text = report(rows, problems)
    sys.stdout.write(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
