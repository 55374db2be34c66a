"""Real files of every format libclamav opens, made at run time by the real tools that write them
(LibreOffice, qpdf, gcab, chmcmd, genisoimage, tar, gzip, bzip2, xz, zip, 7z, Python's email
package), with the EICAR test string inside where the format can carry it.

Used by Tests/EndToEnd/test_clamav_formats.py (each verdict compared with clamscan's) and by
Scripts/fuzz-scan (the fuzzer's seeds):  python3 Tests/EndToEnd/samples.py OUTDIR

A tool that is missing is an error (MissingTool), never a silent skip: Scripts/setup installs them.
"""
import shutil
import struct
import subprocess
import sys
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
RTF_MIN = b"{\\rtf1\\ansi hello world\\par }\r\n"   # issue 9, item 1: crashed ThuGate


class MissingTool(RuntimeError):
    pass


def tool(name):
    path = shutil.which(name)
    if not path:
        raise MissingTool(f"{name} is not installed (Scripts/setup installs it)")
    return path


def run(*command, cwd, timeout=180):
    subprocess.run([str(c) for c in command], cwd=cwd, check=True, capture_output=True, timeout=timeout)


def office_python():
    """A Python that has LibreOffice's UNO bridge (Debian's python3-uno): the test's own, or /usr/bin/python3."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        if candidate and subprocess.run([candidate, "-c", "import uno"], capture_output=True).returncode == 0:
            return candidate
    raise MissingTool("no python3 with the uno module (Debian: python3-uno)")


def soffice_convert(work: Path, source: Path, target_ext: str) -> bytes:
    """LibreOffice headless conversion, with a profile of its own (no first-start dialogs, no
    lock shared with a running office)."""
    profile = work / "lo-profile"
    run(tool("soffice"), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
        "--convert-to", target_ext, "--outdir", work, source, cwd=work)
    return (work / (source.stem + "." + target_ext.split(":")[0])).read_bytes()


# A LibreOffice document whose Basic library is in VBA mode is written out with a real VBA
# project (LibreOffice's VBA export, oox/source/ole/vbaexport.cxx: _VBA_PROJECT_CUR in .xls,
# xl/vbaProject.bin in .xlsm). Writer has no such export, so Word macro files cannot be made here.
MACRO_SCRIPT = r'''
import os, subprocess, sys, time, uno
from com.sun.star.beans import PropertyValue
def prop(name, value):
    p = PropertyValue(); p.Name = name; p.Value = value; return p
profile, target, filter_name = sys.argv[1:4]
pipe = "thugate-samples-%d" % os.getpid()
office = subprocess.Popen(["soffice", "-env:UserInstallation=" + profile, "--headless", "--invisible", "--norestore",
                           "--accept=pipe,name=%s;urp;" % pipe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(300):
        try:
            remote = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            time.sleep(0.1)
    desktop = remote.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", remote)
    doc = desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, (prop("Hidden", True),))
    doc.Sheets.getByIndex(0).getCellByPosition(0, 0).setString("Bao cao quy")
    libraries = doc.BasicLibraries
    libraries.VBACompatibilityMode = True
    if not libraries.hasByName("VBAProject"):
        libraries.createLibrary("VBAProject")
    libraries.ProjectName = "VBAProject"
    library = libraries.getByName("VBAProject")
    info = uno.createUnoStruct("com.sun.star.script.ModuleInfo")
    info.ModuleType = uno.getConstantByName("com.sun.star.script.ModuleType.NORMAL")
    library.insertModuleInfo("Module1", info)
    library.insertByName("Module1", 'Option VBASupport 1\nSub Auto_Open()\n  Shell "cmd /c echo ThuGate"\nEnd Sub\n')
    doc.storeToURL(uno.systemPathToFileUrl(target), (prop("FilterName", filter_name),))
    doc.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass
finally:
    try:
        office.wait(30)
    except subprocess.TimeoutExpired:
        office.kill()
'''


def macro_workbook(work: Path, ext: str) -> bytes:
    tool("soffice")
    script = work / "make_macro.py"
    script.write_text(MACRO_SCRIPT)
    target = work / f"macro.{ext}"
    filter_name = {"xls": "MS Excel 97", "xlsm": "Calc MS Excel 2007 VBA XML"}[ext]
    run(office_python(), script, (work / "lo-uno-profile").as_uri(), target, filter_name, cwd=work)
    return target.read_bytes()


def text_file(work: Path, name: str, text: bytes) -> Path:
    path = work / name
    path.write_bytes(text)
    return path


def rtf(work):
    return RTF_MIN


def rtf_from_writer(work):
    return soffice_convert(work, text_file(work, "letter.txt", b"Kinh gui cac don vi.\nBao cao quy IV.\n"), "rtf")


def doc(work):
    return soffice_convert(work, text_file(work, "note.txt", b"Ghi chu: " + EICAR + b"\n"), "doc")


def xls(work):
    # A CSV opened by Calc and saved as Excel 97: the cell text is stored as 8-bit characters.
    return soffice_convert(work, text_file(work, "sheet.csv", b"ten,ghi chu\nA," + EICAR + b"\n"), "xls")


def html(work):
    return soffice_convert(work, text_file(work, "page.txt", b"Trang: " + EICAR + b"\n"), "html")


def pdf(work):
    base = soffice_convert(work, text_file(work, "report.txt", b"Bao cao\n"), "pdf")
    (work / "base.pdf").write_bytes(base)
    text_file(work, "eicar.com", EICAR)
    run(tool("qpdf"), "base.pdf", "--add-attachment", "eicar.com", "--", "attached.pdf", cwd=work)
    return (work / "attached.pdf").read_bytes()


def pdf_rewritten(work):
    """The same PDF written again by qpdf without object streams."""
    (work / "attached.pdf").write_bytes(pdf(work))
    run(tool("qpdf"), "--object-streams=disable", "attached.pdf", "plain.pdf", cwd=work)
    return (work / "plain.pdf").read_bytes()


def tnef(work):
    """winmail.dat carrying eicar.com, written attribute by attribute as [MS-OXTNEF] 2.1.3
    lays it out (no Debian or PyPI package writes TNEF); tnefparse, an independent reader, must
    read the attachment back."""
    def attribute(level, attr_id, attr_type, data):
        return struct.pack("<BIi", level, (attr_type << 16) | attr_id, len(data)) + data + \
            struct.pack("<H", sum(data) & 0xFFFF)
    message, attachment = 0x01, 0x02
    body = struct.pack("<IH", 0x223E9F78, 0x0001)                       # TNEF_SIGNATURE, legacy key
    body += attribute(message, 0x9006, 0x0008, struct.pack("<I", 0x00010000))    # attTnefVersion
    body += attribute(message, 0x9007, 0x0006, struct.pack("<II", 1252, 0))      # attOemCodepage
    body += attribute(message, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\0")     # attMessageClass
    body += attribute(attachment, 0x9002, 0x0006, struct.pack("<HIIHHI", 1, 0xFFFFFFFF, 0, 0, 0, 0))  # attAttachRendData
    body += attribute(attachment, 0x8010, 0x0001, b"eicar.com\0")              # attAttachTitle
    body += attribute(attachment, 0x800F, 0x0006, EICAR)                       # attAttachData
    import tnefparse
    parsed = tnefparse.TNEF(body)
    assert [(a.name, a.data) for a in parsed.attachments] == [(b"eicar.com", EICAR)] or \
        [(a.long_filename() or a.name, a.data) for a in parsed.attachments] in ([("eicar.com", EICAR)], [(b"eicar.com", EICAR)])
    return body


def cab(work):
    text_file(work, "eicar.com", EICAR)
    text_file(work, "readme.txt", b"hello\n" * 50)
    run(tool("gcab"), "-c", "-z", "pack.cab", "readme.txt", "eicar.com", cwd=work)
    return (work / "pack.cab").read_bytes()


def chm(work):
    text_file(work, "index.html", b"<html><head><title>Help</title></head><body><p>" + EICAR + b"</p></body></html>\n")
    text_file(work, "help.hhp", b"[OPTIONS]\r\nCompiled file=help.chm\r\nDefault topic=index.html\r\nTitle=Help\r\n\r\n"
              b"[FILES]\r\nindex.html\r\n")
    run(tool("chmcmd"), "help.hhp", cwd=work)
    return (work / "help.chm").read_bytes()


def iso(work):
    tree = work / "cd"
    (tree / "docs").mkdir(parents=True)
    (tree / "docs" / "eicar.com").write_bytes(EICAR)
    (tree / "readme.txt").write_bytes(b"CD\n")
    run(tool("genisoimage"), "-quiet", "-R", "-J", "-o", "disc.iso", "cd", cwd=work)
    return (work / "disc.iso").read_bytes()


def tar_with(flag, ext):
    def make(work):
        (work / "tai-lieu").mkdir()
        (work / "tai-lieu" / "eicar.com").write_bytes(EICAR)
        (work / "tai-lieu" / "a.txt").write_bytes(b"a\n")
        run(tool("tar"), f"-c{flag}f", f"tai-lieu.{ext}", "tai-lieu", cwd=work)
        return (work / f"tai-lieu.{ext}").read_bytes()
    return make


def compressed(program, ext):
    def make(work):
        text_file(work, "eicar.com", EICAR)
        run(tool(program), "-k", "eicar.com", cwd=work)
        return (work / f"eicar.com.{ext}").read_bytes()
    return make


def zip_(work):
    text_file(work, "eicar.com", EICAR)
    run(tool("zip"), "-q", "-9", "goi.zip", "eicar.com", cwd=work)
    return (work / "goi.zip").read_bytes()


def sevenzip(work):
    (work / "d").mkdir()
    (work / "d" / "eicar.com").write_bytes(EICAR)
    run(tool("7z"), "a", "-bd", "-y", "-t7z", "goi.7z", "d", cwd=work)
    return (work / "goi.7z").read_bytes()


def mail_in_zip(work):
    """A forwarded message kept as a file in a zip: the EICAR is base64 inside it, so only a
    mail parser finds it (libclamav's, CL_SCAN_PARSE_MAIL)."""
    inner = EmailMessage()
    inner["From"] = "a@example.com"
    inner["To"] = "b@example.com"
    inner["Subject"] = "hoa don"
    inner.set_content("xem tep dinh kem\n")
    inner.add_attachment(EICAR, maintype="application", subtype="octet-stream", filename="eicar.com")
    (work / "thu-cu.eml").write_bytes(inner.as_bytes(policy=SMTP))
    run(tool("zip"), "-q", "-9", "thu.zip", "thu-cu.eml", cwd=work)
    return (work / "thu.zip").read_bytes()


def tnef_in_zip(work):
    (work / "winmail.dat").write_bytes(tnef(work))
    run(tool("zip"), "-q", "-9", "winmail.zip", "winmail.dat", cwd=work)
    return (work / "winmail.zip").read_bytes()


# name: (attachment file name, content type, maker, what clamscan must say about it).
# "virus": the EICAR inside is found (so the format was opened); "macros": Heuristics.OLE2.
# ContainsMacros with --alert-macros; "clean": nothing; None: the sample carries EICAR but
# libclamav 1.4.6 does not find it (noted below), only agreement with clamscan is asked.
FORMATS = {
    "rtf-min": ("a.rtf", "application/rtf", rtf, "clean"),
    "rtf-writer": ("thu.rtf", "application/rtf", rtf_from_writer, "clean"),
    # LibreOffice keeps Word text as UTF-16: the EICAR string is not there byte for byte.
    "doc": ("ghi-chu.doc", "application/msword", doc, None),
    "xls": ("bang.xls", "application/vnd.ms-excel", xls, "virus"),
    "xls-macro": ("macro.xls", "application/vnd.ms-excel", lambda w: macro_workbook(w, "xls"), "macros"),
    "xlsm-macro": ("macro.xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12", lambda w: macro_workbook(w, "xlsm"), "macros"),
    # libclamav matches HTML only after normalizing it (lower case): a raw signature misses it.
    "html": ("trang.html", "text/html", html, None),
    # The attachment as `qpdf --add-attachment` writes it is not extracted by libclamav 1.4.6
    # ("find_length: failed to parse object genid"); written again without object streams it is.
    "pdf": ("bao-cao.pdf", "application/pdf", pdf, None),
    "pdf-rewritten": ("bao-cao.pdf", "application/pdf", pdf_rewritten, "virus"),
    "tnef": ("winmail.dat", "application/ms-tnef", tnef, "virus"),
    "cab": ("pack.cab", "application/vnd.ms-cab-compressed", cab, "virus"),
    # libclamav cannot open chmcmd's CHM ("cli_scanmschm() failed"); ThuGate refuses *.chm by name.
    "chm": ("help.chm", "application/vnd.ms-htmlhelp", chm, None),
    "iso": ("disc.iso", "application/x-iso9660-image", iso, "virus"),
    "tar": ("tai-lieu.tar", "application/x-tar", tar_with("", "tar"), "virus"),
    "tar.gz": ("tai-lieu.tar.gz", "application/gzip", tar_with("z", "tar.gz"), "virus"),
    "tar.bz2": ("tai-lieu.tar.bz2", "application/x-bzip2", tar_with("j", "tar.bz2"), "virus"),
    "tar.xz": ("tai-lieu.tar.xz", "application/x-xz", tar_with("J", "tar.xz"), "virus"),
    "gz": ("eicar.com.gz", "application/gzip", compressed("gzip", "gz"), "virus"),
    "bz2": ("eicar.com.bz2", "application/x-bzip2", compressed("bzip2", "bz2"), "virus"),
    "xz": ("eicar.com.xz", "application/x-xz", compressed("xz", "xz"), "virus"),
    "zip": ("goi.zip", "application/zip", zip_, "virus"),
    "7z": ("goi.7z", "application/x-7z-compressed", sevenzip, "virus"),
    "mail-in-zip": ("thu.zip", "application/zip", mail_in_zip, "virus"),
    "tnef-in-zip": ("winmail.zip", "application/zip", tnef_in_zip, "virus"),
}


def make(name: str, work: Path) -> bytes:
    directory = work / name.replace(".", "-")
    directory.mkdir(parents=True, exist_ok=True)
    return FORMATS[name][2](directory)


def message(filename: str, ctype: str, data: bytes, subject="Tai lieu") -> bytes:
    msg = EmailMessage()
    msg["From"] = "vanthu@quangninh.gov.vn"
    msg["To"] = "lanhdao@quangninh.gov.vn"
    msg["Subject"] = subject
    msg.set_content("Kinh gui.\n")
    maintype, subtype = ctype.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=SMTP)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".work"
    for name, (filename, _, _, _) in FORMATS.items():
        (out / f"{name}-{filename}").write_bytes(make(name, work))
    shutil.rmtree(work)
