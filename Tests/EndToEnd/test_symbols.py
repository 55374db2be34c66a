"""The binaries that link libclamav export none of their own symbols.

A C function bundled into ThuGate under a name that libclamav also exports replaces libclamav's
own at load time (ELF symbol interposition): TOMLKit's `tableCreate` did, and libclamav's RTF
and mail parsers then crashed in it (issue 9, item 1). Scripts/linker/private-symbols.map keeps
every symbol of the executable local; this checks the binaries as they are built, against the
libraries they really load (ldd), so a new dependency or a lost linker flag fails here.
"""
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BINARY

LIBRARIES = ("libclamav", "libmagic", "liblzma")
# Libraries only some binaries load (DocumentText's expat and zlib): checked where loaded.
OPTIONAL_LIBRARIES = ("libexpat", "libz")
BINARIES = {
    "thugate": BINARY,
    # `swift build --build-tests` puts the unit-test bundle (a Linux executable) beside thugate.
    "unit tests": BINARY.parent / "ThuGatePackageTests.xctest",
    "scan benchmark": BINARY.parent / "thugate-scanbench",
    "scan fuzzer (replay)": BINARY.parent / "ScanFuzzer",
}


def defined_dynamic_symbols(path: Path) -> set:
    """Names (without @version) of the symbols `path` defines in its dynamic symbol table."""
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)], capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            names.add(fields[2].split("@")[0])
    return names


def loaded_libraries(binary: Path, stems=LIBRARIES) -> dict:
    """{library stem: path} of libclamav, libmagic and liblzma (or `stems`) as the dynamic loader finds them."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s*(lib[\w+-]+)\.so[.\d]*\s+=>\s+(\S+)", line)
        if m and m.group(1) in stems:
            found[m.group(1)] = Path(m.group(2))
    return found


@pytest.mark.parametrize("label", sorted(BINARIES))
def test_binary_exports_no_symbol_that_a_scanning_library_exports(label):
    binary = BINARIES[label]
    assert binary.exists(), f"{binary} not built (run swift build --build-tests)"
    libraries = loaded_libraries(binary)
    assert sorted(libraries) == sorted(LIBRARIES), f"{label} does not load all of {LIBRARIES}: {libraries}"
    ours = defined_dynamic_symbols(binary)
    libraries.update(loaded_libraries(binary, OPTIONAL_LIBRARIES))
    for stem, path in libraries.items():
        theirs = defined_dynamic_symbols(path)
        assert len(theirs) > 10, f"{path}: no dynamic symbols read"
        clash = sorted(ours & theirs)
        assert not clash, f"{label} exports symbols that {path.name} also exports (they replace its own): {clash[:20]}"


def test_the_check_sees_a_clash_when_there_is_one(tmp_path):
    """The check itself: a program that exports `tableCreate`, as thugate did, is caught."""
    source = tmp_path / "clash.c"
    source.write_text("void *tableCreate(void) { return 0; }\nint main(void) { return 0; }\n")
    program = tmp_path / "clash"
    subprocess.run(["gcc", "-rdynamic", str(source), "-o", str(program), "-Wl,--no-as-needed", "-lclamav"], check=True)
    [libclamav] = [p for s, p in loaded_libraries(program).items() if s == "libclamav"]
    assert "tableCreate" in defined_dynamic_symbols(program) & defined_dynamic_symbols(libclamav)


def test_archive_readers_link_no_scanning_library():
    """The Archives target is pure: its fuzzer links neither libclamav nor libmagic (so it runs
    under AddressSanitizer), only liblzma for 7z's packed headers."""
    binary = BINARY.parent / "ArchiveFuzzer"
    assert binary.exists(), f"{binary} not built (run swift build --build-tests)"
    assert sorted(loaded_libraries(binary)) == ["liblzma"]


def test_document_text_readers_export_nothing_expat_or_zlib_export():
    """The OOXML / ODF readers link expat (Sources/CExpat) and zlib (Sources/CZlib): neither the unit
    tests that run them nor their fuzzer (which links no libclamav, so no version script) defines a
    symbol of libexpat, libz or libclamav."""
    libclamav = loaded_libraries(BINARY)["libclamav"]
    for binary in (BINARY.parent / "ThuGatePackageTests.xctest", BINARY.parent / "DocumentTextFuzzer"):
        assert binary.exists(), f"{binary} not built (run swift build --build-tests)"
        libraries = loaded_libraries(binary, OPTIONAL_LIBRARIES)
        assert sorted(libraries) == sorted(OPTIONAL_LIBRARIES), f"{binary.name} loads {libraries}"
        ours = defined_dynamic_symbols(binary)
        for path in [*libraries.values(), libclamav]:
            clash = sorted(ours & defined_dynamic_symbols(path))
            assert not clash, f"{binary.name} exports symbols that {path.name} also exports: {clash[:20]}"
