from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _


class SignupForm(forms.Form):
    company_name = forms.CharField(label=_("Company"), max_length=100, strip=True)
    admin_email = forms.EmailField(label=_("Your work e-mail"), max_length=254)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput, strip=False, max_length=128
    )

    def clean_company_name(self) -> str:
        name = self.cleaned_data["company_name"]
        if not any(character.isalnum() for character in name):
            raise forms.ValidationError(_("Give your company’s name, with letters or digits."))
        return name

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password)
        return password
