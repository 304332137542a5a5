"""Customer records in and out as CSV: the import with its dry run, and the export that opens in Excel.

An import reads UTF-8 (with or without BOM) and GB18030/GBK (what Chinese
Excel saves), comma- or semicolon-separated, with quoted newlines. Each row
upserts by external_id, else by email. The dry run judges every row
(create, update, unchanged or error, with the reasons) and writes nothing;
the import writes the good rows, each in its own savepoint, so a bad row is
reported and never half written. Blank cells leave a field as it is.
"""
import codecs
import csv
import io
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..errors import DomainError, Invalid
from ..extensions import db
from .fields import FIELDS, clean_fields
from .models import Customer, CustomerSource
from .records import find_existing, save_customer, snapshot

MAX_BYTES = 20 * 1024 * 1024
FORMULA_STARTS = ("=", "+", "-", "@")
MAX_ROWS = 50_000
COMMIT_EVERY = 500

# Column names as people write them, in English and Chinese, to our field names.
HEADER_ALIASES = {
    "customer": "name", "customer_name": "name", "名称": "name", "客户": "name", "客户名称": "name",
    "company_name": "company", "公司": "company", "公司名称": "company", "企业名称": "company",
    "e-mail": "email", "mail": "email", "邮箱": "email", "电子邮件": "email", "電子郵件": "email",
    "domain": "domains", "website": "domains", "域名": "domains", "网站": "domains",
    "telephone": "phone", "tel": "phone", "电话": "phone", "電話": "phone", "手机": "phone",
    "地区": "region", "區域": "region", "区域": "region", "行业": "industry", "行業": "industry",
    "规模": "size", "company_size": "size", "来源": "source", "id": "external_id", "crm_id": "external_id",
    "外部编号": "external_id", "客户编号": "external_id", "owner": "sales_owner", "销售": "sales_owner",
    "tier": "value_tier", "价值": "value_tier", "stage": "lifecycle_stage", "阶段": "lifecycle_stage",
    "收入": "revenue", "营收": "revenue", "renewal": "renewal_date", "续费日期": "renewal_date",
    "language": "preferred_language", "标签": "tags", "产品": "products",
}


class CsvUnreadable(Invalid):
    code = "csv_unreadable"


@dataclass
class RowResult:
    number: int                     # the line in the file, header being 1
    action: str                     # create, update, unchanged, error
    key: str
    changed: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    rows: list
    ignored_columns: list
    encoding: str
    delimiter: str

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self):
        return {action: self.count(action) for action in ("create", "update", "unchanged", "error")}


def read_csv(data: bytes):
    """(header, rows, encoding, delimiter) of a CSV file; CsvUnreadable when it isn't one."""
    if len(data) > MAX_BYTES:
        raise CsvUnreadable(fields={"file": _l("The file is larger than 20 MB. Split it in parts.")})
    text, encoding = _decode(data)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        rows = list(reader)
    except csv.Error:
        raise CsvUnreadable(fields={"file": _l("This is not a CSV file we can read.")}) from None
    if not header or not any(cell.strip() for cell in header):
        raise CsvUnreadable(fields={"file": _l("The file is empty: give a header row and one row per customer.")})
    if len(rows) > MAX_ROWS:
        raise CsvUnreadable(fields={"file": _l("Import at most %(n)d rows at a time.", n=MAX_ROWS)})
    return header, rows, encoding, delimiter


def _decode(data):
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise CsvUnreadable(fields={"file": _l("Save the file as UTF-8 or GB18030 (CSV from Excel) and try again.")})


def _delimiter(text):
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") > first_line.count(",") else ","


def columns_of(header):
    """[field name or None] for each header cell, and the cells that name no field."""
    columns, ignored = [], []
    for cell in header:
        name = cell.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")
        name = HEADER_ALIASES.get(name, HEADER_ALIASES.get(cell.strip(), name))
        if name in FIELDS and name not in columns:
            columns.append(name)
        else:
            columns.append(None)
            if cell.strip():
                ignored.append(cell.strip())
    if "name" not in columns and "external_id" not in columns and "email" not in columns:
        raise CsvUnreadable(fields={"file": _l(
            "The header needs a name column (and external_id or email to match existing records).")})
    return columns, ignored


def import_customers(actor, data: bytes, *, dry_run):
    """An ImportReport for a CSV file; with dry_run False the good rows are written and committed.

    `actor` None is the CLI. The file is read before anything is judged, so
    an unreadable one raises CsvUnreadable having written nothing.
    """
    steps = importing(actor, data, dry_run=dry_run)
    while True:
        try:
            next(steps)
        except StopIteration as finished:
            return finished.value


