"""Study hours and certificates (issue 14): certificates issued per second (signature + PDF) and
offline verifications per second, each on ONE core.

    .venv/bin/python bench/hours_bench.py issue --db sqlite            # or --db postgres (database lms_hours_bench)
    .venv/bin/python bench/hours_bench.py verify
    .venv/bin/python bench/hours_bench.py issue --db sqlite --profile  # adds cProfile of the pure part
    .venv/bin/python bench/hours_bench.py issue --pure-only            # only the pure part, no database

The process pins itself to CPU 0 (os.sched_setaffinity) before anything else, so every figure is
what one core does; other processes on the machine may still share that core (the load average is
printed), which is why the CPU time of the thread is printed beside the wall time.

issue: (1) the pure work, in an app context but without the database: ``payload.sign`` and
``pdf.certificate_pdf`` (photo, 8 courses of 20-character Chinese titles, the QR code of the
verification URL) for --n different learners' facts. (2) End to end through the services on a
database built as bench/heartbeat_bench.py builds it (migrations, one class, approved learners) on a
temporary SQLite file or on the PostgreSQL database lms_hours_bench (its schema is dropped and
rebuilt), with 8 courses of 2 hours in the class, each learner credited and passed (ledger rows and
finished attempts written directly) and holding an encrypted photo file: per learner
``ledger.class_progress`` (what reconcile reads first), ``certificates.issue`` + commit (key, sign,
INSERT, audit row) and ``pdf.certificate_pdf_for`` (reads the photo file, renders). The photo is a
real uploaded-size face photo (../shared/testdata/faces/obama_1.jpg, 910x1137, 280 KB) unless
--photo names another JPEG; a generated picture of that size when the photos are absent.

verify: --n distinct payloads (8 courses each) signed beforehand; ``payload.verify(token, keys)``
with the published key set of three keys (two rotations), then ``token_from_text(url)`` + verify as
a scanner does with the QR text, then the parts of a verification timed alone.

Each operation is reported as median and p95 (wall, and the thread's CPU time) and as a rate: the
count divided by the summed wall time of the timed calls. Peak RSS is resource.getrusage's
ru_maxrss of this process. Targets (issue 14): at least 20 certificates/s and 5,000
verifications/s on one core.
"""
import argparse
import cProfile
import io
import math
import os
import pstats
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from random import Random

from heartbeat_bench import ROOT, build_database, own_environment

BENCH_DATABASE = "postgresql://postgres@127.0.0.1:5432/lms_hours_bench"
PUBLIC_URL = "https://aqpx.example.gov.cn"   # a plausible production address for the QR text
TARGET_ISSUE, TARGET_VERIFY = 20, 5000
WARM_UP = 5

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁"
GIVEN_NAMES = ["建国", "秀英", "志强", "丽娟", "海燕", "国庆", "红梅", "永强", "卫东", "晓明", "桂芳", "德华"]
# Eight course titles of exactly 20 Chinese characters (the longest the issue's size target names).
COURSE_TITLES = [title[:20] for title in (
    "危险化学品安全生产法律法规及标准体系解读与案例分析",
    "危险化学品经营单位安全生产管理制度建设与落实要点",
    "重大危险源辨识评估监控与应急处置能力提升专题讲座",
    "危险化学品储存运输装卸环节事故隐患排查治理实务课",
    "生产安全事故应急预案编制演练与现场处置能力培训课",
    "安全生产双重预防机制建设风险分级管控与隐患排查课",
    "职业病危害因素识别与个体防护用品正确选用维护课程",
    "典型危险化学品事故案例警示教育与经验教训深度剖析")]
CLASS_TITLE = "危险化学品经营单位主要负责人安全生产知识和管理能力初训班"
INSTITUTION = "广东省佛山市禅城区安全生产培训中心"


def pin_to_one_core() -> None:
    os.sched_setaffinity(0, {0})
    print(f"pinned to CPU 0 (affinity {sorted(os.sched_getaffinity(0))} of {os.cpu_count()} CPUs); "
          f"load average {os.getloadavg()[0]:.1f}")


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


