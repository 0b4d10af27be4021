"""Chinese is the default, every string is translated, English can be chosen, and Chinese text
uses Chinese punctuation."""

import ast
import gettext
import re
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


# --- Chinese text uses Chinese punctuation ---------------------------------------------------------

CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"  # CJK punctuation, ideographs, full-width forms
# Spans where ASCII punctuation is right even in Chinese text.
ASCII_ALLOWED = re.compile(
    r"%\(\w+\)[-+ #0]*\d*(?:\.\d+)?[sdif]|%[sd]"  # placeholders: %(name)s, %(month)02d
    r"|https?://\S+|(?<![\w])/[\w./?=&%-]+"  # addresses and paths
    r"|`[^`]*`|<[^>]+>"  # code, markup
    r"|[\w-]*\.(?:xlsx|xls|csv|json|yaml|py|po|mo|html|pdf)\b"  # file names and extensions
    r"|\d+(?:[.,:]\d+)+"  # numbers and times: 1.5, 1,000, 10:30
)


def ascii_punctuation_in_chinese(text: str) -> list[str]:
    """Each ASCII , : ; or . next to a Chinese character (spaces between do not count), with
    what surrounds it; text with no Chinese is English and left alone."""
    cleaned = ASCII_ALLOWED.sub(lambda match: "\x00" * len(match.group()), text)
    if not re.search(f"[{CJK}]", cleaned):
        return []
    found = []
    for match in re.finditer(r"[,:;.]", cleaned):
        before = cleaned[: match.start()].rstrip(" \x00")[-1:]
        after = cleaned[match.end() :].lstrip(" \x00")[:1]
        if re.match(f"[{CJK}]", before) or re.match(f"[{CJK}]", after):
            found.append(text[max(0, match.start() - 15) : match.end() + 15])
    return found


def test_the_check_knows_chinese_punctuation_from_ascii():
    assert ascii_punctuation_in_chinese("请选择责任单位, 再保存.") == [
        "请选择责任单位, 再保存.",
        "请选择责任单位, 再保存.",
    ]
    assert ascii_punctuation_in_chinese("审批手续: 完成率") == ["审批手续: 完成率"]
    assert ascii_punctuation_in_chinese("请选择责任单位，再保存。") == []
    # Placeholders, numbers, file names, addresses and English are not Chinese text.
    for fine in [
        "%(year)s年%(month)02d月：共 1,234.50 万元",
        "请上传 .xlsx 工作簿（见 https://example.com/a.b?x=1）",
        "Row %(row)s: done.",
        "10:30 开会",
    ]:
        assert ascii_punctuation_in_chinese(fine) == [], fine


def test_the_chinese_catalogue_uses_chinese_punctuation():
    po = read_po(LOCALE / "django.po")
    offenders = {
        msgid: found
        for (_context, msgid), (msgstr, _plural) in po.items()
        if (found := ascii_punctuation_in_chinese(msgstr))
    }
    assert offenders == {}


# In a template: what the translate tags and variables render (Chinese, in Chinese) and the text
# around them. A blocktranslate's own text is a msgid, checked through the catalogue above.
TEMPLATE_PARTS = [
    (re.compile(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|\{#.*?#\}", re.S), ""),
    (re.compile(r"\{%\s*translate\s+(?:\"[^\"]*\"|'[^']*')[^%]*\bas\s+\w+\s*%\}"), ""),  # sets, shows nothing
    (re.compile(r"\{%\s*blocktranslate\b.*?%\}.*?\{%\s*endblocktranslate\s*%\}", re.S), "译"),
    (re.compile(r"\{%\s*translate\s+(?:\"[^\"]*\"|'[^']*')[^%]*%\}"), "译"),
    (re.compile(r"\{\{.*?\}\}", re.S), "值"),  # names, labels: Chinese data
    (re.compile(r"\{%.*?%\}|<[^>]*>", re.S), ""),
]


def template_text(source: str) -> str:
    """The template as a Chinese reader sees it: each translated string as 译, each value as 值."""
    for pattern, shown in TEMPLATE_PARTS:
        source = pattern.sub(shown, source)
    return source


def test_the_template_reading_sees_translations_values_and_text():
    source = '{% load i18n %}<b>{% translate "Next step" %}</b>: {{ step }}{% if x %}, {% endif %}'
    assert template_text(source) == "译: 值, "
    assert ascii_punctuation_in_chinese(template_text(source)) != []
    assert template_text("{% blocktranslate %}Next step: {{ step }}{% endblocktranslate %}") == "译"
    assert template_text('<a href="/x/?a=1&b=2" title="a: b">{% translate "x" as label %}</a>') == ""


def test_templates_use_chinese_punctuation():
    offenders = {}
    for path in sorted((Path(settings.BASE_DIR) / "templates").rglob("*.html")):
        for line_number, line in enumerate(template_text(path.read_text(encoding="utf-8")).splitlines(), 1):
            if found := ascii_punctuation_in_chinese(line):
                offenders[f"{path.relative_to(settings.BASE_DIR)}:{line_number}"] = found
    assert offenders == {}