def importing(actor, data: bytes, *, dry_run, every=COMMIT_EVERY):
    """import_customers() as a generator: yields (rows done, rows in all) every `every` rows, returns the report.

    The page's progress bar is drawn from it. Writes are committed every
    `every` rows, so a long import shows its progress in the list too.
    """
    header, rows, encoding, delimiter = read_csv(data)
    columns, ignored = columns_of(header)
    results, seen = [], {}
    yield 0, len(rows)
    for index, cells in enumerate(rows, start=2):
        if any(cell.strip() for cell in cells):
            results.append(_one_row(actor, index, columns, cells, seen, dry_run))
        if (index - 1) % every == 0:
            if not dry_run:
                db.session.commit()
            yield index - 1, len(rows)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    yield len(rows), len(rows)
    return ImportReport(results, ignored, encoding, delimiter)


def _one_row(actor, number, columns, cells, seen, dry_run):
    if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns):]):
        return RowResult(number, "error", "", errors={"row": str(_l("This row has more cells than the header."))})
    raw = {name: _unquoted(cell) for name, cell in zip(columns, cells, strict=False) if name and cell.strip()}
    key = _key_of(raw)
    if key and key in seen:
        return RowResult(number, "error", key, errors={"row": str(_l("The same customer as row %(n)d.",
                                                                      n=seen[key]))})
    if key:
        seen[key] = number
    existing = find_existing(raw)
    if existing is None and "name" not in raw:
        return RowResult(number, "error", key, errors={"name": str(_l("A new customer needs a name."))})
    try:
        if dry_run:
            return _judge(number, key, existing, raw)
        return _write(actor, number, key, existing, raw)
    except DomainError as error:
        return RowResult(number, "error", key, errors={name: str(message) for name, message in
                                                      (error.fields or {"row": error.message}).items()})


def _unquoted(cell):
    """A cell without the quote an export put before text Excel would take for a formula."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_STARTS else cell


def _key_of(raw):
    external_id = " ".join(raw.get("external_id", "").split())
    if external_id:
        return f"external_id:{external_id}"
    email = raw.get("email", "").strip().lower()
    return f"email:{email}" if email else ""


def _judge(number, key, existing, raw):
    clean_fields(raw, creating=existing is None)
    _check_external_id(existing, raw)
    if existing is None:
        return RowResult(number, "create", key)
    changed = _changed_fields(existing, raw)
    return RowResult(number, "update" if changed else "unchanged", key, changed=changed)


def _check_external_id(existing, raw):
    external_id = " ".join(raw.get("external_id", "").split())
    if not external_id:
        return
    holder = db.session.scalar(sa.select(Customer.id).where(Customer.external_id == external_id))
    if holder is not None and (existing is None or holder != existing.id):
        raise Invalid(fields={"external_id": _l("Another customer already has this external id.")})


def _changed_fields(existing, raw):
    """Which fields the row would change, judged in a savepoint that is rolled back."""
    before = snapshot(existing)
    savepoint = db.session.begin_nested()
    try:
        save_customer(None, existing, raw, cause="Import (dry run)", audit_it=False)
        after = snapshot(existing)
    finally:
        savepoint.rollback()
    db.session.expire(existing)
    return [name for name in after if before[name] != after[name]]


def _write(actor, number, key, existing, raw):
    before = snapshot(existing) if existing is not None else None
    savepoint = db.session.begin_nested()
    try:
        customer = save_customer(actor, existing, raw, source=CustomerSource.IMPORT, cause="Import")
        savepoint.commit()
    except DomainError:
        savepoint.rollback()
        raise
    if before is None:
        return RowResult(number, "create", key)
    after = snapshot(customer)
    changed = [name for name in after if before[name] != after[name]]
    return RowResult(number, "update" if changed else "unchanged", key, changed=changed)


# -- export ---------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("external_id", "name", "company", "email", "domains", "phone", "region", "industry", "size",
                  "source", "sales_owner", "relationship_owner", "value_tier", "lifecycle_stage", "revenue",
                  "first_purchase_at", "last_purchase_at", "renewal_date", "contact_channels", "opt_outs",
                  "preferred_language", "tags", "products", "last_touch_at", "last_verified_at")


def export_rows(query):
    """CSV text, piece by piece, of the customers `query` selects: a UTF-8 BOM first so Excel reads Chinese.

    The columns are the import's, so an exported file imports back unchanged.
    """
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for customer in db.session.scalars(query.execution_options(yield_per=500)):
        values = snapshot(customer)
        values["last_touch_at"] = customer.last_touch_at.isoformat() if customer.last_touch_at else ""
        values["last_verified_at"] = customer.last_verified_at.isoformat() if customer.last_verified_at else ""
        writer.writerow([_cell(column, values[column]) for column in EXPORT_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(column, value):
    if value is None:
        return ""
    if isinstance(value, list):
        return ("; " if column == "products" else ", ").join(value)
    text = str(value)
    # A cell Excel would run as a formula is written as text (the import takes the quote off again).
    return "'" + text if text[:1] in FORMULA_STARTS and not _is_number(text) else text


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False
