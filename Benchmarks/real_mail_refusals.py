#!/usr/bin/env python3
"""How much ordinary mail written by other software ThuGate refuses (issue 9 item 3).

Two sets of messages go through a real `thugate serve` (shipped policy, Maildir upstream) over
SMTP, once per binary given, and every reply to the final dot is counted:

- **public**: the mail test corpora of other projects (Ruby's `mail`, PHP's mail-mime-parser and
  php-mime-mail-parser, rspamd's functional tests). They are not committed here: bring them onto
  the machine first (`fetch github:mikel/mail` etc. puts bare clones under /work/.mirror) or give
  `--corpus DIR` with .eml files. Files are read straight from the clones with `git show`.
- **generated**: broken-but-common shapes that real software writes, made here with Python's
  `email` package: truncated transfers (no final boundary, cut base64), mailing-list footers
  (after a base64 body, in the epilogue), Outlook / Thunderbird / Apple Mail structures and
  boundaries, `="` left raw in quoted-printable HTML, a multipart whose boundary parameter was
  lost, 4 KB header lines and 20 KB single-line HTML.

Refused means not delivered: a 4xx or 5xx reply, or held in quarantine.

    python3 Benchmarks/real_mail_refusals.py --binary before=/path/to/old/thugate --binary after=.build/release/thugate
"""
import argparse
import base64
import collections
import random
import re
import smtplib
import subprocess
import sys
import tempfile
import threading
from email.message import EmailMessage
from email.policy import SMTP, compat32
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIRRORS = Path("/work/.mirror")
PUBLIC = {
    # repository (as fetch names it) → folders with messages
    "mikel+mail": ["spec/fixtures/emails/"],
    "zbateson+mail-mime-parser": ["tests/_data/emails/"],
    "php-mime-mail-parser+php-mime-mail-parser": ["tests/mails/"],
    "rspamd+rspamd": ["test/functional/messages/"],
}


def looks_like_mail(data: bytes) -> bool:
    head = data[:2000]
    return bool(re.match(rb"(From |[A-Za-z0-9-]+:)", head)) and re.search(rb"(?im)^(from|subject|received|to|date|message-id):", head) is not None


def public_messages(extra_dirs):
    for repo, folders in PUBLIC.items():
        git = MIRRORS / repo / "repo"
        if not git.exists():
            print(f"note: {git} missing (fetch github:{repo.replace('+', '/')}); skipped", file=sys.stderr)
            continue
        names = subprocess.run(["git", "-C", str(git), "ls-tree", "-r", "--name-only", "HEAD"], capture_output=True,
                               check=True).stdout.decode("utf-8", "replace").splitlines()
        for name in names:
            if not any(name.startswith(f) for f in folders) or "/files/" in name:
                continue
            shown = subprocess.run(["git", "-C", str(git), "show", f"HEAD:{name}"], capture_output=True)
            if shown.returncode != 0:
                # The snapshot lists some large files without their content.
                print(f"note: {repo}:{name} not in the snapshot; skipped", file=sys.stderr)
                continue
            data = shown.stdout
            if looks_like_mail(data):
                yield repo.split("+")[0], f"{repo}:{name}", data
    for directory in extra_dirs:
        for path in sorted(Path(directory).rglob("*")):
            if path.is_file() and looks_like_mail(path.read_bytes()):
                yield "corpus", str(path), path.read_bytes()


WORDS = ("kinh gui cac don vi bao cao cong van quyet dinh uy ban nhan dan tinh quang ninh so thong tin "
         "truyen thong ke hoach trien khai nam hai nghin meeting agenda minutes please find attached").split()


def sentence(rng, n=12):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def paragraphs(rng, n=4):
    return "\n\n".join(" ".join(sentence(rng) for _ in range(5)) for _ in range(n)) + "\n"


