from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# An agent's context window in tokens, prompt and answer together (Ollama's ``num_ctx``): the
# prompt is built to fit it and the request sets it. Ollama's own default, 4096, silently
# drops the start of a longer prompt.
CONTEXT_SIZE_DEFAULT = 8192
CONTEXT_SIZE_MIN = 2048
CONTEXT_SIZE_MAX = 1_048_576


class Agent(models.Model):
    """One AI colleague (NOX, ATLAS, CIRRUS…) as configured for this tenant.

    Seeded from the declarative definitions in ``agents/*.yaml``; after that the tenant owns
    its copy (enable/disable, model, temperature, context size, persona) and re-seeding never
    overwrites it.
    """

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    title = models.CharField(_("job title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    persona = models.TextField(_("persona (system prompt)"))
    model = models.CharField(_("model"), max_length=120)
    temperature = models.FloatField(
        _("temperature"), validators=[MinValueValidator(0.0), MaxValueValidator(2.0)]
    )
    context_size = models.PositiveIntegerField(
        _("context size (tokens)"),
        default=CONTEXT_SIZE_DEFAULT,
        validators=[MinValueValidator(CONTEXT_SIZE_MIN), MaxValueValidator(CONTEXT_SIZE_MAX)],
        help_text=_("What the model reads at most: prompt and answer (Ollama's num_ctx)."),
    )
    allowed_tools = models.JSONField(
        _("default tools"),
        default=list,
        blank=True,
        help_text=_("From the agent's definition; switch tools on and off under Agent tools."),
    )
    command_prefix = models.SlugField(_("slash command prefix"), max_length=20, unique=True)
    examples = models.JSONField(_("example questions"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(temperature__gte=0) & models.Q(temperature__lte=2),
                name="agent_temperature_range",
            )
        ]

    def __str__(self) -> str:
        return self.name
