"""Hostile catalog files: whatever bytes arrive, the parser answers a Table or a clear Invalid.

Covers issue 8 item 3 for the catalog parser (catalog.services.imports.files.read_table) and the
import service behind the CLI, the API and the upload pages: random bytes under every extension,
invalid UTF-8, XLSX that is not a zip or is truncated, an XLSX zip bomb (refused within seconds
without the memory growing), XML entity tricks (billion laughs, external entities) in the sheet
and in sharedStrings, JSON nested 100k deep, JSON of the wrong shape, NUL and control characters
in cells and file names, path tricks in file names. Nothing may escape as another exception (a
500 in the views), and a refused import writes nothing on either database.
"""

from __future__ import annotations

import io
import json
import resource
import time
import tracemalloc
import zipfile

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.services.errors import Invalid
from catalog.services.imports.files import read_table, table_from_objects

MAX_ROWS = 1000
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def parse(data: bytes, name: str):
    """read_table, asserting the only failure is a service Invalid with a message for people."""
    try:
        return read_table(data, name, max_rows=MAX_ROWS)
    except Invalid as exc:
        assert exc.message and exc.status == 422
        assert all(set(d) >= {"field", "message"} for d in exc.details)
        return exc


def xlsx(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The same zip with some entries replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        names = [i.filename for i in source.infolist()]
        for name in names:
            target.writestr(name, replace.get(name, source.read(name)))
        for name, body in replace.items():
            if name not in names:
                target.writestr(name, body)
    return out.getvalue()


GOOD_XLSX = xlsx([["title", "hours"], ["Firearms Qualification", 2]])
SHEET = "xl/worksheets/sheet1.xml"


# -- random bytes ------------------------------------------------------------------------------


@SETTINGS
@given(
    data=st.binary(max_size=4096), ext=st.sampled_from(["csv", "xlsx", "json", "CSV", "txt", ""])
)
def test_random_bytes_under_every_extension_give_a_table_or_a_clear_refusal(data, ext):
    parse(data, f"catalog.{ext}" if ext else "catalog")


@SETTINGS
@given(
    prefix=st.sampled_from(
        [b"PK\x03\x04", b"\xef\xbb\xbf", b"title,hours\n", b"[", b'{"courses":']
    ),
    data=st.binary(max_size=2048),
    ext=st.sampled_from(["csv", "xlsx", "json"]),
)
def test_random_bytes_behind_a_plausible_start_are_refused_cleanly(prefix, data, ext):
    parse(prefix + data, f"x.{ext}")


@SETTINGS
@given(
    cut=st.integers(min_value=0, max_value=len(GOOD_XLSX) - 1),
    flip=st.integers(min_value=0, max_value=255),
)
def test_truncated_or_corrupted_xlsx_is_refused_not_crashed(cut, flip):
    truncated = parse(GOOD_XLSX[:cut], "c.xlsx")
    assert isinstance(truncated, Invalid) or cut > len(GOOD_XLSX) - 30
    corrupted = bytearray(GOOD_XLSX)
    corrupted[cut] ^= flip
    parse(bytes(corrupted), "c.xlsx")


@SETTINGS
@given(
    text=st.text(max_size=300), encoding=st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1"])
)
def test_any_text_in_any_encoding_as_csv(text, encoding):
    data = ("title,hours\n" + text).encode(encoding, errors="replace")
    result = parse(data, "c.csv")
    if not isinstance(result, Invalid):
        assert [h.lower() for h in result.headers][:2] == ["title", "hours"] or encoding == "utf-16"


def test_invalid_utf8_falls_back_or_is_refused():
    # 0x81 is undefined in Windows-1252 too: neither decoding works.
    result = parse(b"title,hours\n\x81\x8d\x8f\x90\x9d,2\n", "c.csv")
    assert isinstance(result, Invalid) and "encoding" in result.message
    cp1252 = parse("title,hours\nCaf\u00e9 \u2013 Law,2\n".encode("cp1252"), "c.csv")
    assert cp1252.rows == [(2, ["Caf\u00e9 \u2013 Law", "2"])]
    assert "JSON" in parse(b'[{"title": "\xff\xfe"}]', "c.json").message


def test_binary_named_csv_and_an_xlsx_named_csv_are_refused():
    assert "binary" in parse(b"title,hours\n\x00\x01\x02", "c.csv").message
    assert "Excel" in parse(GOOD_XLSX, "c.csv").message
    assert "not a valid Excel" in parse(b"title,hours\nA,1\n", "c.xlsx").message


# -- XLSX zip bomb and XML tricks -------------------------------------------------------------


def _bomb(inflated_mb: int) -> bytes:
    """A real .xlsx whose sheet XML inflates to `inflated_mb` MB (a few hundred kB compressed)."""
    head = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
    )
    source = zipfile.ZipFile(io.BytesIO(GOOD_XLSX))
    out = io.BytesIO()
    chunk = b"A" * (1024 * 1024)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename == SHEET:
                with target.open(SHEET, "w") as sheet:
                    sheet.write(head)
                    for _ in range(inflated_mb):
                        sheet.write(chunk)
                    sheet.write(b"</t></is></c></row></sheetData></worksheet>")
            else:
                target.writestr(info.filename, source.read(info.filename))
    return out.getvalue()


