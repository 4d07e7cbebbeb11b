import pytest

from lms.catalogue.models import (HIGH_RISK, INITIAL, PRINCIPAL, REFRESHER, SPECIAL_OPERATION, HoursRule,
                                  QualificationType, RegionHoursSplit)
from lms.catalogue.services import hours_plan, region_covers, region_prefix


def q(db, **filters):
    return db.session.query(QualificationType).filter_by(**filters).one()


def test_catalogue_holds_special_operations_and_manager_categories(db):
    items = {t.item for t in db.session.query(QualificationType).filter_by(
        audience=SPECIAL_OPERATION, category="危险化学品安全作业")}
    assert len(items) == 16 and "化工自动化控制仪表作业" in items
    assert q(db, audience=SPECIAL_OPERATION, item="低压电工作业").category == "电工作业"
    assert q(db, audience=SPECIAL_OPERATION, item="煤气作业").industry_group == HIGH_RISK
    assert q(db, audience=PRINCIPAL, category="烟花爆竹经营单位").industry_group == HIGH_RISK


def test_hours_follow_article_9_and_the_regional_split(db):
    general = q(db, audience=PRINCIPAL, category="一般生产经营单位")
    chem = q(db, audience=PRINCIPAL, category="危险化学品生产单位")
    electrician = q(db, audience=SPECIAL_OPERATION, item="低压电工作业")
    assert hours_plan(general, INITIAL, "370102").total == 32
    assert hours_plan(general, REFRESHER, "370102").total == 12
    assert hours_plan(chem, INITIAL, "370102").total == 48
    assert hours_plan(chem, REFRESHER, "370102").total == 16
    assert hours_plan(electrician, REFRESHER, "370102").total == 8
    foshan = hours_plan(general, INITIAL, "440604")  # district inherits the Foshan city split
    assert (foshan.online, foshan.offline) == (16, 16)
    assert (hours_plan(general, REFRESHER, "440605").online, hours_plan(general, REFRESHER, "440605").offline) == (8, 4)
    assert hours_plan(electrician, INITIAL, "440604") is None  # no rule: staff are told to ask the admin


def test_regions_nest_by_code():
    assert region_prefix("440000") == "44" and region_prefix("440600") == "4406" and region_prefix("440604") == "440604"
    assert region_covers("440600", "440604") and not region_covers("440600", "441900")


@pytest.fixture()
def hours_tables_restored(db):
    """hours_rules and region_hours_splits are reference tables, which the db fixture leaves as they are: put
    back what the test changes, whether it passes or fails, so that no later test sees its edits."""
    rules = {rule.id: rule.total_hours for rule in db.session.query(HoursRule)}
    splits = {split.id: (split.online_hours, split.offline_hours) for split in db.session.query(RegionHoursSplit)}
    yield
    db.session.rollback()
    for rule in db.session.query(HoursRule):
        rule.total_hours = rules[rule.id]
    for split in db.session.query(RegionHoursSplit):
        if split.id in splits:
            split.online_hours, split.offline_hours = splits[split.id]
        else:
            db.session.delete(split)
    db.session.commit()


@pytest.mark.usefixtures("hours_tables_restored")
def test_admin_edits_rules_and_splits(admin_client, db):
    rule = db.session.query(HoursRule).filter_by(audience_group="manager", industry_group="general",
                                                 training_type="refresher").one()
    assert admin_client.post(f"/admin/hours/rules/{rule.id}", data={"total_hours": 14}).status_code == 302
    db.session.expire_all()
    assert db.session.get(HoursRule, rule.id).total_hours == 14
    admin_client.post("/admin/hours", data={"split-region_code": "370100", "split-training_type": "initial",
                                            "split-online_hours": 20, "split-offline_hours": 12})
    split = db.session.query(RegionHoursSplit).filter_by(region_code="370100").one()
    assert (split.online_hours, split.offline_hours) == (20, 12)


@pytest.mark.usefixtures("hours_tables_restored")  # should the refusal fail
def test_non_admins_cannot_edit_rules(staff_client, db):
    rule = db.session.query(HoursRule).first()
    assert staff_client.post(f"/admin/hours/rules/{rule.id}", data={"total_hours": 1}).status_code == 403
