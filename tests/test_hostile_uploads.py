"""Hostile uploads: playlists that make ffmpeg read other institutions' videos, video uploads larger than
the request limit, and images whose pixels would take seconds and hundreds of MB to decode."""
import io
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.files.storage import UploadRejected, check_image
from lms.player import jobs, services, transcode
from lms.player.models import FAILED, READY, Lesson, Rendition, Video
from lms.proctor import faces

from .conftest import csrf_token_from, make_video, ready_course
from .test_registration import post as register

UNSUPPORTED = "不是受支持格式的视频"


def hls_playlist(tmp_path: Path, segment: str) -> bytes:
    """A real HLS playlist written by ffmpeg, its segment replaced by ``segment``."""
    out = tmp_path / "hls"
    out.mkdir()
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1",
                    "-c:v", "libx264", "-preset", "ultrafast", "-f", "hls", "-hls_list_size", "0",
                    "-hls_segment_filename", str(out / "seg%d.ts"), str(out / "list.m3u8")], check=True)
    text = (out / "list.m3u8").read_text()
    assert text.startswith("#EXTM3U") and "seg0.ts" in text
    return text.replace("seg0.ts", segment).encode()


def ffconcat_list(segment: str) -> bytes:
    return f"ffconcat version 1.0\nfile '{segment}'\n".encode()


@pytest.fixture()
def victim(db, staff, open_class, tmp_path):
    """Another institution's transcoded video: the file an attacker wants."""
    course = ready_course(db, staff, open_class, [make_video(tmp_path / "secret.mp4", 1, size="320x240")])
    return course.lessons[0].video.renditions[0]


def attacker_lesson(other_staff, tmp_path) -> Lesson:
    course = services.create_course(other_staff.institution_id, services.CourseDraft(
        "偷看", "", 1, "", "1", date(2026, 1, 1)), utcnow(), Actor(other_staff))
    with open(make_video(tmp_path / "cover.mp4", 1, size="160x120", audio=False), "rb") as stream:
        return services.add_lesson(course, "l", "cover.mp4", stream, utcnow(), Actor(other_staff), 10 ** 9)


@pytest.mark.parametrize("kind,relative", [("hls", True), ("hls", False), ("ffconcat", True), ("ffconcat", False)])
def test_a_playlist_source_never_reads_another_institutions_video(app, db, victim, other_staff, tmp_path, kind,
                                                                  relative):
    lesson = attacker_lesson(other_staff, tmp_path)
    target = jobs.rendition_path(victim)
    segment = f"../{victim.video_id}/{target.name}" if relative else str(target)
    # On disk as if it had got past the upload check (uploaded before it existed, or a new trick).
    source = jobs.source_path(lesson.video)
    source.write_bytes(hls_playlist(tmp_path, segment) if kind == "hls" else ffconcat_list(segment))
    jobs.run_once()
    db.session.refresh(lesson.video)
    assert lesson.video.status == FAILED and lesson.video.error == "format"
    assert db.session.query(Rendition).filter_by(video_id=lesson.video_id).count() == 0
    assert [p.name for p in jobs.video_dir(lesson.video_id).rglob("*")] == [source.name]


def test_a_source_swapped_after_probing_is_still_read_as_the_probed_container(app, db, victim, tmp_path):
    source = make_video(tmp_path / "real.mp4", 1, size="160x120", audio=False)
    info = transcode.probe(source)
    source.write_bytes(hls_playlist(tmp_path, str(jobs.rendition_path(victim))))
    out = tmp_path / "out"
    with pytest.raises(transcode.TranscodeError):
        transcode.run(source, out, info, transcode.plan(info), lambda fraction: None)
    assert not [p for p in out.glob("*.mp4") if p.stat().st_size > 0]


def test_a_playlist_upload_is_refused_at_once_with_a_reason(app, db, staff_client, victim, tmp_path):
    course_url = staff_client.post("/courses/new", data={
        "title": "新课", "nominal_hours": "1", "version": "1", "last_reviewed_on": "2026-01-01"}).location
    videos_before = db.session.query(Video).count()
    playlist = hls_playlist(tmp_path, str(jobs.rendition_path(victim)))
    response = staff_client.post(course_url, data={"title": "第一讲", "video": (io.BytesIO(playlist), "lesson.mp4")},
                                 content_type="multipart/form-data")
    assert response.status_code == 200 and UNSUPPORTED in response.get_data(as_text=True)
    assert db.session.query(Video).count() == videos_before


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".webm", ".mkv", ".avi", ".flv", ".ts", ".3gp"])
def test_every_supported_container_still_transcodes(db, staff, tmp_path, suffix):
    path = tmp_path / f"clip{suffix}"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=176x144:rate=25:duration=1",
                    str(path)], check=True)  # each container's default codecs; 176x144 suits H.263 in 3GP
    course = services.create_course(staff.institution_id, services.CourseDraft("格式", "", 1, "", "1", date(2026, 1, 1)),
                                    utcnow(), Actor(staff))
    with open(path, "rb") as stream:
        lesson = services.add_lesson(course, "l", path.name, stream, utcnow(), Actor(staff), 10 ** 9)
    jobs.run_once()
    db.session.refresh(lesson.video)
    assert lesson.video.status == READY, lesson.video.error