def _lie_about_size(data: bytes, name: str, size: int) -> bytes:
    """Patch the declared uncompressed size of `name` (local header and central directory)."""
    buf = bytearray(data)
    encoded = name.encode()
    pos = 0
    while (pos := buf.find(b"PK\x01\x02", pos)) != -1:  # central directory entries
        name_len = int.from_bytes(buf[pos + 28 : pos + 30], "little")
        if bytes(buf[pos + 46 : pos + 46 + name_len]) == encoded:
            buf[pos + 24 : pos + 28] = size.to_bytes(4, "little")
            local = int.from_bytes(buf[pos + 42 : pos + 46], "little")
            buf[local + 22 : local + 26] = size.to_bytes(4, "little")
        pos += 4
    return bytes(buf)


def test_xlsx_zip_bomb_is_refused_quickly_without_inflating():
    bomb = _bomb(300)
    assert len(bomb) < 2 * 1024 * 1024  # 300 MB of sheet in well under 2 MB of upload
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = parse(bomb, "bomb.xlsx")
        elapsed = time.monotonic() - started
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert isinstance(result, Invalid) and "MB" in result.message
    assert elapsed < 5, elapsed
    assert traced_peak < 100 * 1024 * 1024, traced_peak
    assert (peak_after - peak_before) * 1024 < 100 * 1024 * 1024


def test_xlsx_bomb_that_lies_about_its_size_is_cut_off_at_the_declared_size():
    # Declares 5 kB for a 120 MB sheet: zipfile stops at the declared size and the CRC fails,
    # so openpyxl never sees more than 5 kB.
    liar = _lie_about_size(_bomb(120), SHEET, 5000)
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = parse(liar, "liar.xlsx")
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(result, Invalid)
    assert time.monotonic() - started < 5
    assert traced_peak < 100 * 1024 * 1024


def test_xlsx_with_thousands_of_entries_is_refused():
    many = rezip(GOOD_XLSX, {f"xl/media/junk{i}.bin": b"" for i in range(2100)})
    assert "too many parts" in parse(many, "many.xlsx").message


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>"
)
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
XXE_PARAM = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/x.dtd">%ext;]>'
)


def _sheet_with(prolog: bytes, cell: bytes) -> bytes:
    body = zipfile.ZipFile(io.BytesIO(GOOD_XLSX)).read(SHEET).split(b"?>", 1)[-1]
    return prolog + body.replace(b"Firearms Qualification", cell)


@pytest.mark.parametrize(
    "prolog,cell",
    [
        (LAUGHS, b"&lol9;"),
        (XXE, b"&xxe;"),
        (XXE_PARAM, b"x"),
    ],
    ids=["billion-laughs", "external-entity", "external-parameter-entity"],
)
def test_xml_entity_tricks_in_the_sheet_are_refused(prolog, cell):
    started = time.monotonic()
    result = parse(rezip(GOOD_XLSX, {SHEET: _sheet_with(prolog, cell)}), "evil.xlsx")
    assert time.monotonic() - started < 5
    if isinstance(result, Invalid):
        return
    # If a parser ever accepts the document, the entity must not have been expanded.
    text = repr(result.rows)
    assert "root:" not in text and "lollollol" not in text


