#!/usr/bin/env python3
"""Western Latin-1 / Windows-1252 text that must never be converted as Vietnamese: the corpus
of false-conversion measurements (issue 9 item 4).

    Benchmarks/western_corpus.py OUT.tsv [--seed N] [--bodies N] [--subjects N]

Writes one sample per line, `set<TAB>charset<TAB>label<TAB>base64(bytes)`: the charset the
bytes are genuinely in (`iso-8859-1` or `windows-1252`) and the MIME label the sample travels
with (`-` for none). The text is real Western text found on the machine:

- gettext translations (`/usr/share/locale/{fr,de,es,pt,pt_BR,it,ca,nl,da,sv,nb,fi}/*.mo`):
  every translated string, as short subjects, and runs of them as bodies;
- Debian's word lists (`wfrench`, `wngerman`, `wspanish`, `wportuguese`, `wbrazilian`,
  `witalian`): subjects, file names and bodies made of real words, with the Western
  punctuation and spacing real mail has (NBSP before French `:;!?` and inside numbers,
  `«»`, `N°`, `25 °C`, `© 2024`, `·`, curly quotes and dashes in Windows-1252), also as HTML
  with `<p>&nbsp;</p>`-style empty paragraphs written as NBSP;
- the prose of the translated manual pages (`/usr/share/man/{lang}/`), by paragraph;
- ISO-8859-1 patch mail whose lines carry no-break spaces.

`Benchmarks/viet_detect.py` runs it through the detector (thugate-vietbench --western).
"""
import argparse
import base64
import gettext
import glob
import os
import random
import sys

LANGS = ["fr", "de", "es", "pt", "pt_BR", "it", "ca", "nl", "da", "sv", "nb", "fi"]
WORDLISTS = ["french", "ngerman", "spanish", "portuguese", "brazilian", "italian"]


