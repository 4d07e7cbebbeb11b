"""The demo course's question bank: questions on the Work Safety Law and hazardous chemicals of the
kind a safety manager's re-training asks (flask lms seed-demo)."""
from .quiz import bank, papers

TRUE_FALSE = (
    ("生产经营单位的主要负责人对本单位的安全生产工作全面负责。", "A", "《安全生产法》规定，生产经营单位的主要负责人是本单位安全生产第一责任人。", "安全生产责任"),
    ("危险化学品可以临时存放在办公场所内。", "B", "危险化学品应当储存在专用仓库、专用场地或者专用储存室内，不得存放在办公场所。", "危险化学品储存"),
    ("从业人员发现直接危及人身安全的紧急情况时，有权停止作业或者在采取可能的应急措施后撤离作业场所。", "A",
     "这是从业人员的紧急避险权。", "从业人员权利"),
    ("安全生产教育和培训不合格的从业人员，经单位负责人同意后可以上岗作业。", "B", "未经安全生产教育和培训合格的从业人员，不得上岗作业。", "教育培训"),
    ("剧毒化学品应当在专用仓库内单独存放，实行双人收发、双人保管制度。", "A", "《危险化学品安全管理条例》对剧毒化学品储存的要求。", "危险化学品储存"),
)

SINGLE = (
    ("我国安全生产工作的方针是（　）。", ["安全第一、预防为主、综合治理", "预防为主、防消结合", "以人为本、安全发展", "管生产必须管安全"], "A",
     "《安全生产法》第三条。", "安全生产方针"),
    ("危险化学品安全标签应当粘贴、挂拴或者喷印在（　）。", ["化学品包装或容器上", "仓库大门上", "运输车辆上", "经营场所墙上"], "A",
     "安全标签随化学品包装或容器流通。", "危险化学品标识"),
    ("从业人员有依法获得安全生产保障的权利，并应当依法履行安全生产方面的（　）。", ["权利", "义务", "职权", "特权"], "B",
     "权利与义务相统一。", "从业人员义务"),
    ("扑救遇湿易燃物品火灾时，禁止使用（　）。", ["干砂", "水", "干粉", "压盖窒息"], "B", "遇湿易燃物品遇水会放出易燃气体并放热。", "应急处置"),
    ("生产安全事故发生后，事故现场有关人员应当立即报告（　）。", ["本单位负责人", "新闻媒体", "行业协会", "保险公司"], "A",
     "《安全生产法》规定事故现场有关人员应当立即报告本单位负责人。", "事故报告"),
    ("危险化学品经营单位的主要负责人和安全生产管理人员，应当由（　）对其安全生产知识和管理能力考核合格。",
     ["应急管理部门", "公安机关", "市场监督管理部门", "行业协会"], "A", "考核由负有安全生产监督管理职责的部门组织。", "考核发证"),
)

MULTIPLE = (
    ("从业人员在安全生产方面的权利包括（　）。", ["知情权和建议权", "批评、检举、控告权", "拒绝违章指挥和强令冒险作业的权利", "擅自改变工艺参数的权利"],
     "ABC", "擅自改变工艺参数属于违章行为。", "从业人员权利"),
    ("储存危险化学品的仓库应当符合（　）等要求。", ["通风", "防火防爆", "防晒防潮", "与员工宿舍设在同一建筑内"], "ABC",
     "危险化学品仓库严禁与员工宿舍设在同一建筑物内。", "危险化学品储存"),
)

# 4 x 5 + 5 x 10 + 2 x 15 = 100 points: each attempt draws 4 of 5 and 5 of 6, so papers differ.
DEMO_RULES = papers.PaperRules(papers.KindRule(4, 5), papers.KindRule(5, 10), papers.KindRule(2, 15))


def stock_demo_bank(course, now, actor) -> None:
    for stem, answer, explanation, point in TRUE_FALSE:
        bank.add_question(course, bank.QuestionDraft("true_false", stem, [], answer, explanation, point), now, actor)
    for kind, rows in (("single", SINGLE), ("multiple", MULTIPLE)):
        for stem, options, answer, explanation, point in rows:
            bank.add_question(course, bank.QuestionDraft(kind, stem, options, answer, explanation, point), now, actor)
    bank.save_auto_settings(course, DEMO_RULES, now, actor)
