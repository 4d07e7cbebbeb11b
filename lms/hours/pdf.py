"""The printed documents of the hours module: the study-hours certificate (学时证明), and a learner's
study record and test results. A4 portrait, Chinese text in an embedded TrueType CJK font (WenQuanYi
Micro Hei: reportlab embeds a subset of it, so the PDF prints the same everywhere), black on white
with light grey only as a fill, so that they print well on any office printer.

Every label is rendered in the platform's default language (Simplified Chinese), whatever language
the viewer's pages use: a certificate is a Chinese document.

This module only renders: what each document shows is gathered as plain data by pdf_facts.py.
"""
import io
import threading
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape

import numpy
from flask import current_app
from flask_babel import force_locale, format_date, format_datetime
from flask_babel import gettext as _
from PIL import Image as PILImage
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Flowable, Frame, KeepTogether, PageTemplate,
                                Paragraph, Spacer, Table, TableStyle)
from ..core.clock import china_date
from ..core.labels import label
from . import payload, pdf_facts
from .messages import STATUS
from .qr import qr_image

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm                    # text starts inside the printed border
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
PHOTO_WIDTH, PHOTO_HEIGHT = 25 * mm, 35 * mm   # a 1-inch ID photo (一寸照片)
PHOTO_MAX_PIXELS = (300, 420)       # 300 dpi at that size: sharp in print, a small file
PHOTO_MIN_PIXELS = (150, 210)       # 150 dpi: a large JPEG is decoded straight at a reduced scale down to this
# The QR code: a module of at least 0.4 mm reads with any phone camera at arm's length (and from a
# 100 dpi rendering, tests/test_hours_pdf.py); never narrower than 40 mm, never wider than 60 mm.
QR_MODULE = 0.4 * mm
QR_MIN, QR_MAX = 40 * mm, 60 * mm
GRID = colors.black
SHADE = colors.Color(0.9, 0.9, 0.9)   # header cells: a light grey that prints as such in black and white
COURSE_SHADE = colors.Color(0.96, 0.96, 0.96)
FONT_NAME = "LmsCJK"
_fonts: dict[str, str] = {}
_fonts_lock = threading.Lock()


class FontMissing(RuntimeError):
    """The configured CJK font cannot be loaded; the message says what to install."""


def cjk_font() -> str:
    """The reportlab name of the CJK font of config ``LMS_CJK_FONT``, parsed and registered once per
    process (parsing the 5 MB collection takes tens of milliseconds; each PDF embeds a subset)."""
    path = current_app.config["LMS_CJK_FONT"]
    name = _fonts.get(path)
    if name is not None:
        return name
    with _fonts_lock:
        if path not in _fonts:
            name = FONT_NAME if not _fonts else f"{FONT_NAME}{len(_fonts)}"
            try:
                font = TTFont(name, path, subfontIndex=0)
            except (OSError, ValueError) as error:
                raise FontMissing(f"cannot load the CJK font {path!r} (config LMS_CJK_FONT; on Debian/Ubuntu: "
                                  f"apt-get install fonts-wqy-microhei): {error}") from None
            pdfmetrics.registerFont(font)
            # Binary streams instead of ASCII85 (reportlab's default, for 7-bit mail): images and fonts
            # take 25 % less room and encoding them is a tenth of the time a certificate takes.
            rl_config.useA85 = 0
            _fonts[path] = name
    return _fonts[path]


# --- formatting ----------------------------------------------------------------------------------

def hours_text(hours: float | None) -> str:
    """1.5 -> "1.5", 48.0 -> "48": hours have at most one decimal."""
    if hours is None:
        return "—"
    return f"{hours:.1f}".rstrip("0").rstrip(".")


