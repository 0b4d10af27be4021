from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import translation

from enterprises.models import Enterprise, EnterpriseYearlyFigure
from enterprises.validators import credit_code_check_char, validate_credit_code
from tests.factories import EnterpriseFactory, EnterpriseYearlyFigureFactory, ProjectFactory


class TestCreditCode:
    @pytest.mark.parametrize(
        "code",
        [
            "91440300708461136T",  # a published code (Shenzhen)
            "91110108MA01KPGK0L",
            "91350100M000100Y43",
            "91350100m000100y43",  # lower case is accepted and normalised
        ],
    )
    def test_real_codes_pass(self, code):
        validate_credit_code(code)

    def test_check_character_by_hand(self):
        # Values 9 1 3 5 0 1 0 0 M=21 0 0 0 1 0 0 Y=30 4, weights 3^i mod 31
        # (1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28):
        # 9 + 3 + 27 + 135 + 26 + 420 + 8 + 900 + 112 = 1640; 1640 mod 31 = 28;
        # the check is 31 − 28 = 3.
        assert credit_code_check_char("91350100M000100Y4") == "3"

    def test_wrong_check_character_is_refused_in_chinese(self):
        with translation.override("zh-hans"):
            with pytest.raises(ValidationError) as error:
                validate_credit_code("91440300708461136X")
            message = error.value.messages[0]
        assert message == "统一社会信用代码校验位错误：最后一位应为T。"

    @pytest.mark.parametrize(
        "code", ["9144030070846113", "91440300708461136TT", "914403007084611I6T", "91AB0300708461136T"]
    )
    def test_malformed_codes_are_refused(self, code):
        with pytest.raises(ValidationError):
            validate_credit_code(code)

    def test_model_refuses_bad_code(self, db):
        enterprise = EnterpriseFactory.build(credit_code="91440300708461136X", industry=None, park=None)
        with pytest.raises(ValidationError) as error:
            enterprise.full_clean()
        assert "credit_code" in error.value.message_dict

    def test_model_stores_code_upper_case(self, db):
        enterprise = EnterpriseFactory.build(credit_code="91350100m000100y43", industry=None, park=None)
        enterprise.full_clean()
        assert enterprise.credit_code == "91350100M000100Y43"

    def test_duplicate_code_is_refused(self, db):
        EnterpriseFactory(credit_code="91440300708461136T")
        other = EnterpriseFactory.build(credit_code="91440300708461136t", industry=None, park=None)
        with pytest.raises(ValidationError) as error:
            other.full_clean()
        assert "credit_code" in error.value.message_dict


class TestEnterprise:
    def test_deleting_an_enterprise_with_projects_is_refused(self, db):
        project = ProjectFactory()
        with pytest.raises(ProtectedError):
            project.enterprise.delete()
        assert Enterprise.objects.filter(pk=project.enterprise_id).exists()

    def test_deleting_an_enterprise_without_projects_works(self, db):
        enterprise = EnterpriseFactory()
        enterprise.delete()
        assert not Enterprise.objects.exists()

    def test_yearly_figures_one_per_year(self, db):
        figure = EnterpriseYearlyFigureFactory(year=2023)
        duplicate = EnterpriseYearlyFigure(enterprise=figure.enterprise, year=2023)
        with pytest.raises(ValidationError):
            duplicate.full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            duplicate.save()

    def test_negative_figures_refused(self, db):
        figure = EnterpriseYearlyFigureFactory.build(enterprise=EnterpriseFactory(), revenue=Decimal("-1.00"))
        with pytest.raises(ValidationError) as error:
            figure.full_clean()
        assert "revenue" in error.value.message_dict
        with pytest.raises(IntegrityError), transaction.atomic():
            figure.save()


class TestParent:
    def test_an_enterprise_cannot_belong_to_itself_or_its_subsidiary(self, db):
        group = EnterpriseFactory(name="益海嘉里（周口）投资有限公司")
        subsidiary = EnterpriseFactory(name="益海（周口）特种油脂有限公司", parent=group)
        assert list(group.subsidiaries.all()) == [subsidiary]
        group.parent = subsidiary
        with pytest.raises(ValidationError) as error:
            group.full_clean()
        assert "parent" in error.value.message_dict
        group.parent = group
        with pytest.raises(ValidationError):
            group.full_clean()

    def test_a_parent_with_subsidiaries_cannot_be_deleted(self, db):
        group = EnterpriseFactory()
        EnterpriseFactory(parent=group)
        with pytest.raises(ProtectedError):
            group.delete()
