"""The password policy (AUTH_PASSWORD_VALIDATORS): Django's rules, ours, and zxcvbn's estimate of how
guessable a password is, with the user's own names counted as known words."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from core.models import User
from core.roles import Role
from demo import demo_data
from tests.factories import UserFactory

PASSWORD = "test-pass-123"  # the factories' password


@pytest.mark.parametrize(
    "password",
    [
        " " * 10,  # ten spaces
        "1a",
        "unit2unit2x1",  # the user name twice and a little more
        "张建国张建国张建国1",  # the display name three times
        "qwertyuiop123",  # a keyboard row
    ],
)
def test_guessable_passwords_are_refused_on_the_password_page(client, db, password):
    user = UserFactory(username="unit2", display_name="张建国", roles=[Role.UNIT])
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_strength_refusal_reads_in_chinese(db):
    user = UserFactory(username="unit2", display_name="张建国")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password("unit2unit2x1", user)
    assert refused.value.messages == [
        "密码太容易被猜到：由常见词语、键盘顺序、重复或您自己的名字组成。请换一个更长、更难预测的密码。"
    ]


def test_a_password_like_the_display_name_is_refused(db):
    user = UserFactory(username="li", display_name="zhoukoukaifaqu")
    with pytest.raises(ValidationError) as refused:
        validate_password("zhoukoukaifaqu1", user)
    assert "password_too_similar" in {error.code for error in refused.value.error_list}
    validate_password("zhoukoukaifaqu1", UserFactory(username="wu", display_name="吴"))


def test_the_demo_and_test_passwords_meet_the_policy(db):
    """load_demo and the factories set their passwords without the validators; they would pass them
    anyway, so a demo user who changes nothing is not holding a password the policy refuses."""
    for row in demo_data.USERS:
        validate_password(row["password"], User(username=row["username"], display_name=row["display_name"]))
    validate_password(PASSWORD, UserFactory(username="zhang"))
