"""QR codes of certificates: made with zxing-cpp, read back from an image or a PDF (the CLI verifier
and the tests read what a phone would scan).

No Flask, no database: the offline verifier uses this module without an app.
"""
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy
import zxingcpp
from PIL import Image, UnidentifiedImageError

EC_LEVEL = "Q"             # 25 % of the code may be lost (a fold, a stain, a punched hole) and it still reads
PDFTOPPM_TIMEOUT = 60      # seconds; a certificate renders in well under one
MAX_PDF_PAGES = 20         # pages rasterised from one PDF: a certificate has one or two


class QRError(Exception):
    """A QR code cannot be read from this input; the message says why."""


def qr_image(text: str) -> Image.Image:
    """The QR code of ``text`` at error correction level Q, one pixel per module, with the quiet zone
    (a 4-module light margin: scanners need it). Greyscale, 0 dark and 255 light. A PDF scales it up."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=EC_LEVEL)
    return Image.fromarray(numpy.asarray(barcode.to_image(scale=1, add_quiet_zones=True)), mode="L")


def qr_modules(image: Image.Image) -> int:
    """The number of modules on a side of a code made by ``qr_image`` (without the quiet zone)."""
    return image.width - 8



def _open_image(image) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    try:
        with Image.open(image) as opened:
            opened.load()
            return opened.copy()
    except FileNotFoundError:
        raise QRError(f"no such file: {image}") from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise QRError(f"not an image that can be read: {image} ({error})") from None


def read_qr(image) -> list[str]:
    """The texts of the QR codes found in an image (a PIL image or the path of an image file), in the
    order zxing finds them; an empty list when there is none."""
    picture = _open_image(image)
    if picture.mode not in ("L", "RGB"):
        picture = picture.convert("L")
    return [found.text for found in zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)]


def _pdf_bytes(pdf) -> bytes:
    if isinstance(pdf, (bytes, bytearray, memoryview)):
        data = bytes(pdf)
    else:
        try:
            data = Path(pdf).read_bytes()
        except FileNotFoundError:
            raise QRError(f"no such file: {pdf}") from None
        except OSError as error:
            raise QRError(f"cannot read {pdf}: {error}") from None
    if b"%PDF-" not in data[:1024]:  # where readers look for the header
        raise QRError("not a PDF file (no %PDF- header)")
    return data


def pdftoppm_path() -> str:
    path = shutil.which("pdftoppm")
    if path is None:
        raise QRError("pdftoppm is not installed (Debian/Ubuntu: apt-get install poppler-utils); "
                      "it is needed to read the QR code of a PDF")
    return path


def render_pdf(pdf, dpi: int = 200) -> list[Image.Image]:
    """Each page of a PDF (bytes or a path) as a greyscale image at ``dpi``, rendered by poppler's
    pdftoppm in a temporary directory."""
    data = _pdf_bytes(pdf)
    program = pdftoppm_path()
    with tempfile.TemporaryDirectory(prefix="lms-qr-") as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(data)
        try:
            result = subprocess.run([program, "-gray", "-png", "-r", str(int(dpi)), "-l", str(MAX_PDF_PAGES),
                                     str(source), str(Path(folder) / "page")],
                                    capture_output=True, timeout=PDFTOPPM_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise QRError(f"pdftoppm took longer than {PDFTOPPM_TIMEOUT} s") from None
        if result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip().splitlines()
            raise QRError(f"pdftoppm could not render the PDF: {message[-1] if message else result.returncode}")
        pages = []
        for path in sorted(Path(folder).glob("page*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[-1])):
            with Image.open(path) as page:
                page.load()
                pages.append(page.copy())
    return pages


def read_pdf_qr(pdf, dpi: int = 200) -> list[str]:
    """The texts of the QR codes on the pages of a PDF (bytes or a path), page by page."""
    texts = []
    for page in render_pdf(pdf, dpi):
        texts.extend(read_qr(page))
    return texts
