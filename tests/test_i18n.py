"""Every UI string is translated to Simplified Chinese, the default; English is a switch away."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
METHODS = [("lms/**.py", "python"), ("lms/**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}  # README: -k lazy_pgettext:1c,2


def source_messages() -> set[tuple[str | None, str]]:
    """(context, message id) of every UI string; the context is None where there is none."""
    found = extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)
    return {(context, message if isinstance(message, str) else message[0])
            for _, _, message, _, context in found}


def test_every_message_has_a_chinese_translation():
    with open(ROOT / "lms/translations/zh_Hans_CN/LC_MESSAGES/messages.po", "rb") as handle:
        catalogue = read_po(handle)
    translated = {(m.context, m.id) for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(source_messages() - translated, key=lambda m: (m[0] or "", m[1]))
    assert not missing, f"untranslated (run pybabel extract/update and fill zh_CN): {missing[:10]}"


def test_chinese_is_the_default_and_english_is_available(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "登录" in page
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Sign in" in english
    assert "Learner registration" in client.get("/register").get_data(as_text=True)  # the choice sticks
