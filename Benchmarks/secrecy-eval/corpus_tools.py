"""Shared pieces of the secrecy evaluation's generators (make_corpus.py, adversarial.py): legacy
Vietnamese encoders written from the published charts (independent of the VietText code they
test), the .eml writer, and LibreOffice headless conversion in batches.
"""
import email.policy
import email.utils
import os
import re
import shutil
import subprocess
import unicodedata
import zipfile
from email.message import EmailMessage

# --- Legacy encodings -------------------------------------------------------------------------

# TCVN 5712:1993 VN3 (the ".VnTime" fonts, ABC): byte -> letter for 0xA1-0xFF (the published
# chart; below 0xA1 the bytes are ASCII and Windows-1252 punctuation). No toned capitals: the
# ".VnTimeH" fonts show these lowercase codes as capitals.
_TCVN3 = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ", 0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ",
    0xBE: "ắ", 0xC6: "ặ", 0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ", 0xCC: "è",
    0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ", 0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế",
    0xD6: "ệ", 0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị", 0xDF: "ò", 0xE1: "ỏ",
    0xE2: "õ", 0xE3: "ó", 0xE4: "ọ", 0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ", 0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ",
    0xF3: "ú", 0xF4: "ụ", 0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự", 0xFA: "ỳ",
    0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}
_TCVN3_ENCODE = {letter: byte for byte, letter in _TCVN3.items()}


def _as_windows1252(data: bytes) -> str:
    """Legacy bytes as a Word/LibreOffice document stores them: each byte as its Windows-1252
    character (the five undefined bytes as the C1 control of the same value)."""
    out = []
    for byte in data:
        try:
            out.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(byte))
    return "".join(out)


def tcvn3_bytes(text: str, upper_font: bool) -> bytes:
    """`text` in TCVN3. With `upper_font` (".VnTimeH") a toned capital is written at the code
    of its lowercase letter, as a typist using that font does."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ord(ch) < 0x80:
            out.append(ord(ch))
        elif ch in _TCVN3_ENCODE:
            out.append(_TCVN3_ENCODE[ch])
        elif upper_font and ch.lower() in _TCVN3_ENCODE:
            out.append(_TCVN3_ENCODE[ch.lower()])
        else:
            raise ValueError(f"{ch!r} has no TCVN3 code" + ("" if upper_font else " in the lowercase font"))
    return bytes(out)


def tcvn3_text(text: str, upper_font: bool) -> str:
    return _as_windows1252(tcvn3_bytes(text, upper_font))


# VNI-Windows: the ASCII base letter, then a mark byte (lowercase marks after lowercase letters,
# the byte 0x20 lower after capitals); ơ ư đ and the toned i, ỵ are single bytes.
_VNI_TONE = {"\u0301": 0xF9, "\u0300": 0xF8, "\u0309": 0xFB, "\u0303": 0xF5, "\u0323": 0xEF}
_VNI_CIRCUMFLEX = {None: 0xE2, "\u0301": 0xE1, "\u0300": 0xE0, "\u0309": 0xE5, "\u0303": 0xE3, "\u0323": 0xE4}
_VNI_BREVE = {None: 0xEA, "\u0301": 0xE9, "\u0300": 0xE8, "\u0309": 0xFA, "\u0303": 0xFC, "\u0323": 0xEB}
_VNI_I = {"\u0301": 0xED, "\u0300": 0xEC, "\u0309": 0xE6, "\u0303": 0xF3, "\u0323": 0xF2}


def vni_bytes(text: str) -> bytes:
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ord(ch) < 0x80:
            out.append(ord(ch))
            continue
        upper = ch != ch.lower()
        shift = 0x20 if upper else 0
        if ch.lower() == "đ":
            out.append(0xF1 - shift)
            continue
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        tone = next((m for m in marks if m in _VNI_TONE), None)
        modifier = next((m for m in marks if m in ("\u0302", "\u0306", "\u031B")), None)
        if modifier == "\u031B":  # horn: ơ ư are single bytes, the tone follows
            out.append((0xF4 if base.lower() == "o" else 0xF6) - shift)
            if tone:
                out.append(_VNI_TONE[tone] - shift)
            continue
        if base.lower() == "i" and tone:
            out.append(_VNI_I[tone] - shift)
            continue
        if base.lower() == "y" and tone == "\u0323":
            out.append(0xEE - shift)
            continue
        out.append(ord(base))
        if modifier == "\u0302":
            out.append(_VNI_CIRCUMFLEX[tone] - shift)
        elif modifier == "\u0306":
            out.append(_VNI_BREVE[tone] - shift)
        elif tone:
            out.append(_VNI_TONE[tone] - shift)
    return bytes(out)


def vni_text(text: str) -> str:
    return _as_windows1252(vni_bytes(text))


_CP1258_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258_bytes(text: str) -> bytes:
    """Windows-1258: base letters with their circumflex/breve/horn precomposed, the tone as a
    combining mark after them (what Word writes for Vietnamese in that code page)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        tones = [m for m in parts if m in _CP1258_TONES]
        rest = unicodedata.normalize("NFC", "".join(m for m in parts if m not in _CP1258_TONES))
        out += rest.encode("cp1258") + "".join(tones).encode("cp1258")
    return bytes(out)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def unaccented(text: str) -> str:
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return stripped.replace("Đ", "D").replace("đ", "d")


