"""The certificate verifier on the command line (lms/hours/cli.py): a real PDF, a picture of its QR
code, its payload; offline with the published key set (no database at all) and with the platform's
database (which also knows revocations); key rotation."""
import base64
import json
import os
import subprocess
import sys
import zlib
from dataclasses import replace

import base45
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from lms.app import create_app
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.hours import certificates, cli, payload, pdf, qr
from tests.hoursdata import earn_certificate


def run(*args, stdin=None):
    return CliRunner().invoke(cli.hours, list(args), input=stdin)


@pytest.fixture()
def certificate(approved_learner, course, open_class):
    return earn_certificate(approved_learner, course, open_class)


@pytest.fixture()
def certificate_file(certificate, tmp_path):
    path = tmp_path / f"{certificate.number}.pdf"
    path.write_bytes(pdf.certificate_pdf_for(certificate))
    return path


@pytest.fixture()
def key_set(certificate, tmp_path):
    """The published key set as the `keys` command prints it."""
    result = run("keys")
    assert result.exit_code == 0, result.output
    path = tmp_path / "keys.json"
    path.write_text(result.output)
    return path


def test_a_certificate_pdf_verifies_with_the_platform_database(certificate, certificate_file, approved_learner):
    result = run("verify", str(certificate_file))
    assert result.exit_code == 0, result.output
    assert f"VALID: the signature matches key {certificate.key_id} and the certificate is on record, not revoked" \
        in result.output
    assert certificate.number in result.output and approved_learner.name in result.output


def test_a_revoked_certificate_is_refused_with_the_database_and_offline_says_what_it_cannot_know(
        certificate, certificate_file, key_set, staff):
    certificates.revoke(certificate, "资料造假", utcnow(), Actor(staff, "127.0.0.1", "pytest"))
    with_database = run("verify", str(certificate_file))
    assert with_database.exit_code == 1
    assert "REVOKED" in with_database.output and "资料造假" in with_database.output
    offline = run("verify", str(certificate_file), "--keys", str(key_set))
    assert offline.exit_code == 0
    assert "VALID" in offline.output and "cannot know whether the certificate was revoked" in offline.output


def test_a_pdf_with_edited_facts_signed_by_an_unpublished_key_is_invalid(app, certificate, key_set, tmp_path):
    forged = replace(certificates.facts_of(certificate), name="张三", key_id="h9")
    url = payload.verification_url(app.config["LMS_PUBLIC_URL"], payload.sign(forged, Ed25519PrivateKey.generate()))
    path = tmp_path / "forged.pdf"
    path.write_bytes(pdf.certificate_pdf(forged, qr_text=url, photo=None, work_unit=""))
    for extra in ((), ("--keys", str(key_set))):
        result = run("verify", str(path), *extra)
        assert result.exit_code == 1
        assert "INVALID" in result.output and "unknown key id" in result.output and "张三" not in result.output


def test_a_changed_payload_fails_its_signature_and_a_damaged_one_is_malformed(certificate, key_set):
    signed, signature = payload.open_token(certificate.token)
    changed = signed.replace(certificate.learner.name.encode(), "张三".encode())
    assert changed != signed
    tampered = base45.b45encode(zlib.compress(changed + signature, 9)).decode()
    result = run("verify", tampered, "--keys", str(key_set))
    assert result.exit_code == 1 and "INVALID" in result.output and "signature does not match" in result.output

    damaged = certificate.token[:20] + ("A" if certificate.token[20] != "A" else "B") + certificate.token[21:]
    result = run("verify", damaged, "--keys", str(key_set))
    assert result.exit_code == 1 and "INVALID" in result.output and "malformed" in result.output


def test_the_certificate_encoded_otherwise_is_malformed_offline_and_with_the_database(certificate, key_set):
    whole = b"".join(payload.open_token(certificate.token))
    for other in (base45.b45encode(base45.b45decode(certificate.token) + b"junk").decode(),
                  base45.b45encode(zlib.compress(whole, 6)).decode()):
        assert other != certificate.token
        for keys in (("--keys", str(key_set)), ()):
            result = run("verify", other, *keys)
            assert result.exit_code == 1 and "INVALID" in result.output and "malformed" in result.output, keys
    assert run("verify", certificate.token, "--keys", str(key_set)).exit_code == 0


def test_an_image_of_the_qr_code_a_payload_a_url_and_stdin(app, certificate, key_set, tmp_path):
    url = payload.verification_url(app.config["LMS_PUBLIC_URL"], certificate.token)
    picture = tmp_path / "scan.jpg"
    code = qr.qr_image(url)
    code.resize((code.width * 4, code.height * 4), Image.NEAREST).convert("RGB").save(picture, quality=85)
    for source, stdin in ((str(picture), None), (certificate.token, None), (url, None), ("-", url + "\n")):
        result = run("verify", source, "--keys", str(key_set), stdin=stdin)
        assert result.exit_code == 0, (source, result.output)
        assert "VALID" in result.output and certificate.number in result.output