def day_text(value: date | datetime | None) -> str:
    """A date as a Chinese document writes it (2026年4月1日); a naive-UTC moment as its China date."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = china_date(value)
    return format_date(value, "long")


def time_text(value: datetime | None) -> str:
    """A naive-UTC moment in China time."""
    return "—" if value is None else format_datetime(value, "yyyy-MM-dd HH:mm")


def score_text(score: int | None) -> str:
    return "—" if score is None else str(score)


# --- styles and small flowables ----------------------------------------------------------------------

@dataclass(frozen=True)
class Styles:
    font: str
    body: ParagraphStyle
    cell: ParagraphStyle
    cell_center: ParagraphStyle
    label: ParagraphStyle
    small: ParagraphStyle
    heading: ParagraphStyle
    time: ParagraphStyle


_styles: dict[str, Styles] = {}


def styles() -> Styles:
    font = cjk_font()
    if font not in _styles:
        body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK", alignment=TA_LEFT)
        cell = ParagraphStyle("cell", parent=body, fontSize=10, leading=13)
        _styles[font] = Styles(
            font=font, body=body, cell=cell,
            cell_center=ParagraphStyle("cell_center", parent=cell, alignment=TA_CENTER),
            label=ParagraphStyle("label", parent=cell, alignment=TA_CENTER),
            small=ParagraphStyle("small", parent=body, fontSize=8.5, leading=11.5),
            heading=ParagraphStyle("heading", parent=body, fontSize=12, leading=16, spaceBefore=6, spaceAfter=4),
            time=ParagraphStyle("time", parent=cell, fontSize=9, alignment=TA_CENTER))
    return _styles[font]


class Text(Flowable):
    """Plain text (names and titles are user input, never markup) in a table cell or the page: one
    line drawn directly when it fits, else a wrapping paragraph. Most cells hold a short label or a
    number, and laying out a full CJK paragraph for each would double the time a certificate takes."""

    def __init__(self, text, style: ParagraphStyle):
        super().__init__()
        self.text, self.style, self._paragraph = str(text), style, None
        self._width = pdfmetrics.stringWidth(self.text, style.fontName, style.fontSize)

    def wrap(self, available_width, available_height):
        if self._width <= available_width and "\n" not in self.text:
            self._paragraph = None
            self.width, self.height = available_width, self.style.leading
            return (self._width if self.style.alignment == TA_LEFT else available_width), self.height
        if self._paragraph is None:
            self._paragraph = Paragraph(escape(self.text), self.style)
        self.width, self.height = self._paragraph.wrap(available_width, available_height)
        return self.width, self.height

    def split(self, available_width, available_height):
        return []

    def drawOn(self, canvas, x, y, _sW=0):
        if self._paragraph is not None:
            return self._paragraph.drawOn(canvas, x, y, _sW)
        canvas.setFont(self.style.fontName, self.style.fontSize)
        baseline = y + self.height - self.style.fontSize
        if self.style.alignment == TA_CENTER:
            canvas.drawCentredString(x + (self.width + _sW) / 2, baseline, self.text)
        elif self.style.alignment == TA_RIGHT:
            canvas.drawRightString(x + self.width + _sW, baseline, self.text)
        else:
            canvas.drawString(x, baseline, self.text)
        return None


def para(text, style: ParagraphStyle) -> Text:
    return Text(text, style)


class Heading(Flowable):
    """A document title, centred, letter-spaced and drawn with a thin outline as well as filled: the
    CJK font has no bold face, and the outline gives the title the weight of a printed heading."""

    def __init__(self, text: str, font: str, size: float, space_after: float = 4 * mm):
        super().__init__()
        self.text, self.font, self.size, self.space_after = text, font, size, space_after

    def wrap(self, available_width, available_height):
        self.width = available_width
        return available_width, self.size * 1.3 + self.space_after

    def draw(self):
        canvas = self.canv
        canvas.saveState()
        spacing = self.size * 0.25
        text_width = pdfmetrics.stringWidth(self.text, self.font, self.size) + spacing * (len(self.text) - 1)
        text = canvas.beginText((self.width - text_width) / 2, self.space_after + self.size * 0.3)
        text.setFont(self.font, self.size)
        text.setCharSpace(spacing)
        text.setTextRenderMode(2)       # fill and stroke
        canvas.setLineWidth(self.size / 40)
        text.textOut(self.text)
        canvas.drawText(text)
        canvas.restoreState()


class PictureBox(Flowable):
    """An image (the photo) drawn at a fixed size, or, without one, a framed box with a caption."""

    def __init__(self, image, width: float, height: float, *, caption: str = "", font: str = ""):
        super().__init__()
        self.image, self.width, self.height, self.caption, self.font = image, width, height, caption, font

    def wrap(self, available_width, available_height):
        return self.width, self.height

    def draw(self):
        canvas = self.canv
        if self.image is not None:
            canvas.drawImage(self.image, 0, 0, self.width, self.height)
            return
        canvas.saveState()
        canvas.setLineWidth(0.6)
        canvas.setDash(2, 2)
        canvas.rect(0, 0, self.width, self.height)
        canvas.setFont(self.font, 9)
        canvas.drawCentredString(self.width / 2, self.height / 2 - 3, self.caption)
        canvas.restoreState()


def grid_style(*extra) -> TableStyle:
    return TableStyle([
        ("FONT", (0, 0), (-1, -1), cjk_font(), 10),  # for empty cells too: the PDF then names no other font
        ("GRID", (0, 0), (-1, -1), 0.6, GRID),
        ("BOX", (0, 0), (-1, -1), 1.2, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        *extra])


# --- pages ---------------------------------------------------------------------------------------------

class _Document(BaseDocTemplate):
    """A4 portrait with a double border on every page; a watermark and a page footer when asked."""

    def __init__(self, buffer, *, title: str, font: str, footer: str = "", watermark: str = ""):
        super().__init__(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                         bottomMargin=MARGIN, title=title, author="", subject="", creator="",
                         initialFontName=font)
        self.font, self.footer, self.watermark = font, footer, watermark
        frame = Frame(MARGIN, MARGIN + 4 * mm, CONTENT_WIDTH, PAGE_HEIGHT - 2 * MARGIN - 4 * mm,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
        self.addPageTemplates([PageTemplate("page", [frame], onPage=self._border, onPageEnd=self._over)])

    def _border(self, canvas, doc):
        canvas.saveState()
        canvas.setStrokeColor(colors.black)
        canvas.setLineWidth(2.2)
        canvas.rect(9 * mm, 9 * mm, PAGE_WIDTH - 18 * mm, PAGE_HEIGHT - 18 * mm)
        canvas.setLineWidth(0.6)
        canvas.rect(11 * mm, 11 * mm, PAGE_WIDTH - 22 * mm, PAGE_HEIGHT - 22 * mm)
        canvas.restoreState()

    def _over(self, canvas, doc):
        canvas.saveState()
        canvas.setFont(self.font, 8)
        canvas.drawString(MARGIN, 13.5 * mm, self.footer)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 13.5 * mm, _("Page %(page)s", page=doc.page))
        if self.watermark:
            # over the content, translucent: a table's grey cells cannot hide it, and the text under it stays legible
            size = 110
            canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
            canvas.rotate(35)
            canvas.setFillColor(colors.Color(0, 0, 0, alpha=0.2))
            canvas.setStrokeColor(colors.Color(0, 0, 0, alpha=0.6))
            canvas.setLineWidth(1.5)
            text = canvas.beginText(-pdfmetrics.stringWidth(self.watermark, self.font, size) / 2, -size * 0.35)
            text.setFont(self.font, size)
            text.setTextRenderMode(2)
            text.textOut(self.watermark)
            canvas.drawText(text)
        canvas.restoreState()


def _build(story, *, title: str, font: str, footer: str = "", watermark: str = "") -> bytes:
    buffer = io.BytesIO()
    _Document(buffer, title=title, font=font, footer=footer, watermark=watermark).build(story)
    return buffer.getvalue()


def _in_default_language():
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


# --- the certificate -------------------------------------------------------------------------------------

def _photo_picture(photo: bytes | None):
    """The photo as a JPEG that reportlab embeds as it is (no re-encoding in the PDF): a small JPEG
    unchanged, anything else reduced to at most PHOTO_MAX_PIXELS. None when there is no photo or it
    cannot be read."""
    if not photo:
        return None
    try:
        with PILImage.open(io.BytesIO(photo)) as image:
            if image.format == "JPEG" and image.mode in ("RGB", "L") and \
                    image.width <= PHOTO_MAX_PIXELS[0] * 1.5 and image.height <= PHOTO_MAX_PIXELS[1] * 1.5:
                return ImageReader(io.BytesIO(photo))
            image.draft("RGB", PHOTO_MIN_PIXELS)   # JPEG: decode at 1/2, 1/4 or 1/8 scale (a third of the time)
            image = image.convert("RGB")
            image.thumbnail(PHOTO_MAX_PIXELS)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=88)
    except (OSError, ValueError, PILImage.DecompressionBombError):
        current_app.logger.warning("a learner photo could not be read for a certificate; printed without it")
        return None
    return ImageReader(io.BytesIO(out.getvalue()))


def _fitted_photo(picture, font: str):
    """The photo fitted into the 1-inch frame with its aspect ratio kept, or the framed placeholder."""
    if picture is None:
        return PictureBox(None, PHOTO_WIDTH, PHOTO_HEIGHT, caption=_("Photo"), font=font)
    width, height = picture.getSize()
    scale = min(PHOTO_WIDTH / width, PHOTO_HEIGHT / height)
    return PictureBox(picture, width * scale, height * scale)


def qr_width(modules_with_quiet_zone: int) -> float:
    """Points of the printed QR code (its quiet zone included) for a code of that many modules."""
    return min(QR_MAX, max(QR_MIN, modules_with_quiet_zone * QR_MODULE))


def _identity_table(facts: payload.CertificateFacts, work_unit: str, photo, s: Styles) -> Table:
    """Who and which training, the photo top right. Rows are made tall enough for the photo."""
    photo_column = PHOTO_WIDTH + 6 * mm
    label_width = 24 * mm
    value_width = (CONTENT_WIDTH - photo_column - 2 * label_width) / 2
    widths = [label_width, value_width, label_width, value_width, photo_column]
    wide = value_width * 2 + label_width
    rows = [
        [para(_("Name"), s.label), para(facts.name, s.cell), para(_("ID number"), s.label),
         para(facts.masked_id, s.cell), _fitted_photo(photo, s.font)],
        [para(_("Work unit"), s.label), para(work_unit or "—", s.cell), "", "", ""],
        [para(_("Institution"), s.label), para(facts.institution, s.cell), "", "", ""],
        [para(_("Training class"), s.label), para(facts.class_title, s.cell), "", "", ""],
        [para(_("Training type"), s.label), para(facts.training_type, s.cell), para(_("Training category"), s.label),
         para(facts.category or "—", s.cell), ""],
    ]
    heights = []
    for index, row in enumerate(rows[:4]):
        cell_width = value_width if index == 0 else wide
        needed = max(row[1].wrap(cell_width - 8, PAGE_HEIGHT)[1], row[0].wrap(label_width - 8, PAGE_HEIGHT)[1])
        heights.append(max(needed + 9, 9 * mm))
    photo_needed = PHOTO_HEIGHT + 4 * mm
    if sum(heights) < photo_needed:
        extra = (photo_needed - sum(heights)) / len(heights)
        heights = [h + extra for h in heights]
    heights.append(None)
    return Table(rows, colWidths=widths, rowHeights=heights, style=grid_style(
        ("SPAN", (4, 0), (4, 3)), ("SPAN", (1, 1), (3, 1)), ("SPAN", (1, 2), (3, 2)), ("SPAN", (1, 3), (3, 3)),
        ("SPAN", (3, 4), (4, 4)), ("ALIGN", (4, 0), (4, 0), "CENTER"),
        ("BACKGROUND", (0, 0), (0, -1), SHADE), ("BACKGROUND", (2, 0), (2, 0), SHADE),
        ("BACKGROUND", (2, 4), (2, 4), SHADE)))


def _courses_table(facts: payload.CertificateFacts, s: Styles) -> Table:
    widths = [13 * mm, None, 22 * mm, 24 * mm]
    widths[1] = CONTENT_WIDTH - sum(w for w in widths if w)
    rows = [[para(_("No."), s.label), para(_("Course"), s.label), para(_("Hours"), s.label),
             para(_("Test score"), s.label)]]
    for number, course in enumerate(facts.courses, start=1):
        rows.append([para(number, s.cell_center), para(course.title, s.cell),
                     para(hours_text(course.hours), s.cell_center), para(score_text(course.score), s.cell_center)])
    rows.append([para(_("Total"), s.label), "", para(hours_text(sum(c.hours for c in facts.courses)), s.cell_center),
                 ""])
    return Table(rows, colWidths=widths, repeatRows=1, style=grid_style(
        ("BACKGROUND", (0, 0), (-1, 0), SHADE), ("SPAN", (0, -1), (1, -1)), ("BACKGROUND", (0, -1), (-1, -1), SHADE)))


def _totals_table(facts: payload.CertificateFacts, s: Styles) -> Table:
    label_width = 26 * mm
    value_width = (CONTENT_WIDTH - 3 * label_width) / 3
    rows = [
        [para(_("Required online hours"), s.label), para(hours_text(facts.required_hours), s.cell_center),
         para(_("Credited online hours"), s.label), para(hours_text(facts.hours), s.cell_center),
         para(_("Study started"), s.label), para(day_text(facts.start), s.cell_center)],
        [para(_("Requirement reached"), s.label), para(day_text(facts.completed), s.cell_center),
         para(_("Issued on"), s.label), para(day_text(facts.issued_at), s.cell_center),
         para(_("Certificate No."), s.label), para(facts.number, s.cell_center)],
    ]
    return Table(rows, colWidths=[label_width, value_width] * 3, style=grid_style(
        ("BACKGROUND", (0, 0), (0, -1), SHADE), ("BACKGROUND", (2, 0), (2, -1), SHADE),
        ("BACKGROUND", (4, 0), (4, -1), SHADE)))


class QRCode(Flowable):
    """A QR code drawn as vector rectangles (one per run of dark modules in a row): sharp in every
    viewer and on every printer, where an upscaled bitmap may be smoothed into grey edges."""

    def __init__(self, image: PILImage.Image, size: float):
        super().__init__()
        self.width = self.height = size
        self.modules = image.width
        dark = (numpy.asarray(image) < 128).astype(numpy.int8)
        edges = numpy.diff(numpy.pad(dark, ((0, 0), (1, 1))), axis=1)   # +1 where a dark run starts, -1 after it
        rows, starts = numpy.nonzero(edges == 1)
        ends = numpy.nonzero(edges == -1)[1]
        rectangles = numpy.stack([starts, rows, ends - starts], axis=1).ravel().tolist()
        self.path = ("%d %d %d 1 re " * len(starts)) % tuple(rectangles) + "f"

    def wrap(self, available_width, available_height):
        return self.width, self.height

    def draw(self):
        canvas = self.canv
        canvas.saveState()
        module = self.width / self.modules
        canvas.transform(module, 0, 0, -module, 0, self.height)  # module units, rows downward as in the image
        canvas.setFillColor(colors.black)
        canvas.addLiteral(self.path)
        canvas.restoreState()


def _verification_block(facts: payload.CertificateFacts, qr_text: str, s: Styles) -> Table:
    code = qr_image(qr_text)
    size = qr_width(code.width)
    site = verification_site(qr_text)
    text = [
        para(_("Scan to verify"), s.heading),
        Paragraph(escape(_("Scan the QR code with a phone, or open %(site)s and enter the certificate number "
                           "%(number)s, to check that this certificate is genuine and still valid.",
                           site=site, number=facts.number)), s.body),
        Spacer(1, 2 * mm),
        Paragraph(escape(_("The QR code carries the certified facts with the platform's digital signature (Ed25519); "
                           "any change to them makes the signature fail.")), s.small),
    ]
    return Table([[QRCode(code, size), text]], colWidths=[size + 4 * mm, CONTENT_WIDTH - size - 4 * mm],
                 style=TableStyle([("FONT", (0, 0), (-1, -1), s.font, 10), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                   ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))


def verification_site(qr_text: str) -> str:
    """The platform's address for people to type, from the QR text (``BASE/V/<payload>``, uppercased
    for the QR's alphanumeric mode): written in lower case, as addresses are."""
    marker = qr_text.upper().rfind(payload.URL_PATH)
    return qr_text[:marker].lower() if marker > 0 else ""


