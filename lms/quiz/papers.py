"""Paper composition: which questions a test serves and for how many points. Pure functions over
plain values, so that composing can be driven by a seeded random generator and timed on its own."""
import math
from dataclasses import dataclass
from random import Random

from .models import KINDS, MULTIPLE, SINGLE, TRUE_FALSE

PAPER_TOTAL = 100


@dataclass(frozen=True)
class KindRule:
    count: int
    points: int


@dataclass(frozen=True)
class PaperRules:
    """Automatic composition: how many questions of each kind, and the points of each."""
    true_false: KindRule
    single: KindRule
    multiple: KindRule

    def of(self, kind: str) -> KindRule:
        return {TRUE_FALSE: self.true_false, SINGLE: self.single, MULTIPLE: self.multiple}[kind]

    @property
    def total(self) -> int:
        return sum(self.of(kind).count * self.of(kind).points for kind in KINDS)

    @property
    def question_count(self) -> int:
        return sum(self.of(kind).count for kind in KINDS)


@dataclass(frozen=True)
class PaperItem:
    question_id: int
    kind: str
    points: int


def rule_problems(rules: PaperRules, available: dict[str, int]) -> list[tuple[str, dict]]:
    """What stops these rules from composing a paper from a bank with ``available`` active questions
    per kind: (code, details) pairs, empty when a paper can be composed."""
    problems = []
    for kind in KINDS:
        rule = rules.of(kind)
        if rule.count < 0 or rule.points < 0 or (rule.count > 0) != (rule.points > 0):
            problems.append(("kind_rule", {"kind": kind}))
        elif rule.count > available.get(kind, 0):
            problems.append(("not_enough", {"kind": kind, "needed": rule.count, "available": available.get(kind, 0)}))
    if rules.total != PAPER_TOTAL:
        problems.append(("total", {"total": rules.total}))
    return problems


def compose(rules: PaperRules, bank: dict[str, list[int]], rng: Random) -> list[PaperItem]:
    """Draw each kind's count of questions at random from ``bank`` (question ids per kind), kinds in
    the order true/false, single, multiple; the caller shuffles the order it serves them in."""
    paper = []
    for kind in KINDS:
        rule = rules.of(kind)
        if rule.count:
            paper.extend(PaperItem(qid, kind, rule.points) for qid in rng.sample(bank.get(kind, []), rule.count))
    return paper


def manual_problems(items: list[PaperItem]) -> list[tuple[str, dict]]:
    """A hand-made paper must hold questions and total 100 points."""
    if not items:
        return [("manual_empty", {})]
    total = sum(item.points for item in items)
    if any(item.points <= 0 for item in items):
        return [("manual_points", {})]
    return [] if total == PAPER_TOTAL else [("total", {"total": total})]


def required_bank_size(video_seconds: float) -> int:
    """Guangdong checklist 32: at least one question per 10 minutes of video, rounded up (and at least one)."""
    return max(1, math.ceil(max(video_seconds, 0.0) / 600.0))
