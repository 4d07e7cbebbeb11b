"""Reference data loaded into every database (idempotent)."""
from ..extensions import db
from .models import (GENERAL, HIGH_RISK, INITIAL, PRINCIPAL, REFRESHER, SAFETY_MANAGER,
                     SPECIAL_OPERATION, HoursRule, QualificationType, Region, RegionHoursSplit)

REGIONS = [
    ("110000", "北京市", None, 1), ("110100", "北京市市辖区", "110000", 2),
    ("110105", "朝阳区", "110100", 3), ("110108", "海淀区", "110100", 3),
    ("370000", "山东省", None, 1), ("370100", "济南市", "370000", 2),
    ("370102", "历下区", "370100", 3), ("370112", "历城区", "370100", 3),
    ("370200", "青岛市", "370000", 2), ("370211", "黄岛区", "370200", 3),
    ("370300", "淄博市", "370000", 2), ("370305", "临淄区", "370300", 3),
    ("440000", "广东省", None, 1), ("440100", "广州市", "440000", 2),
    ("440106", "天河区", "440100", 3), ("440115", "南沙区", "440100", 3),
    ("440600", "佛山市", "440000", 2), ("440604", "禅城区", "440600", 3),
    ("440605", "南海区", "440600", 3), ("440606", "顺德区", "440600", 3),
    ("440607", "三水区", "440600", 3), ("440608", "高明区", "440600", 3),
    ("441900", "东莞市", "440000", 2),
]

SPECIAL_OPERATIONS = {
    "电工作业": ["低压电工作业", "高压电工作业", "电力电缆作业", "继电保护作业", "电气试验作业", "防爆电气作业"],
    "焊接与热切割作业": ["熔化焊接与热切割作业", "压力焊作业", "钎焊作业"],
    "高处作业": ["登高架设作业", "高处安装、维护、拆除作业"],
    "制冷与空调作业": ["制冷与空调设备运行操作作业", "制冷与空调设备安装修理作业"],
    "金属非金属矿山安全作业": [
        "金属非金属矿井通风作业", "尾矿作业", "金属非金属矿山安全检查作业（露天矿山）",
        "金属非金属矿山安全检查作业（小型露天采石场）", "金属非金属矿山安全检查作业（地下矿山）",
        "金属非金属矿山提升机操作作业", "金属非金属矿山支柱作业", "金属非金属矿山井下电气作业",
        "金属非金属矿山排水作业", "金属非金属矿山爆破作业",
    ],
    "冶金（有色）生产安全作业": ["煤气作业"],
    "危险化学品安全作业": [
        "光气及光气化工艺作业", "氯碱电解工艺作业", "氯化工艺作业", "硝化工艺作业", "合成氨工艺作业",
        "裂解（裂化）工艺作业", "氟化工艺作业", "加氢工艺作业", "重氮化工艺作业", "氧化工艺作业",
        "过氧化工艺作业", "胺基化工艺作业", "磺化工艺作业", "聚合工艺作业", "烷基化工艺作业",
        "化工自动化控制仪表作业",
    ],
    "烟花爆竹安全作业": ["烟花爆竹储存作业"],
}
HIGH_RISK_SPECIAL = {"金属非金属矿山安全作业", "冶金（有色）生产安全作业", "危险化学品安全作业", "烟花爆竹安全作业"}
# Hazardous chemical process operators need senior-high education or above (AQ-level rule).
EDUCATION_REQUIRED_SPECIAL = {"危险化学品安全作业"}

MANAGER_CATEGORIES = [
    # (category, industry group, education certificate required)
    ("金属非金属矿山（小型露天采石场）", HIGH_RISK, False),
    ("金属非金属矿山（露天矿山）", HIGH_RISK, False),
    ("金属非金属矿山（地下矿山）", HIGH_RISK, False),
    ("烟花爆竹经营单位", HIGH_RISK, False),
    ("危险化学品生产单位", HIGH_RISK, True),
    ("危险化学品经营单位", HIGH_RISK, False),
    ("金属冶炼单位", HIGH_RISK, False),
    ("一般生产经营单位", GENERAL, False),
]

HOURS_RULES = [
    # 《生产经营单位安全培训规定》第九条
    ("manager", GENERAL, INITIAL, 32, "《生产经营单位安全培训规定》第九条"),
    ("manager", GENERAL, REFRESHER, 12, "《生产经营单位安全培训规定》第九条"),
    ("manager", HIGH_RISK, INITIAL, 48, "《生产经营单位安全培训规定》第九条"),
    ("manager", HIGH_RISK, REFRESHER, 16, "《生产经营单位安全培训规定》第九条"),
    (SPECIAL_OPERATION, GENERAL, REFRESHER, 8, "《特种作业人员安全技术培训考核管理规定》第二十二条"),
    (SPECIAL_OPERATION, HIGH_RISK, REFRESHER, 8, "《特种作业人员安全技术培训考核管理规定》第二十二条"),
]

REGION_SPLITS = [
    # Foshan: initial 16 online + 16 offline, re-training 8 online + 4 offline.
    ("440600", INITIAL, 16, 16),
    ("440600", REFRESHER, 8, 4),
]


def _qualification_rows():
    for category, items in SPECIAL_OPERATIONS.items():
        group = HIGH_RISK if category in HIGH_RISK_SPECIAL else GENERAL
        for item in items:
            yield SPECIAL_OPERATION, category, item, group, category in EDUCATION_REQUIRED_SPECIAL
    for category, group, education in MANAGER_CATEGORIES:
        for audience in (PRINCIPAL, SAFETY_MANAGER):
            yield audience, category, "", group, education


def seed_reference_data() -> None:
    """Insert whatever reference rows are missing; never overwrite admin edits."""
    existing_regions = {code for (code,) in db.session.query(Region.code)}
    for code, name, parent, level in REGIONS:
        if code not in existing_regions:
            db.session.add(Region(code=code, name=name, parent_code=parent, level=level))
            existing_regions.add(code)
    existing_types = set(db.session.query(
        QualificationType.audience, QualificationType.category, QualificationType.item))
    for audience, category, item, group, education in _qualification_rows():
        if (audience, category, item) not in existing_types:
            db.session.add(QualificationType(
                audience=audience, category=category, item=item,
                industry_group=group, requires_education_cert=education))
    existing_rules = set(db.session.query(
        HoursRule.audience_group, HoursRule.industry_group, HoursRule.training_type))
    for audience_group, group, training_type, hours, basis in HOURS_RULES:
        if (audience_group, group, training_type) not in existing_rules:
            db.session.add(HoursRule(audience_group=audience_group, industry_group=group,
                                     training_type=training_type, total_hours=hours, basis=basis))
    existing_splits = set(db.session.query(RegionHoursSplit.region_code, RegionHoursSplit.training_type))
    for region_code, training_type, online, offline in REGION_SPLITS:
        if (region_code, training_type) not in existing_splits:
            db.session.add(RegionHoursSplit(region_code=region_code, training_type=training_type,
                                            online_hours=online, offline_hours=offline))
    db.session.commit()
