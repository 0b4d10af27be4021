"""Django's own messages whose Chinese this project pins.

Django REST framework's zh_Hans catalogue also translates some of Django's message ids, and an
installed app's catalogue wins over Django's, so form pages would switch wording. Listing them
here puts them in the project's catalogue (LOCALE_PATHS, which wins over both) with Django's text.
"""

from django.utils.translation import gettext_noop

MESSAGES = [
    gettext_noop("This field is required."),
]
