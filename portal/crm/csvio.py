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
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..errors import DomainError, Invalid
from ..extensions import db
from .dimensions import tiers_after_import
from .fields import FIELDS
from .linking import WaitingMembers
from .models import Customer, CustomerSource
from .records import check_customer, snapshot, upsert_key, write_customers

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
    "competitor": "lost_to", "lost_to_competitor": "lost_to", "流失去向": "lost_to", "转投": "lost_to",
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


@contextmanager
def _records_kept_across_commits():
    # The records read up front stay loaded through each batch's commit; expiring them would read each
    # one again for the row that touches it.
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield
    finally:
        session.expire_on_commit = expire_on_commit


def importing(actor, data: bytes, *, dry_run, every=COMMIT_EVERY):
    """import_customers() as a generator: yields (rows done, rows in all) every `every` rows, returns the report.

    The page's progress bar is drawn from it. Rows are checked one by one and
    written `every` at a time (crm.records.write_customers, one flush per
    batch), each batch in a savepoint: committed as it goes, or rolled back
    in a dry run. A batch that fails in the database is written again row by
    row, so the bad row is reported and the others still go in.
    """
    header, rows, encoding, delimiter = read_csv(data)
    columns, ignored = columns_of(header)
    raws = [_raw(columns, cells) for cells in rows]
    yield 0, len(rows)
    with _records_kept_across_commits(), tiers_after_import(dry_run):
        existing = _Existing([raw for raw in raws if isinstance(raw, dict)])
        waiting = WaitingMembers()
        results, batch, seen = [], [], {}
        for number, raw in enumerate(raws, start=2):
            if raw is None:
                continue
            result, plan = _checked_row(actor, number, raw, seen, existing)
            results.append(result)
            if plan is not None:
                batch.append((result, plan))
            if len(batch) == every:
                _write_batch(actor, batch, waiting, dry_run)
                batch = []
                yield number - 1, len(rows)
        _write_batch(actor, batch, waiting, dry_run)
    yield len(rows), len(rows)
    return ImportReport(results, ignored, encoding, delimiter)


def _raw(columns, cells):
    """{field: cell} of a row, None for an empty one, or an error message for one longer than the header."""
    if not any(cell.strip() for cell in cells):
        return None
    if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns):]):
        return str(_l("This row has more cells than the header."))
    return {name: _unquoted(cell) for name, cell in zip(columns, cells, strict=False) if name and cell.strip()}


class _Existing:
    """The records a file's rows are about, read in a few queries up front (not one per row)."""

    CHUNK = 500

    def __init__(self, raws):
        external_ids = {_external_id(raw) for raw in raws} - {""}
        emails = {_email(raw) for raw in raws if not _external_id(raw)} - {""}
        self.by_external_id, self.by_email = {}, {}
        for chunk in _chunks(sorted(external_ids), self.CHUNK):
            for customer in db.session.scalars(self._load().where(Customer.external_id.in_(chunk))):
                self.by_external_id[customer.external_id] = customer
        for chunk in _chunks(sorted(emails), self.CHUNK):
            for customer in db.session.scalars(self._load().where(sa.func.lower(Customer.email).in_(chunk))
                                               .order_by(Customer.id.desc())):
                self.by_email[customer.email.lower()] = customer  # the oldest record wins, as find_existing
        self.taken = {external_id: c.id for external_id, c in self.by_external_id.items()}

    @staticmethod
    def _load():
        return sa.select(Customer).options(selectinload(Customer.domains), selectinload(Customer.products),
                                           selectinload(Customer.owner_rep), selectinload(Customer.relationship_owner))

    def of(self, raw):
        external_id = _external_id(raw)
        return self.by_external_id.get(external_id) if external_id else self.by_email.get(_email(raw))

    def taken_external_ids(self):
        """{external_id: customer id} of every id the file names that a record holds: read up front, so an id
        of the file that isn't here is free (two rows with one id are caught as duplicates)."""
        return self.taken


def _chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def _external_id(raw):
    return " ".join(raw.get("external_id", "").split())


def _email(raw):
    return raw.get("email", "").strip().lower()


