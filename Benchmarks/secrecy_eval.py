#!/usr/bin/env python3
"""Scores the state-secret rule (issue 12) on a labelled corpus: runs `thugate scan --format
json` over the messages of Benchmarks/secrecy-eval/make_corpus.py (and, with --adversarial, of
adversarial.py), compares each message's findings with its label and writes Markdown tables:
precision and recall overall and per format, placement, encoding and level; false positives per
hard-negative category; findings on the benign letters; and each adversarial file's result and
wall time.

    python3 Benchmarks/secrecy-eval/make_corpus.py --out /tmp/sc
    python3 Benchmarks/secrecy-eval/adversarial.py --out /tmp/sa
    python3 Benchmarks/secrecy_eval.py --bin .build/release/thugate --corpus /tmp/sc --adversarial /tmp/sa \\
        [--config F] [--markdown out.md]

A message counts as "secret" when scan reports a finding with rule `state-secret`, and as
"unchecked" with rule `secrecy-unchecked` (both can hold); the findings' detail text is only
searched for a level name, never needed.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict

SECRET_RULE = "state-secret"
UNCHECKED_RULE = "secrecy-unchecked"
LEVEL_WORDS = [("tuyet-mat", re.compile(r"tuy[eệ]t[ -]m[aậ]t|tuyet-mat", re.I)),
               ("toi-mat", re.compile(r"t[oố]i[ -]m[aậ]t|toi-mat", re.I)),
               ("mat", re.compile(r"\bm[aậ]t\b", re.I))]


def load_labels(corpus):
    with open(os.path.join(corpus, "labels.jsonl"), encoding="utf-8") as f:
        labels = [json.loads(line) for line in f if line.strip()]
    for label in labels:
        label["path"] = os.path.abspath(os.path.join(corpus, label["file"]))
    return labels


def scan(binary, files, config, timeout):
    """One `thugate scan` run over `files`: {path: report}, wall seconds, and why it failed (if)."""
    cmd = [binary, "scan", "--format", "json"] + (["--config", config] if config else []) + files
    started = time.monotonic()
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return parse(out), time.monotonic() - started, f"timeout after {timeout:g} s"
    wall = time.monotonic() - started
    problem = None
    if run.returncode not in (0, 1):
        problem = f"exit {run.returncode}: {run.stderr.strip()[-300:]}"
    return parse(run.stdout), wall, problem


def parse(stdout):
    reports = {}
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                report = json.loads(line)
            except json.JSONDecodeError:
                continue
            reports[os.path.abspath(report.get("file", ""))] = report
    return reports


def scan_all(binary, labels, config, batch, timeout):
    """Scans in batches of one format each (so a batch's time is that format's); a batch that
    fails or times out is scanned again file by file. Returns the reports, the total wall time
    and {format: (messages, wall seconds)}."""
    results = {}
    by_format = defaultdict(list)
    for label in labels:
        by_format[label["format"]].append(label["path"])
    batches = [(fmt, files[i:i + batch]) for fmt, files in sorted(by_format.items()) for i in range(0, len(files), batch)]
    total_wall = 0.0
    per_format = defaultdict(lambda: [0, 0.0])
    for n, (fmt, chunk) in enumerate(batches, start=1):
        reports, wall, problem = scan(binary, chunk, config, timeout * len(chunk))
        missing = [f for f in chunk if f not in reports]
        print(f"secrecy_eval: batch {n}/{len(batches)} ({fmt}): {len(chunk)} messages in {wall:.1f} s"
              + (f" ({problem}; {len(missing)} again one by one)" if missing else ""), file=sys.stderr)
        results.update(reports)
        for f in missing:
            single, more, problem = scan(binary, [f], config, timeout)
            wall += more
            results[f] = single.get(f) or {"file": f, "action": "error", "findings": [], "error": problem or "no report"}
        total_wall += wall
        per_format[fmt][0] += len(chunk)
        per_format[fmt][1] += wall
    return results, total_wall, per_format


def startup_seconds(binary, config, corpus_file):
    """The median wall time of `thugate scan` on one small message: the process start (libclamav
    and libmagic loading) that each batch pays once."""
    times = sorted(scan(binary, [corpus_file], config, 60)[1] for _ in range(5))
    return times[2]


def outcome(report):
    rules = {finding.get("rule") for finding in report.get("findings", [])}
    level = None
    for finding in report.get("findings", []):
        if finding.get("rule") == SECRET_RULE:
            for name, pattern in LEVEL_WORDS:
                if pattern.search(finding.get("detail", "")):
                    level = name
                    break
            if level:
                break
    return {"secret": SECRET_RULE in rules, "unchecked": UNCHECKED_RULE in rules, "level": level,
            "error": report.get("error"), "rules": sorted(r for r in rules if r)}


class Tally:
    def __init__(self):
        self.positives = self.tp = self.negatives = self.fp = self.unchecked = self.errors = 0

    def add(self, label, got):
        if got["error"]:
            self.errors += 1
        if got["unchecked"] and label["expected"] != "unchecked":
            self.unchecked += 1
        if label["expected"] == "secret":
            self.positives += 1
            self.tp += got["secret"]
        elif label["expected"] == "none":
            self.negatives += 1
            self.fp += got["secret"]

    def row(self, name):
        flagged = self.tp + self.fp
        precision = f"{self.tp / flagged:.3f}" if flagged else "–"
        recall = f"{self.tp / self.positives:.3f}" if self.positives else "–"
        return (f"| {name} | {self.positives} | {self.tp} | {recall} | {self.negatives} | {self.fp} | {precision} | "
                f"{self.unchecked} | {self.errors} |")


TABLE_HEAD = ("| {} | positives | found | recall | negatives | false positives | precision | unchecked (readable) | errors |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|")


def table(title, key, pairs):
    tallies = defaultdict(Tally)
    for label, got in pairs:
        tallies[label[key] or "–"].add(label, got)
    lines = [f"**{title}**", "", TABLE_HEAD.format(key)]
    for name in sorted(tallies):
        lines.append(tallies[name].row(name))
    return "\n".join(lines)


def evaluate(args):
    labels = load_labels(args.corpus)
    results, wall, per_format = scan_all(args.bin, labels, args.config, args.batch, args.timeout)
    smallest = min(labels, key=lambda l: os.path.getsize(l["path"]))["path"]
    startup = startup_seconds(args.bin, args.config, smallest)
    pairs = [(label, outcome(results[label["path"]])) for label in labels]
    total = Tally()
    for label, got in pairs:
        total.add(label, got)
    out = [f"Corpus {args.corpus}: {len(labels)} messages "
           f"({', '.join(f'{v} {k}' for k, v in sorted(Counter(l['expected'] for l in labels).items()))}); "
           f"`thugate scan` took {wall:.1f} s in batches of {args.batch} ({len(labels) / wall:.1f} messages/s).", "",
           TABLE_HEAD.format("set"), total.row("all"), ""]
    out += [f"**Scan time per format** (one batch or more of that format's messages; a scan process starts in "
            f"{startup * 1000:.0f} ms, median of 5 on the smallest message, and that is taken off each batch)", "",
            "| format | messages | MB | wall s | ms per message |", "|---|---:|---:|---:|---:|"]
    sizes = defaultdict(int)
    for label in labels:
        sizes[label["format"]] += os.path.getsize(label["path"])
    for fmt in sorted(per_format):
        count, seconds = per_format[fmt]
        batches = -(-count // args.batch)
        net = max(seconds - startup * batches, 0)
        out.append(f"| {fmt} | {count} | {sizes[fmt] / 1e6:.2f} | {seconds:.2f} | {net / count * 1000:.1f} |")
    out.append("")
    for title, key in (("Per format", "format"), ("Per placement", "placement"), ("Per encoding", "encoding"),
                       ("Per level", "level"), ("Per category", "category")):
        out += [table(title, key, pairs), ""]
    benign = [(l, g) for l, g in pairs if l["category"] == "benign"]
    benign_findings = sum(sum(1 for f in results[l["path"]].get("findings", []) if f.get("rule") == SECRET_RULE)
                          for l, _ in benign)
    out.append(f"Benign letters: {len(benign)} messages, {benign_findings} `{SECRET_RULE}` findings, "
               f"{sum(g['unchecked'] for _, g in benign)} `{UNCHECKED_RULE}`.")
    unreadable = [(l, g) for l, g in pairs if l["expected"] == "unchecked"]
    if unreadable:
        out.append(f"Unreadable documents (expected `{UNCHECKED_RULE}`): {len(unreadable)}, "
                   f"{sum(g['unchecked'] for _, g in unreadable)} reported so.")
    levels = [(l, g) for l, g in pairs if l["expected"] == "secret" and g["secret"] and g["level"]]
    if levels:
        out.append(f"Level named in the finding's detail: {len(levels)} of the found stamps, "
                   f"{sum(l['level'] == g['level'] for l, g in levels)} the labelled level.")
    other = Counter(rule for _, g in pairs for rule in g["rules"] if rule not in (SECRET_RULE, UNCHECKED_RULE))
    if other:
        out.append("Other rules' findings (messages): " + ", ".join(f"`{r}` {n}" for r, n in other.most_common()) + ".")
    wrong = [(l, g) for l, g in pairs if (l["expected"] == "secret") != g["secret"] or g["error"]
             or (l["expected"] == "unchecked") != g["unchecked"]]
    if wrong:
        out += ["", f"Misclassified ({len(wrong)}; the first {min(len(wrong), args.show)}):", "",
                "| file | expected | format | placement | encoding | note | rules |", "|---|---|---|---|---|---|---|"]
        for l, g in wrong[:args.show]:
            rules = ", ".join(g["rules"]) or ("error: " + g["error"] if g["error"] else "none")
            out.append(f"| {l['file']} | {l['expected']} | {l['format']} | {l['placement']} | {l['encoding']} | "
                       f"{l['note']} | {rules} |")
    return out, pairs


def run_measured(cmd, timeout):
    """Runs `cmd`: its stdout, exit status, whether it was killed at `timeout`, wall seconds and
    peak RSS in kB (wait4 on that one child, not the cumulative RUSAGE_CHILDREN)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()))
    reader.start()
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            proc.kill()
            timed_out = True
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.01)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    return b"".join(chunks).decode("utf-8", "replace"), proc.returncode, timed_out, wall, usage.ru_maxrss


