from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import connection


class CompanyPasswordResetTokenGenerator(PasswordResetTokenGenerator):
    """Django's password-reset tokens, salted with the company's schema as well: user ids
    repeat from one company to the next, and a link made for one company's user must open
    nothing on another company's site, whatever the two users have in common."""

    @property
    def key_salt(self) -> str:
        return f"jamono.accounts.password-reset:{connection.schema_name}"


password_reset_token_generator = CompanyPasswordResetTokenGenerator()