# --- Mail -------------------------------------------------------------------------------------

SENDER = "van.thu@stttt.quangninh.gov.vn"
RECIPIENT = "phong.cntt@sonv.quangninh.gov.vn"

MIME_TYPES = {
    "docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("application", "vnd.openxmlformats-officedocument.presentationml.presentation"),
    "odt": ("application", "vnd.oasis.opendocument.text"),
    "ods": ("application", "vnd.oasis.opendocument.spreadsheet"),
    "odp": ("application", "vnd.oasis.opendocument.presentation"),
    "pdf": ("application", "pdf"),
    "rtf": ("application", "rtf"),
    "doc": ("application", "msword"),
    "xls": ("application", "vnd.ms-excel"),
    "txt": ("text", "plain"),
    "csv": ("text", "csv"),
    "html": ("text", "html"),
    "zip": ("application", "zip"),
}


def message(number: int, subject: str, body: str = "Kính gửi anh chị,\n\nVăn phòng gửi tài liệu kèm theo.\n\nTrân trọng.\n",
            html: str | None = None) -> EmailMessage:
    """A message from one agency mailbox to another, with a fixed date and Message-ID so the
    corpus is the same on every run."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = SENDER
    msg["To"] = RECIPIENT
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(email.utils.parsedate_to_datetime("Mon, 02 Mar 2026 08:00:00 +0700")
                                              .replace(minute=number % 60, second=number // 60 % 60))
    msg["Message-ID"] = f"<secrecy-eval-{number:05}@stttt.quangninh.gov.vn>"
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def attach(msg: EmailMessage, data: bytes, filename: str):
    ext = filename.rsplit(".", 1)[-1].lower()
    maintype, subtype = MIME_TYPES.get(ext, ("application", "octet-stream"))
    if maintype == "text":
        # Text attachments as bytes: the charset is declared, the bytes are base64 as clients send them.
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        msg.get_payload()[-1].set_param("charset", "utf-8")
    else:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)


def write_eml(msg: EmailMessage, path: str):
    """Writes `msg` with boundaries derived from its Message-ID (the email package picks random
    ones), so the same corpus comes out byte for byte."""
    tag = "".join(ch for ch in str(msg.get("Message-ID", "")) if ch.isdigit())[:8] or "0"
    for index, part in enumerate(msg.walk()):
        if part.get_content_maintype() == "multipart":
            part.set_boundary(f"=_secrecy-eval_{tag}_{index}")
    with open(path, "wb") as f:
        f.write(msg.as_bytes(policy=email.policy.SMTP))


def freeze_zip(path: str, date_time=(2026, 3, 2, 8, 0, 0)):
    """Rewrites a zip (OOXML, ODF) with every entry's timestamp fixed, order and compression kept
    (ODF's stored `mimetype` stays first): python-docx and friends stamp the current time."""
    with zipfile.ZipFile(path) as z:
        entries = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w") as z:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                # openpyxl sets "modified" to the time of saving whatever the properties say.
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-03-02T08:00:00Z", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=date_time)
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            z.writestr(fixed, data)


# --- LibreOffice --------------------------------------------------------------------------------

def soffice_convert(inputs: list[str], target: str, outdir: str, profile: str):
    """Converts `inputs` to `target` (doc, xls, rtf, odt, pdf, txt) with LibreOffice headless in
    one run, into `outdir` (same base names). A private profile keeps it off the user's."""
    if not inputs:
        return
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice (soffice) is needed: Scripts/setup installs it")
    os.makedirs(outdir, exist_ok=True)
    subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                    "--convert-to", target, "--outdir", outdir, *inputs],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
    for path in inputs:
        out = os.path.join(outdir, os.path.splitext(os.path.basename(path))[0] + "." + target.split(":")[0])
        if not os.path.exists(out):
            raise SystemExit(f"LibreOffice did not convert {path} to {target}")