def adversarial(args):
    labels = load_labels(args.adversarial)
    out = ["", f"Adversarial set {args.adversarial} (one `thugate scan` per message, {args.adversarial_timeout:g} s limit):", "",
           "| file | document | expected | rules | action | wall s | max RSS MB | result |", "|---|---|---|---|---|---:|---:|---|"]
    for label in labels:
        cmd = [args.bin, "scan", "--format", "json"] + (["--config", args.config] if args.config else []) + [label["path"]]
        stdout, returncode, timed_out, wall, rss_kb = run_measured(cmd, args.adversarial_timeout)
        rss = f"{rss_kb / 1024:.0f}"
        report = parse(stdout).get(label["path"], {})
        got = outcome(report) if report else {"rules": [], "unchecked": False, "secret": False}
        if timed_out:
            result = "TIMEOUT"
        elif returncode not in (0, 1):
            result = f"CRASH (exit {returncode})"
        elif got["unchecked"]:
            result = "ok: not fully checked"
        else:
            result = "MISSED: no " + UNCHECKED_RULE
        out.append(f"| {label['file']} | {label['format']}: {label['note']} | {label['expected']} | "
                   f"{', '.join(got['rules']) or 'none'} | {report.get('action', '–')} | {wall:.2f} | {rss} | {result} |")
        print(f"secrecy_eval: {label['file']}: {result} in {wall:.2f} s", file=sys.stderr)
    out.append("")
    out.append("Max RSS is the scan process's peak resident set (wait4), helper processes it starts not included.")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="the thugate binary")
    parser.add_argument("--corpus", required=True, help="a directory made by make_corpus.py")
    parser.add_argument("--adversarial", help="a directory made by adversarial.py")
    parser.add_argument("--config", help="configuration file passed to thugate scan")
    parser.add_argument("--batch", type=int, default=40, help="messages per scan run")
    parser.add_argument("--timeout", type=float, default=60, help="seconds allowed per message in a batch")
    parser.add_argument("--adversarial-timeout", type=float, default=120)
    parser.add_argument("--show", type=int, default=40, help="misclassified messages listed")
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--results", help="write each message's label and outcome here (JSON lines), to diff two builds")
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    lines, pairs = evaluate(args)
    if args.results:
        with open(args.results, "w", encoding="utf-8") as f:
            for label, got in pairs:
                f.write(json.dumps({**{k: v for k, v in label.items() if k != "path"}, "got": got}, ensure_ascii=False) + "\n")
    if args.adversarial:
        lines += adversarial(args)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
