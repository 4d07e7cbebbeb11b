"""Where settings come from: the environment is read in one place (lms.app.ENVIRONMENT) and the README
lists exactly the environment variables the code reads; `create-admin` prints a link an operator can open."""
import re
from pathlib import Path

from flask import Flask

from lms.app import CONFIG_VARIABLE, ENVIRONMENT, INSTANCE_PATH_VARIABLE, _load_environment

ROOT = Path(__file__).resolve().parent.parent
# An environment read outside lms/app.py: os.environ.get("LMS_X"), os.environ["LMS_X"], ${LMS_X} in a shell
# script, or a constant naming the variable (tests/photos.py).
READ = re.compile(r'environ(?:\.get)?[(\[]\s*"(LMS_[A-Z0-9_]+)"|\$\{?(LMS_[A-Z0-9_]+)|ENV_VAR = "(LMS_[A-Z0-9_]+)"')


def _variables_read_outside_the_app() -> set[str]:
    files = [ROOT / "gunicorn.conf.py", ROOT / ".ci" / "run", *(ROOT / "scripts").glob("*"),
             *(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").glob("*.py")]
    found = set()
    for path in files:
        if path.is_file() and path != Path(__file__).resolve():
            for match in READ.finditer(path.read_text(encoding="utf-8")):
                found.add(next(name for name in match.groups() if name))
    return found


def _variables_in_the_readme() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(LMS_[A-Z0-9_]+)` \|", text, flags=re.M))


def test_the_readme_lists_every_environment_variable_read_and_nothing_else():
    read = set(ENVIRONMENT) | {CONFIG_VARIABLE, INSTANCE_PATH_VARIABLE} | _variables_read_outside_the_app()
    assert _variables_in_the_readme() == read


def test_lms_reads_the_environment_only_in_the_app_factory():
    readers = sorted(str(path.relative_to(ROOT)) for path in [*(ROOT / "lms").rglob("*.py"), *(ROOT / "config").rglob("*.py")]
                     if re.search(r"os\.environ|getenv", path.read_text(encoding="utf-8")))
    assert readers == ["lms/app.py"]


def test_environment_values_override_the_configuration_as_read():
    app = Flask("probe")
    app.config.update(SECRET_KEY="from-instance", LMS_HSTS="max-age=1", LMS_TRUSTED_PROXIES=0, LMS_X_ACCEL_PREFIX=None)
    _load_environment(app, {"LMS_SECRET_KEY": "", "LMS_HSTS": "", "LMS_TRUSTED_PROXIES": "2",
                            "LMS_X_ACCEL_PREFIX": "/protected-media/", "LMS_DATABASE_URL": "sqlite://",
                            "SECRET_KEY": "not-read"})
    assert app.config["SECRET_KEY"] == "from-instance"            # empty: unset
    assert app.config["LMS_HSTS"] is None                          # empty: switched off
    assert app.config["LMS_TRUSTED_PROXIES"] == 2
    assert app.config["LMS_X_ACCEL_PREFIX"] == "/protected-media/"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_create_admin_prints_a_full_activation_link_that_opens(app, db):
    result = app.test_cli_runner().invoke(args=["lms", "create-admin", "first.admin"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().removeprefix("activation link: ")
    page, _, token = link.partition("#")
    assert page == app.config["LMS_PUBLIC_URL"].rstrip("/") + "/one-time-link" and token
    landing = app.test_client().post("/one-time-link", data={"token": token})
    assert landing.status_code == 302 and landing.headers["Location"] == "/set-password"
