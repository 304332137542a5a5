"""CSV in and out: the dry run, every edge case a real file has, and the export that imports back unchanged."""
import codecs

import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.crm import csvio
from portal.crm.models import Customer, LifecycleStage, ValueTier
from portal.errors import Invalid
from portal.extensions import db
from portal.permissions import Role
from tests.crm_factories import make_customer

HEADER = "external_id,name,company,email,value_tier,lifecycle_stage,revenue,last_purchase_at,products\n"


def count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(Customer))


def actions(report):
    return [(row.number, row.action) for row in report.rows]


def test_a_dry_run_says_what_each_row_would_do_and_writes_nothing(app, moderator):
    """Create, update, unchanged and error with its reason, per row; no record, audit entry or activity written."""
    make_customer("Nordwind", external_id="LC-2", revenue=100)
    make_customer("Same as before", external_id="LC-3", email="same@example.com")
    data = (HEADER
            + "LC-1,Xingchen Retail,杭州星辰零售集团有限公司,it@xingchen.example,key,customer,1280000,2025-01-02,\n"
            + "LC-2,Nordwind,,,,,960000,,\n"
            + "LC-3,,,,,,,,\n"
            + "LC-4,Bad one,,not-an-email,gold,vip,lots,2999-01-01,\n"
            + "LC-1,Twice,,,,,,,\n"
            + ",No key at all,,,,,,,\n").encode()
    report = csvio.import_customers(moderator, data, dry_run=True)
    assert actions(report) == [(2, "create"), (3, "update"), (4, "unchanged"), (5, "error"), (6, "error"),
                               (7, "create")]
    assert report.rows[1].changed == ["revenue"]
    assert set(report.rows[3].errors) == {"email", "value_tier", "lifecycle_stage", "revenue", "last_purchase_at"}
    assert "row 2" in report.rows[4].errors["row"]
    assert count() == 2 and db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_the_import_writes_good_rows_and_reports_bad_ones_never_half_a_row(app, moderator):
    data = (HEADER + "LC-1,Xingchen,,it@xingchen.example,key,customer,1280000,2025-01-02,Pro (2024-05-01) x3\n"
            + "LC-5,Half written?,,ok@example.com,valued,customer,10,2025-01-01,Pro (someday)\n").encode()
    report = csvio.import_customers(moderator, data, dry_run=False)
    assert actions(report) == [(2, "create"), (3, "error")]
    assert [c.external_id for c in db.session.scalars(sa.select(Customer))] == ["LC-1"]
    xingchen = db.session.scalar(sa.select(Customer))
    assert (xingchen.value_tier, xingchen.lifecycle_stage) == (ValueTier.KEY, LifecycleStage.CUSTOMER)
    assert [(p.product, p.quantity) for p in xingchen.products] == [("Pro", 3)]


def test_rows_upsert_by_external_id_else_by_email(app, moderator):
    by_id = make_customer("Old name", external_id="LC-9", email="old@example.com")
    by_email = make_customer("Email only", email="buyer@example.com")
    data = (b"external_id,name,email,region\nLC-9,New name,,East China\n,,BUYER@example.com,Europe\n")
    csvio.import_customers(moderator, data, dry_run=False)
    db.session.expire_all()
    assert (by_id.name, by_id.region, by_id.email) == ("New name", "East China", "old@example.com")
    assert by_email.region == "Europe" and count() == 2


@pytest.mark.parametrize("encoding, bom", [("utf-8", False), ("utf-8", True), ("gb18030", False), ("gbk", False)])
def test_chinese_excel_files_read_in_every_encoding(app, moderator, encoding, bom):
    text = "客户名称,公司,邮箱,电话\n星辰零售,杭州星辰零售集团有限公司,it@xingchen.example,+86 571 8801 2345\n"
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode(encoding)
    report = csvio.import_customers(moderator, data, dry_run=False)
    assert actions(report) == [(2, "create")]
    customer = db.session.scalar(sa.select(Customer))
    assert (customer.name, customer.company) == ("星辰零售", "杭州星辰零售集团有限公司")