def _checked_row(actor, number, raw, seen, existing):
    """(RowResult, Plan or None): the row checked, nothing written."""
    if isinstance(raw, str):
        return RowResult(number, "error", "", errors={"row": raw}), None
    key = upsert_key(raw)
    if key and key in seen:
        return RowResult(number, "error", key, errors={"row": str(_l("The same customer as row %(n)d.",
                                                                      n=seen[key]))}), None
    if key:
        seen[key] = number
    customer = existing.of(raw)
    if customer is None and "name" not in raw:
        return RowResult(number, "error", key, errors={"name": str(_l("A new customer needs a name."))}), None
    try:
        plan = check_customer(actor, customer, raw, source=CustomerSource.IMPORT,
                              taken_external_ids=existing.taken_external_ids())
    except DomainError as error:
        return _error(number, key, error), None
    return RowResult(number, "create" if customer is None else "pending", key), plan


def _error(number, key, error):
    return RowResult(number, "error", key, errors={name: str(message) for name, message in
                                                  (error.fields or {"row": error.message}).items()})


def _write_batch(actor, batch, waiting, dry_run):
    if not batch:
        return
    savepoint = db.session.begin_nested()
    try:
        saved = write_customers(actor, [plan for _result, plan in batch], cause="Import", waiting=waiting)
    except (DomainError, sa.exc.IntegrityError):
        savepoint.rollback()
        _write_one_by_one(actor, batch, waiting, dry_run)
        return
    for (result, _plan), outcome in zip(batch, saved, strict=True):
        _settle(result, outcome)
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
        db.session.commit()


def _write_one_by_one(actor, batch, waiting, dry_run):
    for result, plan in batch:
        savepoint = db.session.begin_nested()
        try:
            [outcome] = write_customers(actor, [plan], cause="Import", waiting=waiting)
        except (DomainError, sa.exc.IntegrityError) as error:
            savepoint.rollback()
            failed = error if isinstance(error, DomainError) else DomainError(
                "row_conflict", _l("This row clashes with another record."))
            result.action, result.errors = "error", _error(result.number, result.key, failed).errors
            continue
        _settle(result, outcome)
        if dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()
    if not dry_run:
        db.session.commit()


def _settle(result, outcome):
    if outcome.created:
        result.action = "create"
    else:
        result.changed = list(outcome.changes)
        result.action = "update" if outcome.changes else "unchanged"


def _unquoted(cell):
    """A cell without the quote an export put before text Excel would take for a formula."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_STARTS else cell


# -- export ---------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("external_id", "name", "company", "email", "domains", "phone", "region", "industry", "size",
                  "source", "sales_owner", "relationship_owner", "value_tier", "lifecycle_stage", "lost_to", "revenue",
                  "first_purchase_at", "last_purchase_at", "renewal_date", "contact_channels", "opt_outs",
                  "preferred_language", "tags", "products", "last_touch_at", "last_verified_at")


def export_rows(query):
    """CSV text, piece by piece, of the customers `query` selects (csv_text).

    The columns are the import's, so an exported file imports back unchanged.
    """
    return csv_text(EXPORT_COLUMNS, (_export_row(customer)
                                     for customer in db.session.scalars(query.execution_options(yield_per=500))))


def _export_row(customer):
    values = snapshot(customer)
    values["last_touch_at"] = customer.last_touch_at.isoformat() if customer.last_touch_at else ""
    values["last_verified_at"] = customer.last_verified_at.isoformat() if customer.last_verified_at else ""
    return [_joined(column, values[column]) for column in EXPORT_COLUMNS]


def _joined(column, value):
    if isinstance(value, list):
        return ("; " if column == "products" else ", ").join(value)
    return value


def csv_text(header, rows):
    """CSV text, piece by piece, for any table staff export: a UTF-8 BOM first so Excel reads Chinese, and
    every cell through safe_cell()."""
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(title) for title in header])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def safe_cell(value):
    """A cell as text; one Excel would run as a formula is written as text (the import takes the quote off)."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in FORMULA_STARTS and not _is_number(text) else text


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False