def _revoked_banner(s: Styles) -> Table:
    style = ParagraphStyle("banner", parent=s.body, fontSize=14, leading=19, alignment=TA_CENTER)
    return Table([[para(_("REVOKED: this certificate is no longer valid."), style)]], colWidths=[CONTENT_WIDTH],
                 style=TableStyle([("FONT", (0, 0), (-1, -1), s.font, 10), ("BOX", (0, 0), (-1, -1), 2.2, GRID),
                                   ("TOPPADDING", (0, 0), (-1, -1), 4),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))


def certificate_pdf(facts: payload.CertificateFacts, *, qr_text: str, photo: bytes | None, work_unit: str,
                    revoked: bool = False) -> bytes:
    """The certificate as a PDF: every signed fact, the photo (a framed placeholder without one), the
    work unit (not signed: it is the learner's profile), and the QR code of ``qr_text`` (the
    verification URL with the signed payload). A revoked certificate carries a banner and a watermark."""
    with _in_default_language():
        s = styles()
        story = [Heading(_("Work-safety training hours certificate"), s.font, 24)]
        story.append(para(_("Certificate No.: %(number)s", number=facts.number),
                          ParagraphStyle("number", parent=s.body, alignment=TA_RIGHT)))
        story.append(Spacer(1, 2 * mm))
        if revoked:
            story += [_revoked_banner(s), Spacer(1, 3 * mm)]
        story += [_identity_table(facts, work_unit, _photo_picture(photo), s), Spacer(1, 4 * mm),
                  _courses_table(facts, s), Spacer(1, 4 * mm), _totals_table(facts, s), Spacer(1, 4 * mm)]
        certify = _("This is to certify that %(name)s took part in the online study of the training class above "
                    "from %(start)s to %(completed)s and was credited %(hours)s online hours, meeting the required "
                    "%(required)s hours.", name=facts.name, start=day_text(facts.start),
                    completed=day_text(facts.completed), hours=hours_text(facts.hours),
                    required=hours_text(facts.required_hours))
        statement = Paragraph(escape(certify), s.body)
        story.append(KeepTogether([statement, Spacer(1, 5 * mm), _verification_block(facts, qr_text, s)]))
        return _build(story, title=_("Work-safety training hours certificate") + " " + facts.number, font=s.font,
                      footer=_("Certificate No.: %(number)s", number=facts.number),
                      watermark=_("REVOKED") if revoked else "")


def certificate_pdf_for(certificate) -> bytes:
    """The PDF of a stored certificate (pdf_facts.certificate_print says what it shows)."""
    printed = pdf_facts.certificate_print(certificate)
    return certificate_pdf(printed.facts, qr_text=printed.qr_text, photo=printed.photo, work_unit=printed.work_unit,
                           revoked=printed.revoked)


# --- a learner's study record and test results -----------------------------------------------------------

def _learner_header(title: str, learner: pdf_facts.LearnerHeading, now: datetime, s: Styles) -> list:
    rows = [[para(_("Name"), s.label), para(learner.name, s.cell), para(_("ID number"), s.label),
             para(learner.masked_id_number, s.cell)],
            [para(_("Work unit"), s.label), para(learner.work_unit or "—", s.cell), para(_("Printed"), s.label),
             para(time_text(now), s.cell)]]
    quarter = CONTENT_WIDTH / 4
    table = Table(rows, colWidths=[quarter * 0.6, quarter * 1.4, quarter * 0.6, quarter * 1.4],
                  style=grid_style(("BACKGROUND", (0, 0), (0, -1), SHADE), ("BACKGROUND", (2, 0), (2, -1), SHADE)))
    return [Heading(title, s.font, 20), table, Spacer(1, 4 * mm)]


def _minutes(seconds: float) -> str:
    return f"{max(seconds, 0) / 60:.1f}"


def _coverage(covered: float, duration: float) -> str:
    return f"{min(100, round(covered / duration * 100)) if duration else 0}%"


def _course_rows(course: pdf_facts.CourseLine, s: Styles) -> list:
    """A course's row (its totals, its test, its credited hours), then a row per lesson, for the study record."""
    rows = [[para(course.title, s.cell), para(_minutes(course.confirmed_seconds), s.cell_center),
             para(_coverage(course.covered_seconds, course.duration), s.cell_center),
             para(_("%(done)s of %(total)s lessons complete", done=course.lessons_complete,
                    total=len(course.lessons)), s.cell_center),
             para(score_text(course.score) if course.score is not None else _("Test not passed yet"), s.cell_center),
             para(f"{hours_text(course.credited_tenths / 10)} / {hours_text(course.nominal_hours)}", s.cell_center)]]
    for lesson in course.lessons:
        rows.append([para("　" + lesson.title, s.cell),   # indented under its course
                     para(_minutes(lesson.confirmed_seconds), s.cell_center),
                     para(_coverage(lesson.covered_seconds, lesson.duration), s.cell_center),
                     para(_("Complete") if lesson.complete else _("Not complete"), s.cell_center), "", ""])
    return rows


def _study_table(courses: tuple[pdf_facts.CourseLine, ...], s: Styles) -> Table:
    widths = [None, 22 * mm, 17 * mm, 34 * mm, 18 * mm, 22 * mm]
    widths[0] = CONTENT_WIDTH - sum(w for w in widths if w)
    rows = [[para(_("Course / lesson"), s.label), para(_("Credited study time (min)"), s.label),
             para(_("Coverage"), s.label), para(_("Completion"), s.label), para(_("Test score"), s.label),
             para(_("Credited / nominal hours"), s.label)]]
    extra = [("BACKGROUND", (0, 0), (-1, 0), SHADE)]
    for course in courses:
        extra += [("BACKGROUND", (0, len(rows)), (-1, len(rows)), COURSE_SHADE),
                  ("LINEABOVE", (0, len(rows)), (-1, len(rows)), 1.2, GRID)]
        rows += _course_rows(course, s)
    if not courses:
        rows.append([para(_("No courses yet."), s.cell), "", "", "", "", ""])
        extra.append(("SPAN", (0, 1), (-1, 1)))
    return Table(rows, colWidths=widths, repeatRows=1, style=grid_style(*extra))


def _certificates_table(certificates: tuple[pdf_facts.CertificateLine, ...], s: Styles) -> Table:
    rows = [[para(_("Certificate No."), s.label), para(_("Training class"), s.label), para(_("Hours"), s.label),
             para(_("Issued on"), s.label), para(_("Status"), s.label)]]
    for certificate in certificates:
        rows.append([para(certificate.number, s.cell_center), para(certificate.class_title, s.cell),
                     para(hours_text(certificate.hours), s.cell_center),
                     para(day_text(certificate.issued_at), s.cell_center),
                     para(STATUS.get(certificate.status, certificate.status), s.cell_center)])
    widths = [40 * mm, None, 18 * mm, 32 * mm, 20 * mm]
    widths[1] = CONTENT_WIDTH - sum(w for w in widths if w)
    return Table(rows, colWidths=widths, repeatRows=1, style=grid_style(("BACKGROUND", (0, 0), (-1, 0), SHADE)))


def study_record_pdf(learner, now: datetime) -> bytes:
    """The learner's study record (pdf_facts.study_record says what it shows)."""
    return study_record_document(pdf_facts.study_record(learner), now)


def study_record_document(record: pdf_facts.StudyRecord, now: datetime) -> bytes:
    with _in_default_language():
        s = styles()
        story = _learner_header(_("Study record"), record.learner, now, s)
        for section in record.classes:
            summary = _("%(institution)s · %(type)s · credited %(credited)s of %(required)s required online hours",
                        institution=section.institution, type=label("training_type", section.training_type),
                        credited=hours_text(section.credited_hours), required=hours_text(section.required_hours))
            story += [CondPageBreak(40 * mm), para(section.title, s.heading), Paragraph(escape(summary), s.body),
                      Spacer(1, 2 * mm), _study_table(section.courses, s), Spacer(1, 4 * mm)]
        if record.other_courses:
            story += [CondPageBreak(40 * mm), para(_("Other courses"), s.heading),
                      _study_table(record.other_courses, s), Spacer(1, 4 * mm)]
        if not any(section.courses for section in record.classes) and not record.other_courses:
            story.append(para(_("No courses yet."), s.body))
        if record.certificates:
            story += [CondPageBreak(30 * mm), para(_("Study-hours certificates"), s.heading),
                      _certificates_table(record.certificates, s)]
        return _build(story, title=_("Study record"), font=s.font,
                      footer=_("%(name)s · printed %(time)s", name=record.learner.name, time=time_text(now)))


def test_results_pdf(learner, now: datetime) -> bytes:
    """Every test attempt of the learner (pdf_facts.results_sheet): course, attempt number, start and end
    (China time), score, result and how it ended."""
    return results_document(pdf_facts.results_sheet(learner), now)


def _result_text(attempt: pdf_facts.AttemptLine) -> str:
    if attempt.in_progress:
        return _("In progress")
    result = _("Passed") if attempt.passed else _("Not passed")
    return result + "（" + label("attempt_end", attempt.ended_how) + "）" if attempt.ended_how else result


def results_document(sheet: pdf_facts.ResultsSheet, now: datetime) -> bytes:
    with _in_default_language():
        s = styles()
        story = _learner_header(_("Test results"), sheet.learner, now, s)
        rows = [[para(_("Course"), s.label), para("#", s.label), para(_("Started"), s.label), para(_("Ended"), s.label),
                 para(_("Score"), s.label), para(_("Result"), s.label)]]
        for attempt in sheet.attempts:
            rows.append([para(attempt.course_title, s.cell), para(attempt.number, s.cell_center),
                         para(time_text(attempt.started_at), s.time), para(time_text(attempt.ended_at), s.time),
                         para(score_text(attempt.score), s.cell_center), para(_result_text(attempt), s.cell_center)])
        if not sheet.attempts:
            rows.append([para(_("No test attempts yet."), s.cell), "", "", "", "", ""])
        widths = [None, 9 * mm, 29 * mm, 29 * mm, 13 * mm, 34 * mm]
        widths[0] = CONTENT_WIDTH - sum(w for w in widths if w)
        extra = [("BACKGROUND", (0, 0), (-1, 0), SHADE)] + ([("SPAN", (0, 1), (-1, 1))] if not sheet.attempts else [])
        story.append(Table(rows, colWidths=widths, repeatRows=1, style=grid_style(*extra)))
        return _build(story, title=_("Test results"), font=s.font,
                      footer=_("%(name)s · printed %(time)s", name=sheet.learner.name, time=time_text(now)))