def test_semicolons_and_quoted_newlines(app, moderator):
    data = b'name;company;tags\n"Nordwind";"Nordwind\nLogistik GmbH";"logistics, eu"\n'
    report = csvio.import_customers(moderator, data, dry_run=False)
    assert report.delimiter == ";" and actions(report) == [(2, "create")]
    customer = db.session.scalar(sa.select(Customer))
    assert customer.company == "Nordwind Logistik GmbH" and customer.tags == ["logistics", "eu"]


@pytest.mark.parametrize("data, message", [
    (b"", "empty"), (b"\xff\xfe\x00\x00garbage\x81", "UTF-8"), (b"colour,shape\nred,round\n", "name column"),
])
def test_a_file_that_is_not_a_customer_csv_is_refused_whole(app, moderator, data, message):
    with pytest.raises(Invalid) as refused:
        csvio.import_customers(moderator, data, dry_run=True)
    assert message in str(refused.value.fields["file"])


def test_an_unknown_owner_and_a_taken_external_id_are_row_errors(app, moderator, make_user):
    make_customer("Holder", external_id="LC-1", email="holder@example.com")
    make_user(Role.MEMBER, email="member@example.com")
    data = (b"external_id,name,email,sales_owner\nLC-2,New,new@example.com,member@example.com\n"
            b"LC-1,Other,,nobody@example.com\n")
    report = csvio.import_customers(moderator, data, dry_run=True)
    assert [set(row.errors) for row in report.rows] == [{"sales_owner"}, {"sales_owner"}]


def test_an_exported_list_imports_back_unchanged(app, moderator, make_user):
    """Do commas, Chinese, products, owners and formula-looking cells survive export → import?"""
    rep = make_user(Role.SALES, email="rep@example.com")
    csvio.import_customers(moderator, (
        "external_id,name,company,phone,sales_owner,tags,products,revenue\n"
        'LC-1,"Xingchen, Retail",杭州星辰,+86 571 8801 2345,rep@example.com,"a, 华东",'
        '"Pro (2024-05-01) x3; Embed (2025-01-01)",1280000.50\n'
        "LC-2,=HYPERLINK(1),,,,,,0\n").encode(), dry_run=False)
    exported = "".join(csvio.export_rows(sa.select(Customer).order_by(Customer.id)))
    assert exported.startswith("\ufeff") and "'=HYPERLINK(1)" in exported and "'+86 571 8801 2345" in exported
    report = csvio.import_customers(moderator, exported.encode("utf-8"), dry_run=True)
    assert actions(report) == [(2, "unchanged"), (3, "unchanged")], [r.errors for r in report.rows]
    assert db.session.get(Customer, 1).owner_rep_id == rep.id


def test_the_cli_imports_and_exports(app, runner, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes((HEADER + "LC-1,Xingchen,,,key,customer,100,,\nLC-2,Bad,,x,,,,,\n").encode())
    dry = runner.invoke(args=["customers", "import", str(path), "--dry-run"])
    assert dry.exit_code == 1 and "1 would be created" in dry.output and "line 3: error: email" in dry.output
    assert count() == 0
    real = runner.invoke(args=["customers", "import", str(path)])
    assert "1 were created" in real.output and count() == 1
    exported = runner.invoke(args=["customers", "export", "--value-tier", "key"])
    assert exported.exit_code == 0 and "LC-1,Xingchen" in exported.output
    assert runner.invoke(args=["customers", "export", "--value-tier", "gold"]).exit_code != 0


def test_a_batch_the_database_refuses_is_written_row_by_row(app, moderator, monkeypatch):
    """If one row of a batch fails only when written (a clash the checks could not see), do the others still
    go in, and is that row reported whole, not half written?"""
    real = csvio.write_customers

    def clashing(actor, plans, **kwargs):
        if any(plan.clean.get("name") == "Clash" for plan in plans):
            raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))
        return real(actor, plans, **kwargs)

    monkeypatch.setattr(csvio, "write_customers", clashing)
    data = b"name,email\nFirst,a@example.com\nClash,b@example.com\nThird,c@example.com\n"
    report = csvio.import_customers(moderator, data, dry_run=False)
    assert actions(report) == [(2, "create"), (3, "error"), (4, "create")]
    assert sorted(c.name for c in db.session.scalars(sa.select(Customer))) == ["First", "Third"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 2
