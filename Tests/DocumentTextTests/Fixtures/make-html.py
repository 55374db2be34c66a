#!/usr/bin/env python3
"""Makes the LibreOffice HTML fixtures of DocumentTextTests: the RTF fixtures (made by make.py from
python-docx and flat ODF files) converted by LibreOffice headless (`soffice --convert-to html`), as a
letter saved as a web page. The .html files are committed; run this again to remake them:
    python3 Tests/DocumentTextTests/Fixtures/make-html.py
The mail-client fixtures (gmail-*, outlook-*, thunderbird-*) are written by hand in the shapes
those clients send."""
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    with tempfile.TemporaryDirectory() as work:
        for name in ("stamped", "traps", "textbox"):
            source = os.path.join(HERE, "libreoffice-%s.rtf" % name)
            subprocess.run(
                [soffice, "--headless", "-env:UserInstallation=file://" + work + "/profile", "--convert-to", "html", "--outdir", work, source],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            shutil.copy(os.path.join(work, "libreoffice-%s.html" % name), os.path.join(HERE, "libreoffice-%s.html" % name))


if __name__ == "__main__":
    main()