def test_xml_entity_tricks_in_shared_strings_are_refused():
    shared = xlsx([["title", "hours"], ["Firearms Qualification", 2]])
    # openpyxl writes inline strings; add a sharedStrings part and point a cell at it.
    strings = LAUGHS + (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    sheet = (
        zipfile.ZipFile(io.BytesIO(shared))
        .read(SHEET)
        .replace(
            b'<c r="A2" t="inlineStr"><is><t>Firearms Qualification</t></is></c>',
            b'<c r="A2" t="s"><v>0</v></c>',
        )
    )
    rels = (
        zipfile.ZipFile(io.BytesIO(shared))
        .read("xl/_rels/workbook.xml.rels")
        .replace(
            b"</Relationships>",
            b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
    )
    types = (
        zipfile.ZipFile(io.BytesIO(shared))
        .read("[Content_Types].xml")
        .replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
            b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
    )
    evil = rezip(
        shared,
        {
            SHEET: sheet,
            "xl/sharedStrings.xml": strings,
            "xl/_rels/workbook.xml.rels": rels,
            "[Content_Types].xml": types,
        },
    )
    for variant in (
        evil,
        rezip(
            evil,
            {"xl/sharedStrings.xml": XXE + strings[len(LAUGHS) :].replace(b"&lol9;", b"&xxe;")},
        ),
    ):
        started = time.monotonic()
        result = parse(variant, "evil.xlsx")
        assert time.monotonic() - started < 5
        assert isinstance(result, Invalid) or "lollollol" not in repr(result.rows)


# -- JSON ---------------------------------------------------------------------------------------


def test_json_nested_100k_deep_is_refused():
    for deep in (b"[" * 100_000 + b"]" * 100_000, b'{"courses":' + b"[" * 100_000):
        result = parse(deep, "deep.json")
        assert isinstance(result, Invalid)
    deep_dicts = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    assert isinstance(parse(deep_dicts, "deep.json"), Invalid)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)


@SETTINGS
@given(payload=JSON_VALUES)
def test_json_of_any_shape_gives_a_table_or_a_clear_refusal(payload):
    parse(json.dumps(payload).encode(), "any.json")
    wrapped = {"courses": payload}
    parse(json.dumps(wrapped).encode(), "any.json")


@SETTINGS
@given(
    items=st.lists(
        st.dictionaries(
            st.sampled_from(["title", "hours", "topics", "area_hours", "url", "delivery", "x"]),
            JSON_VALUES,
            max_size=5,
        ),
        max_size=5,
    )
)
def test_json_course_objects_with_fields_of_any_type(items):
    try:
        table_from_objects(items, MAX_ROWS)
    except Invalid as exc:
        assert exc.message


@pytest.mark.parametrize(
    "payload",
    [
        b"1",
        b'"courses"',
        b"null",
        b"true",
        b'{"courses": {"a": {"title": "x"}}}',
        b'{"courses": null}',
        b'{"title": "x", "hours": 1}',
        b"[1, 2, 3]",
        b'[["title"]]',
        b'[{"title": {"nested": {"deeper": 1}}, "hours": 1}]',
        b"NaN",
        b"[Infinity]",
        b'[{"title": "x", "hours": 1e999}]',
    ],
)
def test_json_of_the_wrong_shape_is_refused_with_a_message(payload):
    result = parse(payload, "wrong.json")
    if not isinstance(result, Invalid):  # a table is fine; the row validation judges the cells
        assert result.headers


# -- file names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.csv",
        "..\\..\\windows\\system32\\x.csv",
        "/etc/passwd",
        "catalog.csv\x00.exe",
        "a" * 5000 + ".csv",
        "\u202ecod.exe.csv",
        "\u8bfe\u7a0b.csv",
        "",
        ".",
        "..",
        "catalog.CSV ",
        "con.csv",
        "x.csv/..",
        "x.xlsx.json",
    ],
)
def test_path_tricks_in_file_names_only_pick_the_parser(name):
    result = parse(b"title,hours\nA,1\n", name)
    if not isinstance(result, Invalid):
        assert result.file_format in ("csv", "json", "xlsx")


@SETTINGS
@given(name=st.text(max_size=300))
def test_any_file_name(name):
    parse(b"title,hours\nA,1\n", name)


# -- through the import service, on both databases ----------------------------------------------


def _counts():
    from catalog.extensions import db
    from catalog.models import AuditEntry, CatalogRow, CatalogSubmission, Course

    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (Course, CatalogSubmission, CatalogRow, AuditEntry)
    )


NUL_CASES = {
    "json-nul-in-title": (
        "c.json",
        json.dumps(
            [{"title": "Firearms\u0000 Qualification", "hours": 2, "description": "a\u0000b"}]
        ).encode(),
    ),
    "json-nul-in-key": (
        "c.json",
        json.dumps([{"title": "Defensive tactics", "hours": 2, "no\u0000te": "x"}]).encode(),
    ),
    "csv-nul-after-8k": (
        "c.csv",
        b"title,hours,description\n"
        + b"".join(b"Course %d,1,%s\n" % (i, b"x" * 100) for i in range(90))
        + b"Late,1,a\x00b\n",
    ),
    "csv-control-chars": ("c.csv", b"title,hours\nLegal \x01\x02\x1b[31m update,1\n"),
}


# submissions.prepare still calls Result.tuples(), deprecated in SQLAlchemy 2.1 (reported).
@pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")
@pytest.mark.parametrize("case", sorted(NUL_CASES))
def test_nul_and_control_characters_import_or_refuse_cleanly(app, taxonomy, make_provider, case):
    from catalog.extensions import db
    from catalog.services.imports.direct import import_table
    from catalog.services.imports.submissions import create_submission
    from catalog.serving import import_context

    provider = make_provider("nul-academy")
    name, data = NUL_CASES[case]
    before = _counts()
    try:
        table = read_table(data, name, max_rows=MAX_ROWS)
        import_table(db.session, provider, table, import_context(), filename="evil\x00name.csv")
        db.session.commit()
    except Invalid:
        db.session.rollback()
        assert _counts() == before
    else:
        from catalog.models import Course

        titles = db.session.scalars(sa.select(Course.title)).all()
        assert titles and all("\x00" not in t for t in titles)
    # The upload path stores the raw cells of a draft too (JSON on PostgreSQL refuses \u0000).
    try:
        table = read_table(data, name, max_rows=MAX_ROWS)
        create_submission(
            db.session, provider, None, table, import_context(), filename="../../etc/passwd\x00.csv"
        )
        db.session.commit()
    except Invalid:
        db.session.rollback()
