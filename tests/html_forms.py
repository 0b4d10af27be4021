"""Read a rendered form back as the data a browser would send (HTML's form data set).

What a browser sends, and so what these helpers return: text-like inputs and hidden inputs with
their ``value`` (empty when it has none); checked checkboxes and radios only ("on" without a
value); a single select's selected option, or its first option that is not disabled when none is
marked selected; a multiple select's selected options only (nothing when none is); textareas'
text. Disabled controls, buttons and file inputs send nothing; an option without a ``value``
sends its text.
"""

from html.parser import HTMLParser

_NOT_SENT = {"submit", "button", "image", "file", "reset"}


class _FormParser(HTMLParser):
    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = form_id is None
        self.pairs: list[tuple[str, str]] = []
        self.forms: list[dict[str, str]] = []
        self._select = None  # (name, multiple)
        self._options: list[dict] = []
        self._option = None
        self._textarea = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "id": attrs.get("id") or "",
                    "method": (attrs.get("method") or "get").lower(),
                    "action": attrs.get("action") or "",
                }
            )
            if self.form_id is not None:
                self.inside = attrs.get("id") == self.form_id
            return
        if tag == "option" and self._select is not None:
            self._close_option()
            self._option = {"value": attrs.get("value"), "text": [], "selected": "selected" in attrs}
            self._option["disabled"] = "disabled" in attrs
            return
        if not self.inside:
            return
        name = attrs.get("name")
        disabled = "disabled" in attrs
        if tag == "input" and name and not disabled:
            kind = (attrs.get("type") or "text").lower()
            if kind in _NOT_SENT:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.pairs.append((name, attrs.get("value") or "on"))
                return
            self.pairs.append((name, attrs.get("value") or ""))
        elif tag == "select" and name and not disabled:
            self._select, self._options, self._option = (name, "multiple" in attrs), [], None
        elif tag == "textarea" and name and not disabled:
            self._textarea, self._text = name, []

    def _close_option(self):
        if self._option is not None:
            text = " ".join("".join(self._option.pop("text")).split())
            if self._option["value"] is None:
                self._option["value"] = text
            self._options.append(self._option)
            self._option = None

    def handle_endtag(self, tag):
        if tag == "form" and self.form_id is not None:
            self.inside = False
        elif tag == "option":
            self._close_option()
        elif tag == "select" and self._select is not None:
            self._close_option()
            name, multiple = self._select
            selected = [option["value"] for option in self._options if option["selected"]]
            if multiple:
                values = selected
            elif selected:
                values = selected[-1:]  # one choice only: the last one marked wins
            else:
                enabled = [option["value"] for option in self._options if not option["disabled"]]
                values = enabled[:1]
            self.pairs.extend((name, value) for value in values)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.pairs.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)
        elif self._option is not None:
            self._option["text"].append(data)


def form_pairs(html: str, form_id: str | None = None) -> list[tuple[str, str]]:
    """The (name, value) pairs a browser sends for the form (by id, or every field on the page),
    in document order, a name repeated for each value."""
    parser = _FormParser(form_id)
    parser.feed(html)
    parser.close()
    return parser.pairs


def form_data(html: str, form_id: str | None = None) -> dict[str, list[str] | str]:
    """The fields of the form (by id, or every field on the page) with their current values."""
    data: dict[str, list[str]] = {}
    for name, value in form_pairs(html, form_id):
        data.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in data.items()}


def forms_on(html: str) -> list[dict[str, str]]:
    """Every form on the page: its id, method (lower case, "get" by default) and action."""
    parser = _FormParser("\0no form has this id")
    parser.feed(html)
    parser.close()
    return parser.forms
