"""Company Information rules for the bot: validating the edit form, diffing for the audit trail, display."""

from bot.company.validation import (
    CompanyForm,
    FieldErrors,
    ValidatedCompany,
    country_name,
    country_options,
    display_value,
    formatted_number,
    search_country_options,
    validate_company_form,
)
from store.domain.company import diff_company

__all__ = [
    "CompanyForm",
    "FieldErrors",
    "ValidatedCompany",
    "country_name",
    "country_options",
    "diff_company",
    "display_value",
    "formatted_number",
    "search_country_options",
    "validate_company_form",
]