def translations():
    """Every msgstr of every .mo file of the Western locales, per language."""
    out = {}
    for lang in LANGS:
        strings = []
        for path in sorted(glob.glob(f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo")):
            try:
                with open(path, "rb") as f:
                    catalog = gettext.GNUTranslations(f)._catalog
            except Exception:
                continue
            for key, value in catalog.items():
                if not key or not isinstance(value, str):
                    continue
                value = value.replace("\r", "")
                if value.strip():
                    strings.append(value)
        if strings:
            out[lang] = sorted(set(strings))  # the same message is in many catalogs
    return out


def manual_paragraphs():
    """Prose of the translated manual pages (`/usr/share/man/{lang}/`), their roff requests
    dropped, as paragraphs of up to 12 lines."""
    import gzip
    import re
    out = []
    for lang in LANGS:
        for path in sorted(glob.glob(f"/usr/share/man/{lang}/man*/*.gz")):
            try:
                with gzip.open(path, "rt", encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except Exception:
                continue
            prose = []
            for line in lines:
                if line.startswith((".", "'")) or not line.strip():
                    if len(prose) >= 12 or (not line.strip() and prose):
                        out.append("\n".join(prose))
                        prose = []
                    continue
                prose.append(re.sub(r"\\f[BIRP]|\\-|\\\(..|\\&|\\e", "", line))
            if prose:
                out.append("\n".join(prose))
    return out


def words(name):
    path = f"/usr/share/dict/{name}"
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="strict") as f:
        return [w.strip() for w in f if w.strip() and "'" not in w]


def encodings(text):
    """(set suffix, label, bytes) for each Western charset the text encodes in."""
    out = []
    try:
        out.append(("latin1", "iso-8859-1", text.encode("latin-1")))
        out.append(("latin1-unlabelled", None, text.encode("latin-1")))
    except UnicodeEncodeError:
        pass
    try:
        b = text.encode("cp1252")
        out.append(("cp1252", "windows-1252", b))
        out.append(("cp1252-unlabelled", None, b))
    except UnicodeEncodeError:
        pass
    return out


def punctuate(rng, lang, ws):
    """A sentence of real words with the punctuation and spacing of the language."""
    n = rng.randint(4, 16)
    sentence = [rng.choice(ws) for _ in range(n)]
    sentence[0] = sentence[0][:1].upper() + sentence[0][1:]
    s = " ".join(sentence)
    end = rng.choice([".", ".", ".", "!", "?", ":", ";"])
    if lang == "french" and end in "!?:;":
        s += "\u00a0" + end  # French typography: no-break space before high punctuation
    else:
        s += end
    r = rng.random()
    if r < 0.08:
        q = rng.choice(ws)
        s += f" «\u00a0{q}\u00a0»" if lang == "french" else f" «{q}»" if lang != "ngerman" else f" »{q}«"
    elif r < 0.14:
        s += f" N° {rng.randint(1, 99999)}" if rng.random() < 0.5 else f" N°{rng.randint(1, 9999)}"
    elif r < 0.18:
        s += f" {rng.randint(-20, 40)} °C"
    elif r < 0.21:
        s += f" © {rng.randint(1990, 2026)} {rng.choice(ws).capitalize()}"
    elif r < 0.24:
        s += f" {rng.randint(1, 999)}\u00a0{rng.randint(100, 999)} €"
    elif r < 0.27:
        s += f" {rng.choice(ws)} · {rng.choice(ws)} · {rng.choice(ws)}"
    elif r < 0.30:
        s += f" “{rng.choice(ws)}” – {rng.choice(ws)}…"
    elif r < 0.32:
        s += f" {rng.randint(1, 9)}ª {rng.randint(1, 9)}º ½ ¼ ± {rng.randint(1, 99)}µm"
    return s


def filename(rng, ws):
    parts = [rng.choice(ws) for _ in range(rng.randint(1, 4))]
    sep = rng.choice(["_", "-", " ", ""])
    name = sep.join(p.capitalize() if rng.random() < 0.5 else p for p in parts)
    if rng.random() < 0.3:
        name += f"{sep or '_'}N°{sep or '_'}{rng.randint(1, 9999999)}"
    if rng.random() < 0.3:
        name += f" {rng.randint(2000, 2026)}"
    return name + rng.choice([".pdf", ".docx", ".xlsx", ".odt", ".txt", ".zip", ".jpg"])


def patch(rng, ws):
    """A patch whose added lines hold no-break spaces (copied from a browser or a word processor)."""
    lines = ["diff --git a/src/main.c b/src/main.c", "--- a/src/main.c", "+++ b/src/main.c",
             f"@@ -{rng.randint(1, 400)},7 +{rng.randint(1, 400)},8 @@"]
    for _ in range(rng.randint(3, 20)):
        w = " ".join(rng.choice(ws) for _ in range(rng.randint(1, 6)))
        kind = rng.random()
        if kind < 0.3:
            lines.append(f"+\u00a0\u00a0\u00a0\u00a0/* {w} */")
        elif kind < 0.5:
            lines.append(f"+\tprintf(\"{w}\u00a0: %d\\n\", x);")
        elif kind < 0.6:
            lines.append("+\u00a0")
        else:
            lines.append(f" \tint x = {rng.randint(0, 100)}; // {w}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1252)
    parser.add_argument("--bodies", type=int, default=2000, help="generated bodies per word list")
    parser.add_argument("--subjects", type=int, default=10000, help="generated subjects and file names per word list")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    counts = {}
    with open(args.out, "w") as out:
        def emit(name, text):
            for suffix, label, data in encodings(text):
                if not any(b >= 0x80 for b in data):
                    continue  # ASCII never reaches the legacy detector
                key = f"{name}-{suffix}"
                counts[key] = counts.get(key, 0) + 1
                charset = "iso-8859-1" if suffix.startswith("latin1") else "windows-1252"
                out.write(f"{key}\t{charset}\t{label or '-'}\t{base64.b64encode(data).decode()}\n")

        for lang, strings in translations().items():
            for s in strings:
                emit("gettext-string", s)
            for i in range(0, len(strings), 25):
                emit("gettext-body", "\n".join(strings[i:i + 25]))
        for paragraph in manual_paragraphs():
            emit("manual-paragraph", paragraph)
        for name in WORDLISTS:
            ws = words(name)
            if not ws:
                print(f"word list {name} missing (apt-get install w{name})", file=sys.stderr)
                continue
            accented = [w for w in ws if any(ord(c) >= 0x80 for c in w)]
            for _ in range(args.subjects):
                k = rng.randint(1, 6)
                subject = " ".join(rng.choice(accented if rng.random() < 0.5 else ws) for _ in range(k))
                emit("wordlist-subject", rng.choice(["", "", "Re: ", "Fwd: ", "TR : "]) + subject)
                emit("wordlist-single", rng.choice(accented))
                emit("wordlist-filename", filename(rng, ws))
            for _ in range(args.bodies):
                body = "\n".join(" ".join(punctuate(rng, name, ws) for _ in range(rng.randint(1, 5)))
                                 for _ in range(rng.randint(1, 12)))
                emit("wordlist-body", body)
                emit("wordlist-html", "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">"
                     "<style>p { font-family: Arial, sans-serif; }</style></head><body>"
                     + "".join(f"<p style=\"margin:0\">{line}</p><p>\u00a0</p>" for line in body.split("\n"))
                     + "<div>--\u00a0<br>Société Générale · N°\u00a012</div></body></html>")
                emit("patch", patch(rng, ws))
        for s in ["N° 1467829", "Facture N°\u00a01467829", "Commande n°\u00a012", "Re: Dossier N°1467829",
                  "\u00a0", "Bonjour\u00a0!", "25\u00a0°C", "© 2024 Société Générale", "Prix\u00a0: 12\u00a0€",
                  "«\u00a0Citation\u00a0»", "Straße · Köln · Grüße", "São João", "Señor Muñoz", "Ça va ?"]:
            emit("issue-shape", s)
    for key in sorted(counts):
        print(f"{key}\t{counts[key]}", file=sys.stderr)
    print(f"total\t{sum(counts.values())}", file=sys.stderr)


if __name__ == "__main__":
    main()