# --- video uploads above the request limit --------------------------------------------------------

def test_a_video_larger_than_the_request_limit_uploads_with_csrf_on(app, db, staff, staff_client, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)  # stands for the real 24 MB
    video = tmp_path / "big.mp4"  # a real video of about 2 MB: lossless noise, so that it is big
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=25:duration=0.5,noise=alls=100:allf=t",
                    "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(video)], check=True)
    assert video.stat().st_size > 1.5 * 1024 * 1024
    course = services.create_course(staff.institution_id, services.CourseDraft(
        "大视频", "", 1, "", "1", date(2026, 1, 1)), utcnow(), Actor(staff))
    page = staff_client.get(f"/courses/{course.id}").get_data(as_text=True)
    with open(video, "rb") as stream:
        response = staff_client.post(f"/courses/{course.id}", content_type="multipart/form-data", data={
            "csrf_token": csrf_token_from(page), "title": "第一讲", "video": (stream, "big.mp4")})
    assert response.status_code == 302, response.status_code
    assert db.session.query(Lesson).filter_by(course_id=course.id).count() == 1
    # Any other form keeps the request limit.
    other = staff_client.post("/courses/new", content_type="multipart/form-data", data={
        "csrf_token": csrf_token_from(page), "title": "x", "description": "x" * (2 * 1024 * 1024)})
    assert other.status_code == 413


# --- images whose pixels would take seconds to decode ----------------------------------------------

@pytest.fixture(scope="module")
def huge_png() -> bytes:
    """13,000 x 13,000 px, a few kB: 169 million pixels (500 MB as RGB) behind a small file."""
    buffer = io.BytesIO()
    Image.new("1", (13000, 13000)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture()
def decoded(monkeypatch):
    """Records every image whose pixels get decoded, and still decodes them."""
    sizes = []
    original = ImageFile.ImageFile.load

    def load(image):
        sizes.append(image.size)
        return original(image)
    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return sizes


def test_an_image_of_huge_dimensions_is_refused_before_decoding(huge_png, decoded):
    with pytest.raises(UploadRejected) as refused:
        check_image(huge_png, 5 * 1024 * 1024)
    assert refused.value.code == "dimensions"
    assert decoded == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_image_just_over_the_side_limit_is_refused_before_decoding(decoded):
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, "PNG")  # under Pillow's own limit, over ours
    with pytest.raises(UploadRejected) as refused:
        check_image(buffer.getvalue(), 5 * 1024 * 1024)
    assert refused.value.code == "dimensions" and decoded == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_face_analysis_refuses_huge_images_before_decoding(huge_png, decoded):
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, "PNG")
    for data in (huge_png, buffer.getvalue()):
        with pytest.raises(faces.FaceImageError):
            faces.load_rgb(data, faces.ENROL_MAX_SIDE)
    assert decoded == []


def test_registration_with_huge_images_is_refused_quickly_in_chinese(client, db, huge_png, decoded):
    started = time.monotonic()
    response = register(client, photo=(io.BytesIO(huge_png), "photo.png"),
                        id_document=(io.BytesIO(huge_png), "id.png"),
                        recommendation=(io.BytesIO(huge_png), "rec.png"),
                        education=(io.BytesIO(huge_png), "edu.png"))
    assert time.monotonic() - started < 2.0
    assert response.status_code == 200 and "图片每边的尺寸须在 100 至 8000 像素之间" in response.get_data(as_text=True)
    assert decoded == []


def test_an_ffmpeg_that_logs_a_lot_does_not_stall_the_progress_reading(tmp_path, monkeypatch):
    """A damaged source can make ffmpeg log an error per frame: its stderr is drained while its progress is read,
    so that a full stderr pipe never stops it (and the job with it)."""
    chatty = ("import sys; sys.stderr.write('damaged frame\\n' * 30000); sys.stderr.flush(); "
              "print('out_time_us=500000', flush=True); sys.exit(1)")

    class Command:
        def run_async(self, **_):
            return subprocess.Popen([sys.executable, "-c", chatty], stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    monkeypatch.setattr(transcode, "build", lambda *args: Command())
    source = tmp_path / "in.mp4"
    source.write_bytes(b"a chatty source")   # the suite's transcoded_once reads it; a failure is never cached
    seen, outcome = [], []

    def transcode_it():
        try:
            transcode.run(source, tmp_path / "out", transcode.SourceInfo(1.0, 2, 2, False, "mov"), [],
                          seen.append)
        except transcode.TranscodeError as error:
            outcome.append(error)

    worker = threading.Thread(target=transcode_it, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "ffmpeg's full stderr pipe stalled the transcoding"
    assert seen == [0.5] and outcome[0].code == "ffmpeg_failed" and outcome[0].detail.endswith("damaged frame\n")