class Timings:
    """Wall and CPU milliseconds of each call of each named operation."""

    def __init__(self):
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def add(self, name: str, wall_s: float, cpu_s: float) -> None:
        self.wall.setdefault(name, []).append(wall_s * 1000)
        self.cpu.setdefault(name, []).append(cpu_s * 1000)

    def combine(self, name: str, parts: tuple[str, ...]) -> None:
        """A figure per call that is the sum of the named parts of the same call."""
        self.wall[name] = [sum(values) for values in zip(*(self.wall[part] for part in parts), strict=True)]
        self.cpu[name] = [sum(values) for values in zip(*(self.cpu[part] for part in parts), strict=True)]

    def report(self, unit: str = "ms") -> None:
        scale = 1000 if unit == "µs" else 1
        for name, wall in self.wall.items():
            cpu = self.cpu[name]
            rate = len(wall) / (sum(wall) / 1000)
            print(f"  {name:44s} median {statistics.median(wall) * scale:8.3f} {unit}  p95 "
                  f"{percentile(wall, 95) * scale:8.3f} {unit}  CPU median {statistics.median(cpu) * scale:8.3f} "
                  f"{unit}  -> {rate:9.1f}/s (CPU {len(cpu) / (sum(cpu) / 1000):9.1f}/s)")

    def rate(self, name: str) -> float:
        return len(self.wall[name]) / (sum(self.wall[name]) / 1000)


def clocked(timings: Timings, name: str, call, *args):
    w0, c0 = time.perf_counter(), time.thread_time()
    value = call(*args)
    timings.add(name, time.perf_counter() - w0, time.thread_time() - c0)
    return value


# --- the facts of many learners ---------------------------------------------------------------------

def id_number(index: int) -> str:
    from lms.core.iddocs import gb11643_check_char
    first17 = f"44060419{70 + index % 30:02d}{index % 12 + 1:02d}{index % 28 + 1:02d}{index % 1000:03d}"
    return first17 + gb11643_check_char(first17)


def learner_facts(index: int, key_id: str, now: datetime, rng: Random):
    from lms.core.iddocs import mask
    from lms.hours import certificates
    from lms.hours.payload import CertificateFacts, CourseLine
    courses = tuple(CourseLine(title, 2.0, rng.choice([80, 84, 88, 92, 96, 100])) for title in COURSE_TITLES)
    return CertificateFacts(
        number=certificates.new_number(now), name=SURNAMES[index % len(SURNAMES)] + GIVEN_NAMES[index % 12],
        masked_id=mask(id_number(index)), institution=INSTITUTION, class_title=CLASS_TITLE, training_type="初训",
        category="危险化学品经营单位 主要负责人", hours=16.0, required_hours=16, courses=courses,
        start=date(2026, 11, 2) + timedelta(days=index % 7), completed=date(2026, 11, 20),
        issued_at=now.replace(microsecond=0), key_id=key_id)