def test_no_qr_code_or_nothing_to_read(certificate, key_set, tmp_path, approved_learner):
    record = tmp_path / "record.pdf"
    record.write_bytes(pdf.study_record_pdf(approved_learner, utcnow()))
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 300), 255).save(blank)
    for path in (record, blank):
        result = run("verify", str(path), "--keys", str(key_set))
        assert result.exit_code == 1 and "INVALID: no QR code found" in result.output
    missing = run("verify", str(tmp_path / "missing.pdf"), "--keys", str(key_set))
    assert missing.exit_code == 2 and "no such file" in missing.output
    bad_keys = tmp_path / "bad.json"
    bad_keys.write_text(json.dumps({"keys": [{"kid": "h1"}]}))
    assert run("verify", certificate.token, "--keys", str(bad_keys)).exit_code == 2


def test_the_published_key_set_verifies_with_the_database_unreachable(app, certificate_file, key_set, tmp_path):
    """A machine with the key set and no database: every query would fail there, so none is made."""
    unreachable = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/unreachable?connect_timeout=2",
        "SECRET_KEY": "x", "LMS_DATA_KEYS": "t1:" + base64.b64encode(os.urandom(32)).decode(),
        "LMS_ACTIVE_KEY_ID": "t1", "LMS_HMAC_KEY": base64.b64encode(os.urandom(32)).decode(),
        "MEDIA_ROOT": str(tmp_path / "media")})
    with unreachable.app_context():
        offline = run("verify", str(certificate_file), "--keys", str(key_set))
        assert offline.exit_code == 0, offline.output
        assert "VALID: the signature matches published key" in offline.output
        with_database = run("verify", str(certificate_file))   # the proof that the database is not there
        assert with_database.exit_code == 2 and "cannot reach the platform database" in with_database.output


def test_after_rotate_key_the_old_certificate_still_verifies(certificate, certificate_file, tmp_path):
    result = run("rotate-key")
    assert result.exit_code == 0, result.output
    new_key = result.output.strip().rsplit(" ", 1)[-1]
    assert new_key != certificate.key_id
    published = json.loads(run("keys").output)
    assert [key["kid"] for key in published["keys"]] == [certificate.key_id, new_key]
    (tmp_path / "keys.json").write_text(json.dumps(published))
    for extra in ((), ("--keys", str(tmp_path / "keys.json"))):
        verified = run("verify", str(certificate_file), *extra)
        assert verified.exit_code == 0, verified.output
        assert f"matches {'published ' if extra else ''}key {certificate.key_id}" in verified.output


def test_register_adds_the_group_under_a_parent():
    import click
    parent = click.Group("lms")
    cli.register(parent)
    assert sorted(parent.commands["hours"].commands) == ["keys", "rotate-key", "verify"]


# The offline verifier runs without Flask ---------------------------------------------------------------

WITHOUT_FLASK = """
import runpy, sys
for name in ("flask", "flask_babel", "flask_login", "flask_sqlalchemy", "flask_wtf", "flask_limiter",
             "flask_migrate", "sqlalchemy", "werkzeug"):
    sys.modules[name] = None   # any import of these now raises ImportError
sys.argv = ["lms.hours.cli", *sys.argv[1:]]
try:
    runpy.run_module("lms.hours.cli", run_name="__main__", alter_sys=True)
finally:
    loaded = sorted(name for name, module in sys.modules.items() if module is not None
                    and name.split(".")[0] in ("flask", "sqlalchemy", "werkzeug") or name == "lms.extensions")
    print("loaded:", loaded)
"""


def test_the_offline_verifier_verifies_a_real_certificate_with_flask_unimportable(certificate, certificate_file,
                                                                                  key_set):
    """`python -m lms.hours.cli verify SOURCE --keys keys.json` on a machine without Flask, SQLAlchemy
    or the platform's configuration: a PDF and the bare payload of a certificate the platform issued."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("LMS_", "FLASK_"))}
    environment["PYTHONPATH"] = root
    for source in (str(certificate_file), certificate.token):
        done = subprocess.run([sys.executable, "-c", WITHOUT_FLASK, "verify", source, "--keys", str(key_set)],
                              capture_output=True, text=True, cwd=root, env=environment, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"VALID: the signature matches published key {certificate.key_id}." in done.stdout
        assert certificate.number in done.stdout and "loaded: []" in done.stdout


def test_the_flask_blocker_of_that_test_really_blocks():
    """The same script refuses a command that needs the platform: so a Flask import would fail the test above."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", WITHOUT_FLASK.replace('"lms.hours.cli", run_name', '"lms.app", run_name'),
                           "verify"], capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode != 0 and "import of flask halted" in done.stderr
