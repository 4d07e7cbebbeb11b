"""Issue 21, section 3: a question import cannot take the site down. Each hostile file of
tests/hostile_files.py is refused with its Chinese message and nothing is imported, through the
service and through the staff page; real banks (thousands of questions, a styled empty cell in the
last column, blank rows) are still read. Time and memory: bench/import_limits_bench.py, not here."""
import io
import zipfile

import pytest
from sqlalchemy import select

from lms.audit.models import AuditLog
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.quiz import bank, transfer

from . import hostile_files as hostile
from .test_quiz_bank_http import make_course, page, upload

LIMIT = 5 * 1024 * 1024

# (builder, filename, what the refusal says): the numbers are those of lms/core/limits.py
HOSTILE = [
    (hostile.far_row, "bank.xlsx", "第 99999999999 行有内容：第 100000 行之后的行不予读取。"),
    (hostile.last_column, "bank.xlsx", "第 2 行的 XFD 列有内容：最多读取 64 列。"),
    (hostile.shared_strings_bomb, "bank.xlsx", "工作簿解压后过大，请拆分为多个文件。"),
    (hostile.many_strings, "bank.xlsx", "工作簿中不同的文字超过 100000 条。"),
    (hostile.long_string, "bank.xlsx", "有单元格超过 32767 个字符。"),
    (hostile.deep_nesting, "bank.xlsx", "文件的结构无法读取（嵌套过深或含文档类型声明）。"),
    (hostile.entity_expansion, "bank.xlsx", "文件的结构无法读取（嵌套过深或含文档类型声明）。"),
    (hostile.blank_lines_csv, "bank.csv", "文件超过 100000 行（含空行）。"),
    (hostile.wide_csv, "bank.csv", "第 2 行的 KIVH 列有内容：最多读取 64 列。"),
]
IDS = [builder.__name__ for builder, _name, _message in HOSTILE]


@pytest.fixture()
def course(db, staff):
    return make_course(db, staff.institution_id)


def nothing_imported(db, course) -> bool:
    db.session.expire_all()
    return bank.bank(course.id) == [] and \
        db.session.scalar(select(AuditLog.id).where(AuditLog.action == "quiz_import")) is None


@pytest.mark.parametrize("builder, filename, message", HOSTILE, ids=IDS)
def test_a_hostile_file_is_refused_by_the_service_and_nothing_is_imported(app, db, staff, course, builder,
                                                                          filename, message):
    data = builder()
    assert len(data) <= LIMIT
    with pytest.raises(transfer.TransferError) as caught:
        transfer.import_questions(course, data, filename, utcnow(), Actor(staff), LIMIT)
    with app.test_request_context():
        assert message in transfer.transfer_error_text(caught.value)
    assert nothing_imported(db, course)


@pytest.mark.parametrize("builder, filename, message", HOSTILE, ids=IDS)
def test_a_hostile_file_uploaded_by_staff_is_refused_with_its_message(db, course, staff_client, builder, filename,
                                                                      message):
    response = upload(staff_client, course, builder(), filename)
    assert response.status_code == 200 and message in page(response)
    assert nothing_imported(db, course)


def test_parsing_stops_when_its_time_is_up(app):
    from lms.core import limits, xlsx
    data = hostile.workbook(hostile.header_row())
    with pytest.raises(limits.LimitExceeded) as caught:
        xlsx.first_sheet_rows(data, limits.Deadline.after(-1.0))
    assert caught.value.code == "too_slow"
    with app.test_request_context():
        assert limits.limit_text(caught.value) == "读取文件超过 -1 秒。请拆分为多个文件。"


def zip_of(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return zipfile.ZipFile(buffer)


def test_a_zip_is_refused_by_its_declared_sizes_count_and_ratio_before_inflating(app):
    from lms.core import limits
    refused = [
        {"a.xml": b"\0" * (limits.MAX_MEMBER_BYTES + 1)},                    # one member too large
        {f"{n}.xml": b"x" for n in range(limits.MAX_ZIP_MEMBERS + 1)},       # too many members
        {"a.xml": b"a" * (limits.RATIO_FROM + 1)},                           # 1 MB of one letter: ratio ~1000
    ]
    for members in refused:
        with pytest.raises(limits.LimitExceeded):
            limits.check_zip(zip_of(members))
    limits.check_zip(zip_of({"a.xml": b"a" * (limits.RATIO_FROM + 1)}, zipfile.ZIP_STORED))
    limits.check_zip(zip_of({"a.xml": b"a" * limits.RATIO_FROM}))  # small members may compress as they will


def good_rows(count: int, first: int = 2) -> str:
    return "".join(f'<row r="{n}">' + hostile.inline(f"A{n}", "判断题") + hostile.inline(f"B{n}", f"第{n}题：必须持证上岗。")
                   + hostile.inline(f"C{n}", "正确") + "</row>" for n in range(first, first + count))


def test_styled_empty_cells_far_away_and_blank_rows_do_not_stop_a_real_bank(app):
    styled = good_rows(1) + '<row r="3"><c r="XFD3" s="1"/></row>' + good_rows(1, first=4) + \
        '<row r="1048576" customFormat="1" s="1"><c r="A1048576" s="1"/></row>'
    parsed = transfer.parse_import(hostile.workbook(hostile.header_row() + styled), "bank.xlsx", [], LIMIT)
    assert parsed.rows == [2, 4] and not parsed.errors


def test_a_bank_of_thousands_of_questions_is_within_every_limit(app):
    rows = [list(transfer.HEADERS)] + [
        ["单选题", f"第{n}题：" + "危险化学品储存场所应当符合哪项要求？" * 4, "设置明显的安全警示标志" * 2, "与员工宿舍设在同一建筑内",
         "随意堆放", "无需通风", "", "", "", "", "A", "《危险化学品安全管理条例》规定。" * 5, "危险化学品", ""]
        for n in range(3000)]
    data = transfer.to_xlsx(rows)
    assert len(data) <= LIMIT
    parsed = transfer.parse_import(data, "bank.xlsx", [], LIMIT)
    assert len(parsed.drafts) == 3000 and not parsed.errors


# --- the other parser with no bound of its own: ffprobe on an uploaded video -----------------------

def test_probing_a_source_that_never_ends_is_stopped(app, tmp_path, monkeypatch):
    import os

    from lms.player import transcode
    monkeypatch.setattr("lms.core.limits.PROBE_SECONDS", 1)
    fifo = tmp_path / "source.mp4"
    os.mkfifo(fifo)  # opening it blocks until a writer comes: none will
    with pytest.raises(transcode.TranscodeError) as caught:
        transcode.probe(fifo)
    assert caught.value.code == "unreadable" and "longer than 1 s" in caught.value.detail


def test_a_video_wider_than_8k_is_refused_before_transcoding(app, tmp_path):
    import subprocess

    from lms.player import transcode
    from lms.player.messages import video_error
    source = tmp_path / "wide.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=gray:size=8208x16:d=0.2:r=5",
                    "-c:v", "libx264", "-preset", "ultrafast", str(source)], check=True)
    with pytest.raises(transcode.TranscodeError) as caught:
        transcode.probe(source)
    assert caught.value.code == "dimensions"
    with app.test_request_context():
        assert video_error("dimensions") == "视频画面大于 8K（8192 × 4320），请以较小尺寸导出后再上传。"