def base_message(rng, kind):
    msg = EmailMessage()
    msg["From"] = "Nguyen Van A <a@quangninh.gov.vn>"
    msg["To"] = "b@quangninh.gov.vn"
    msg["Subject"] = sentence(rng, 5)
    msg["Message-ID"] = f"<{rng.getrandbits(64):x}@quangninh.gov.vn>"
    text = paragraphs(rng)
    msg.set_content(text)
    if kind in ("alternative", "mixed", "related"):
        html = "<html><body>" + "".join(f'<p style="margin:0">{p}</p>' for p in text.split("\n\n")) + "</body></html>\n"
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
    if kind == "mixed":
        pdf = b"%PDF-1.4\n" + bytes(rng.randrange(256) for _ in range(rng.randrange(2000, 30000))) + b"\n%%EOF\n"
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="bao-cao.pdf")
        msg.add_attachment(paragraphs(rng, 2).encode(), maintype="text", subtype="plain", filename="ghi-chu.txt")
    return msg


def generated_messages(count):
    """(shape, bytes) pairs of broken-but-common mail, deterministic."""
    rng = random.Random(9)
    shapes = collections.Counter()
    out = []
    for i in range(count):
        kind = ["plain", "alternative", "mixed"][i % 3]
        msg = base_message(rng, kind)
        good = msg.as_bytes(policy=SMTP)
        boundary = (msg.get_boundary() or "").encode()
        variant = i % 11
        if variant == 0:
            shape, data = "well-formed (Python email)", good
        elif variant == 1 and boundary:
            # A transfer cut short: the final boundary (and maybe part of the last part) is gone.
            end = good.rindex(b"--" + boundary + b"--")
            data = good[:rng.randrange(end - 200, end)] if end > 400 else good[:end]
            shape, data = "truncated, no final boundary", data.rstrip(b"\r\n") + b"\r\n"
        elif variant == 2:
            single = EmailMessage()
            for h in ("From", "To", "Subject", "Message-ID"):
                single[h] = msg[h]
            single.set_content(paragraphs(rng), cte="base64")
            footer = (b"\r\n_______________________________________________\r\nDanh-sach mailing list\r\n"
                      b"Danh-sach@lists.quangninh.gov.vn\r\nhttps://lists.quangninh.gov.vn/mailman/listinfo/danh-sach\r\n")
            shape, data = "list footer after a base64 body", single.as_bytes(policy=SMTP) + footer
        elif variant == 3 and boundary:
            footer = b"\r\n--\r\nYou received this message because you are subscribed to the group.\r\n"
            shape, data = "list footer in the epilogue", good + footer
        elif variant == 4 and kind != "plain":
            # Mail merge and marketing tools write raw `="` in QP HTML.
            shape, data = "raw =\" in quoted-printable HTML", good.replace(b'style=3D"', b'style="')
        elif variant == 5 and boundary:
            # A folding bug drops the parameter: `Content-Type: multipart/mixed;` and no boundary.
            data = re.sub(rb';\s*boundary="[^"]*"', b"", good, count=1)
            shape = "multipart without boundary parameter"
        elif variant == 6:
            to = ", ".join(f"Nguoi nhan {k} <nguoi{k}@quangninh.gov.vn>" for k in range(120))
            shape, data = "4 KB To: line", good.replace(b"To: b@quangninh.gov.vn", b"To: " + to.encode(), 1)
        elif variant == 7:
            html = ("<html><body>" + "".join(f"<p>{sentence(rng)}</p>" for _ in range(400)) + "</body></html>").encode()
            head = bytes(msg["Subject"], "ascii")
            shape = "20 KB single-line 8bit HTML"
            data = (b"From: a@quangninh.gov.vn\r\nTo: b@quangninh.gov.vn\r\nSubject: " + head +
                    b"\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + html + b"\r\n")
        elif variant == 8:
            # Outlook: NextPart boundary, preamble, QP with soft breaks, an inline image.
            b = f"----=_NextPart_000_{i:04X}_01DA2B3C.4D5E6F70".encode()
            img = base64.encodebytes(bytes(rng.randrange(256) for _ in range(3000))).replace(b"\n", b"\r\n")
            data = (b"From: a@quangninh.gov.vn\r\nTo: b@quangninh.gov.vn\r\nSubject: Outlook\r\nMIME-Version: 1.0\r\n"
                    b"X-Mailer: Microsoft Outlook 16.0\r\nContent-Type: multipart/related;\r\n\tboundary=\"" + b + b"\"\r\n\r\n"
                    b"This is a multipart message in MIME format.\r\n\r\n--" + b + b"\r\nContent-Type: text/html;\r\n\tcharset=\"us-ascii\"\r\n"
                    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n<html><body><p class=3DMsoNormal>" + sentence(rng).encode() +
                    b"<o:p></o:p></p><img src=3D\"cid:image001.png@01DA2B3C.4D5E6F70\"></body></html>\r\n\r\n--" + b +
                    b"\r\nContent-Type: image/png;\r\n\tname=\"image001.png\"\r\nContent-Transfer-Encoding: base64\r\n"
                    b"Content-ID: <image001.png@01DA2B3C.4D5E6F70>\r\n\r\n" + img + b"\r\n--" + b + b"--\r\n\r\n")
            shape = "Outlook multipart/related"
        elif variant == 9:
            # Apple Mail: Apple-Mail boundary, inline attachment, no final CRLF after the close.
            b = f"Apple-Mail={i:08X}-4A3B-4C5D-8E9F-0123456789AB".encode()
            data = (b"From: a@quangninh.gov.vn\r\nContent-Type: multipart/mixed;\r\n\tboundary=\"" + b + b"\"\r\n"
                    b"Mime-Version: 1.0 (Mac OS X Mail 16.0)\r\nSubject: Apple\r\nTo: b@quangninh.gov.vn\r\n\r\n\r\n--" + b +
                    b"\r\nContent-Transfer-Encoding: 7bit\r\nContent-Type: text/plain;\r\n\tcharset=us-ascii\r\n\r\n" +
                    sentence(rng).encode() + b"\r\n\r\n--" + b + b"\r\nContent-Disposition: inline;\r\n\tfilename=ghi-chu.txt\r\n"
                    b"Content-Type: text/plain;\r\n\tx-unix-mode=0644;\r\n\tname=\"ghi-chu.txt\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" +
                    paragraphs(rng, 1).replace("\n", "\r\n").encode() + b"\r\n--" + b + b"--")
            shape = "Apple Mail, no line break after the close delimiter"
        else:
            # Thunderbird: format=flowed, a dashes boundary, a "This is a multi-part message" preamble.
            b = f"------------{rng.getrandbits(72):018x}".encode()
            data = (b"Message-ID: <x@quangninh.gov.vn>\r\nDate: Mon, 1 Dec 2026 08:00:00 +0700\r\nMIME-Version: 1.0\r\n"
                    b"User-Agent: Mozilla Thunderbird\r\nFrom: a@quangninh.gov.vn\r\nTo: b@quangninh.gov.vn\r\nSubject: Thunderbird\r\n"
                    b"Content-Type: multipart/mixed; boundary=\"" + b + b"\"\r\n\r\nThis is a multi-part message in MIME format.\r\n--" + b +
                    b"\r\nContent-Type: text/plain; charset=UTF-8; format=flowed\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" +
                    sentence(rng).encode() + b" \r\n" + sentence(rng).encode() + b"\r\n\r\n--" + b +
                    b"\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\n"
                    b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"%PDF-1.4\n%%EOF\n" * 50).replace(b"\n", b"\r\n") +
                    b"\r\n--" + b + b"--\r\n")
            shape = "Thunderbird multipart/mixed"
        if variant in (1, 3, 5) and not boundary or (variant == 4 and kind == "plain"):
            shape, data = "well-formed (Python email)", good
        shapes[shape] += 1
        out.append((shape, data))
    return out


def crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n|\r", b"\r\n", data)


class Gateway:
    def __init__(self, binary, work: Path):
        work.mkdir(parents=True, exist_ok=True)
        config = work / "thugate.toml"
        config.write_text(
            f'[server]\nspool_directory = "{work}/spool"\npid_file = "{work}/thugate.pid"\n'
            f'[scan]\nsignatures = "{ROOT}/Config/signatures"\ntemporary_directory = "{work}/tmp"\n'
            f'[quarantine]\ndirectory = "{work}/quarantine"\n')
        self.proc = subprocess.Popen([binary, "serve", "--config", str(config), "--listen", "127.0.0.1:0",
                                      "--upstream", f"maildir:{work}/mail"], cwd=work, stderr=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL)
        self.port = None
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                m = re.search(rb"listening on [0-9.]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60):
            raise RuntimeError(f"{binary} did not start")

    def send(self, data: bytes):
        """(delivered, reason) for one message."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=120) as client:
            client.ehlo("bench.test")
            client.mail("a@quangninh.gov.vn", ["BODY=8BITMIME"])
            client.rcpt("b@quangninh.gov.vn")
            code, text = client.data(data)
        text = text.decode("utf-8", "replace")
        if code != 250:
            return False, f"{code} " + re.sub(r" \(part [^)]*\)$", "", text.split(" / ")[-1])[:70]
        if "Held for review" in text:
            return False, "held: " + text[:60]
        return True, ""

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", action="append", required=True, help="LABEL=PATH of a thugate binary (repeat)")
    parser.add_argument("--corpus", action="append", default=[], help="a directory of messages to add")
    parser.add_argument("--generated", type=int, default=330, help="generated messages")
    parser.add_argument("--details", action="store_true", help="list every refused message")
    args = parser.parse_args()
    sets = collections.defaultdict(list)
    for source, name, data in public_messages(args.corpus):
        sets["public"].append((source, name, crlf(data)))
    for shape, data in generated_messages(args.generated):
        sets["generated"].append((shape, shape, crlf(data)))
    print(f"messages: public {len(sets['public'])}, generated {len(sets['generated'])}", file=sys.stderr)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, spec in enumerate(args.binary):
            label, binary = spec.split("=", 1)
            gateway = Gateway(binary, Path(tmp) / f"gw{n}")
            try:
                for set_name, messages in sets.items():
                    for group, name, data in messages:
                        results[(label, set_name, group, name)] = gateway.send(data)
            finally:
                gateway.stop()
    labels = [spec.split("=", 1)[0] for spec in args.binary]
    print("| set | messages | " + " | ".join(f"refused, {label}" for label in labels) + " |")
    print("|---|---|" + "---|" * len(labels))
    for set_name, messages in sets.items():
        groups = sorted({g for g, _, _ in messages})
        for group in groups + ["all"]:
            names = [n for g, n, _ in messages if group in ("all", g)]
            cells = []
            for label in labels:
                refused = sum(not results[(label, set_name, g, n)][0] for g, n, _ in messages if group in ("all", g))
                cells.append(f"{refused} ({100 * refused / len(names):.1f} %)")
            title = f"**{set_name}, all**" if group == "all" else f"{set_name}: {group}"
            print(f"| {title} | {len(names)} | " + " | ".join(cells) + " |")
    for label in labels:
        reasons = collections.Counter(r for (l, _, _, _), (ok, r) in results.items() if l == label and not ok)
        print(f"\nwhy refused, {label}: " + ("; ".join(f"{r} ×{c}" for r, c in reasons.most_common()) or "nothing refused"))
        if args.details:
            for (l, s, g, n), (ok, r) in sorted(results.items()):
                if l == label and not ok:
                    print(f"  {s} {n}: {r}")


if __name__ == "__main__":
    main()