def photo_bytes(path: str | None) -> tuple[bytes, str]:
    """The learner photo for the PDFs: a real uploaded-size JPEG."""
    candidates = [Path(path)] if path else [ROOT.parent / "shared/testdata/faces/obama_1.jpg",
                                            ROOT / ".test-faces/obama_1.jpg"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.read_bytes(), str(candidate)
    if path:
        raise SystemExit(f"no photo at {path}")
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (910, 1137), (200, 210, 230))
    draw = ImageDraw.Draw(image)
    for n in range(0, 910, 7):  # some detail, so that the JPEG is not trivially small
        draw.line([(n, 0), (910 - n, 1137)], fill=(n % 255, 120, 255 - n % 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue(), "generated 910x1137 JPEG (face photos absent)"


# --- issue --------------------------------------------------------------------------------------------

def bench_environment(tmp: Path, db: str) -> dict:
    env = own_environment(tmp, db, BENCH_DATABASE)
    env["LMS_PUBLIC_URL"] = PUBLIC_URL
    return env


def prepare_learners(photo: bytes, now: datetime) -> tuple[int, list[int]]:
    """The built class gets 8 courses of 2 hours (16 required); every learner is credited them
    (ledger rows written directly: the ledger service would issue the certificate itself), has
    passed each course's test, and has an encrypted photo file. Returns (class id, learner ids)."""
    from sqlalchemy import insert, select

    from lms.extensions import db
    from lms.files.storage import check_image, store_image
    from lms.hours.models import CREDIT, HoursEntry
    from lms.institutions.models import TrainingClass
    from lms.learners.models import Learner
    from lms.player.models import ClassCourse, Course
    from lms.quiz.models import FINISHED, Attempt
    training_class = db.session.scalar(select(TrainingClass))
    training_class.title, training_class.required_online_hours = CLASS_TITLE, 16
    training_class.institution.name = INSTITUTION
    courses = [Course(institution_id=training_class.institution_id, title=title, nominal_hours=2.0,
                      last_reviewed_on=date.today(), status="published") for title in COURSE_TITLES]
    db.session.add_all(courses)
    db.session.flush()
    db.session.add_all([ClassCourse(class_id=training_class.id, course_id=course.id) for course in courses])
    learners = list(db.session.scalars(select(Learner).order_by(Learner.id)))
    checked = check_image(photo, 10 * 1024 * 1024)
    rng = Random(14)
    entries, attempts = [], []
    for index, learner in enumerate(learners):
        learner.name = SURNAMES[index % len(SURNAMES)] + GIVEN_NAMES[index % 12]
        learner.work_unit = "佛山市禅城区某某化工贸易有限公司"
        record = store_image(checked, "photo", learner.user_id)
        db.session.flush()
        learner.photo_file_id = record.id
        for day, course in enumerate(courses):
            when = now - timedelta(days=20 - day)
            entries.append(dict(learner_id=learner.id, course_id=course.id, seq=1, kind=CREDIT, tenths=20, reason="",
                                ip="", created_at=when))
            attempts.append(dict(learner_id=learner.id, course_id=course.id, number=1, status=FINISHED,
                                 started_at=when, deadline=when + timedelta(hours=2), ended_at=when,
                                 score=rng.choice([80, 88, 96, 100]), passed=True, current=0, question_count=20,
                                 tab_token="", ip="", user_agent=""))
    db.session.flush()
    db.session.execute(insert(HoursEntry.__table__), entries)
    db.session.execute(insert(Attempt.__table__), attempts)
    db.session.commit()
    return training_class.id, [learner.id for learner in learners]


def measure_pure(app, photo: bytes, n: int, key_id: str, private, profile: bool) -> dict:
    """(1) sign + PDF of n learners' facts, after WARM_UP untimed ones."""
    from lms.core.clock import utcnow
    from lms.hours import payload
    from lms.hours import pdf as pdf_module
    pure, sizes = Timings(), []
    with app.app_context():
        rng = Random(1)
        facts = [learner_facts(index, key_id, utcnow(), rng) for index in range(n + WARM_UP)]

        def one_pure(item, timings):
            token = clocked(timings, "payload.sign", payload.sign, item, private)
            url = payload.verification_url(PUBLIC_URL, token)
            document = clocked(timings, "pdf.certificate_pdf", lambda: pdf_module.certificate_pdf(
                item, qr_text=url, photo=photo, work_unit="佛山市禅城区某某化工贸易有限公司"))
            return token, url, document

        w0 = time.perf_counter()
        one_pure(facts[0], Timings())
        first_ms = (time.perf_counter() - w0) * 1000
        for item in facts[1:WARM_UP]:
            one_pure(item, Timings())
        for item in facts[WARM_UP:]:
            w0, c0 = time.perf_counter(), time.thread_time()
            token, url, document = one_pure(item, pure)
            pure.add("sign + PDF (one certificate)", time.perf_counter() - w0, time.thread_time() - c0)
            sizes.append((len(document), len(token), len(url)))
        profile_text = profile_pure(facts[WARM_UP:], one_pure) if profile else ""
    return {"timings": pure, "sizes": sizes, "first_ms": first_ms, "profile": profile_text}


def measure_service(app, class_id: int, learner_ids: list[int]) -> dict:
    """(2) class_progress, issue + commit and certificate_pdf_for per learner, one after another."""
    from sqlalchemy import func, select

    from lms.core.clock import utcnow
    from lms.extensions import db
    from lms.hours import certificates, ledger
    from lms.hours import pdf as pdf_module
    from lms.hours.models import Certificate
    from lms.institutions.models import TrainingClass
    from lms.learners.models import Learner
    service = Timings()
    statements = {"now": 0}
    counts: dict[str, int] = {}

    def counted(name, call, *args):
        before = statements["now"]
        value = clocked(service_timings["current"], name, call, *args)
        counts[name] = counts.get(name, 0) + statements["now"] - before
        return value
    service_timings = {"current": Timings()}
    with app.app_context():
        from sqlalchemy import event

        def one_statement(*_args):
            statements["now"] += 1
        event.listen(db.engine, "before_cursor_execute", one_statement)

        def one_service(learner_id, timings):
            service_timings["current"] = timings
            def progress_of():
                learner = db.session.get(Learner, learner_id)
                return learner, ledger.class_progress(learner_id, db.session.get(TrainingClass, class_id))
            learner, progress = counted("load learner + ledger.class_progress", progress_of)
            assert progress.complete, "the prepared learner does not meet the requirement"

            def issued():
                certificate = certificates.issue(learner, progress.training_class, progress, utcnow())
                db.session.commit()
                return certificate
            certificate = counted("certificates.issue + commit", issued)
            document = counted("pdf.certificate_pdf_for", pdf_module.certificate_pdf_for, certificate)
            assert document.startswith(b"%PDF")
            db.session.remove()  # a request's session ends here
            return document

        for learner_id in learner_ids[:WARM_UP]:
            one_service(learner_id, Timings())
        counts.clear()
        for learner_id in learner_ids[WARM_UP:]:
            w0, c0 = time.perf_counter(), time.thread_time()
            one_service(learner_id, service)
            service.add("whole (class_progress + issue + PDF)", time.perf_counter() - w0, time.thread_time() - c0)
        service.combine("issue + PDF (without class_progress)",
                        ("certificates.issue + commit", "pdf.certificate_pdf_for"))
        stored = db.session.scalar(select(func.count(Certificate.id)))
        sample = db.session.scalar(select(Certificate).order_by(Certificate.id.desc()).limit(1))
        verdict = certificates.verify_token(sample.token).status
        event.remove(db.engine, "before_cursor_execute", one_statement)
    timed = len(learner_ids) - WARM_UP
    return {"timings": service, "stored": stored, "verdict": verdict,
            "statements": {name: count / timed for name, count in counts.items()}}


def verdict_line(label: str, timings: Timings, name: str, unit: str, target: float) -> str:
    rate = timings.rate(name)
    cpu_rate = len(timings.cpu[name]) / (sum(timings.cpu[name]) / 1000)
    return (f"{label}: {rate:.1f} {unit}/s on one core (CPU time alone: {cpu_rate:.1f}/s) -> "
            f"{'meets' if rate >= target else 'misses'} the target of {target}/s")


def run_issue(args) -> int:
    pin_to_one_core()
    photo, photo_name = photo_bytes(args.photo)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = bench_environment(tmp, args.db)
        started = time.perf_counter()
        if args.pure_only:
            os.environ.update(env)
        else:
            build_database(env, args.n + WARM_UP)  # sets os.environ from env: create_app below uses it
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from lms.app import create_app
        from lms.core.clock import utcnow
        from lms.extensions import db
        from lms.hours import keys
        app = create_app()
        if args.pure_only:
            key_id, private = "h1", Ed25519PrivateKey.generate()
        else:
            with app.app_context():
                class_id, learner_ids = prepare_learners(photo, utcnow())
                key_id, private = keys.signing_key(utcnow())
                db.session.commit()
            print(f"{args.db}: database with {len(learner_ids)} learners built in "
                  f"{time.perf_counter() - started:.1f} s")
        print(f"photo {photo_name} ({len(photo) // 1024} KB); QR base {PUBLIC_URL}")
        pure = measure_pure(app, photo, args.n, key_id, private, args.profile)
        service = None if args.pure_only else measure_service(app, class_id, learner_ids)
    print(f"first certificate of the process (font loading, caches): {pure['first_ms']:.1f} ms")
    print(f"(1) pure work, {args.n} certificates (8 courses, photo, QR) in an app context, no database:")
    pure["timings"].report()
    sizes = pure["sizes"]
    print(f"  PDF median {statistics.median(s[0] for s in sizes) / 1024:.1f} KB; payload median "
          f"{statistics.median(s[1] for s in sizes):.0f} chars, QR text median {statistics.median(s[2] for s in sizes):.0f} "
          "chars")
    lines = [verdict_line("pure sign + PDF", pure["timings"], "sign + PDF (one certificate)", "certificates",
                          TARGET_ISSUE)]
    if service:
        print(f"(2) through the services on {args.db}, {args.n} learners, one after another "
              f"({service['stored']} certificates stored; the last verifies as {service['verdict']!r}):")
        service["timings"].report()
        print("  SQL statements per certificate (COMMIT not counted): " + ", ".join(
            f"{name} {count:.1f}" for name, count in service["statements"].items()))
        lines += [verdict_line(f"{args.db}: {label}", service["timings"], name, "certificates", TARGET_ISSUE)
                  for label, name in (("issue + PDF", "issue + PDF (without class_progress)"),
                                      ("class_progress + issue + PDF", "whole (class_progress + issue + PDF)"))]
    print(f"peak RSS {peak_rss_mb():.0f} MB; load average {os.getloadavg()[0]:.1f}")
    print("\n".join(lines))
    if pure["profile"]:
        print(pure["profile"])
    return 0


def profile_pure(facts, one_pure) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for item in facts:
        one_pure(item, Timings())
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"cProfile of sign + PDF, {len(facts)} certificates, by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(r"lms/|reportlab/platypus/doctemplate|zxingcpp|PIL/Image\.py", 30)
    out.write("by time inside the function:\n")
    stats.sort_stats("tottime").print_stats(25)
    return out.getvalue()


# --- verify -------------------------------------------------------------------------------------------

def run_verify(args) -> int:
    pin_to_one_core()
    sys.path.insert(0, str(ROOT))
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from lms.hours import payload
    signers = {f"h{n}": Ed25519PrivateKey.generate() for n in (1, 2, 3)}
    published = {kid: key.public_key() for kid, key in signers.items()}  # two rotations: three keys
    rng = Random(2)
    now = datetime(2026, 11, 30, 8, 0, 0)
    tokens = []
    for index in range(args.n):
        kid = f"h{index % 3 + 1}"
        tokens.append(payload.sign(learner_facts(index, kid, now, rng), signers[kid]))
    assert len(set(tokens)) == len(tokens)
    urls = [payload.verification_url(PUBLIC_URL, token) for token in tokens]
    for token in tokens[:200]:  # warm-up
        payload.verify(token, published)
    timings = Timings()
    def scanned(url):
        return payload.verify(payload.token_from_text(url), published)

    for token in tokens:
        clocked(timings, "payload.verify(token, keys)", payload.verify, token, published)
    for url in urls:
        clocked(timings, "token_from_text(url) + payload.verify", scanned, url)
    # The parts of one verification, each timed alone over the same payloads.
    opened = [payload.open_token(token) for token in tokens]
    for token in tokens:
        clocked(timings, "  part: open_token (Base45, inflate)", payload.open_token, token)
    for raw, _signature in opened:
        clocked(timings, "  part: from_json", payload.from_json, raw)
    for raw, signature in opened:
        key = published[payload.from_json(raw).key_id]
        clocked(timings, "  part: Ed25519 verify", key.verify, signature, raw)
    for token in tokens:
        clocked(timings, "  part: payload.b45decode (numpy) alone", payload.b45decode, token)
    for token in tokens:
        clocked(timings, "  for comparison: the base45 library's b45decode", payload.base45.b45decode, token)
    print(f"verify: {args.n} distinct payloads (8 courses each; median {statistics.median(map(len, tokens)):.0f} "
          f"chars, QR text {statistics.median(map(len, urls)):.0f} chars), 3 published keys:")
    timings.report("µs")
    print(f"peak RSS {peak_rss_mb():.0f} MB; load average {os.getloadavg()[0]:.1f}")
    for name in ("payload.verify(token, keys)", "token_from_text(url) + payload.verify"):
        print(verdict_line(name, timings, name, "verifications", TARGET_VERIFY))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = parser.add_subparsers(dest="part", required=True)
    issue = parts.add_parser("issue", help="certificates issued per second: signature + PDF, one core")
    issue.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    issue.add_argument("--n", type=int, default=300, help="certificates timed (after %d untimed)" % WARM_UP)
    issue.add_argument("--photo", help="the learner photo (JPEG); default obama_1.jpg of the test faces")
    issue.add_argument("--profile", action="store_true", help="also cProfile the pure sign + PDF")
    issue.add_argument("--pure-only", action="store_true", help="only (1): no database, a generated key")
    verify = parts.add_parser("verify", help="offline verifications per second, one core")
    verify.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    sys.exit({"issue": run_issue, "verify": run_verify}[args.part](args))


if __name__ == "__main__":
    main()
