"""Chinese is the default, every string is translated, and English can be chosen."""

import ast
import gettext
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from projects.choices import Stage

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def read_po(path: Path) -> dict[tuple[str | None, str], tuple[str, str | None]]:
    """(msgctxt, msgid) → (msgstr, msgid_plural) of a .po file; a fuzzy entry's msgstr reads '#fuzzy'.

    Chinese has one plural form, so a plural entry's msgstr is its msgstr[0].
    """
    entries, current, key, fuzzy = {}, {}, None, False
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith(("msgctxt ", "msgid ", "msgstr ", "msgid_plural ", "msgstr[0] ")):
            key, _, rest = line.partition(" ")
            key = "msgstr" if key == "msgstr[0]" else key
            current[key] = ast.literal_eval(rest)
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
        elif not line.strip() and current:
            if current.get("msgid"):
                msgstr = "#fuzzy" if fuzzy else current.get("msgstr", "")
                entries[current.get("msgctxt"), current["msgid"]] = (msgstr, current.get("msgid_plural"))
            current, key, fuzzy = {}, None, False
    return entries


def test_every_string_is_translated_and_compiled():
    po = read_po(LOCALE / "django.po")
    assert len(po) > 100
    untranslated = [msgid for msgid, (msgstr, _) in po.items() if not msgstr or msgstr == "#fuzzy"]
    assert untranslated == []
    with (LOCALE / "django.mo").open("rb") as handle:
        mo = gettext.GNUTranslations(handle)

    def compiled(context, msgid, plural):
        if context:
            return mo.npgettext(context, msgid, plural, 1) if plural else mo.pgettext(context, msgid)
        return mo.ngettext(msgid, plural, 1) if plural else mo.gettext(msgid)

    stale = [key for key, (msgstr, plural) in po.items() if compiled(*key, plural) != msgstr]
    assert stale == [], "run `make messages`: django.mo is older than django.po"


def test_chinese_is_the_default(client, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:index")).content.decode()
    assert "开发区项目服务平台" in html
    assert "项目" in html
    with translation.override(settings.LANGUAGE_CODE):
        assert str(Stage.STARTED.label) == "开工"


def test_an_english_browser_still_gets_chinese_until_english_is_chosen(client, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "开发区项目服务平台" in html


def test_english_can_be_chosen(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'action="/i18n/setlang/"' in page and 'value="en"' in page
    response = client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    assert response.status_code == 302
    html = client.get(reverse("admin:projects_project_add")).content.decode()
    assert "project name" in html.lower()
    assert "项目名称" not in html


def test_model_names_read_as_names_not_counts(client, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:index")).content.decode()
    for label in ["项目", "企业", "产业", "用户", "园区", "责任单位", "月度进度", "审批手续"]:
        assert f">{label}</a>" in html, label
    assert "项目数</a>" not in html
