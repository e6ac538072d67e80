"""The shipped agents' job titles and descriptions (``agents/*.yaml``), marked for translation
so a company's pages show them in its language (``{% translate agent.title %}``). A title or
description a company wrote itself is not in the catalogue and is shown as written. A test
keeps this list and the YAML files in step."""

from django.utils.translation import gettext_noop

SHIPPED_AGENT_TEXTS = (
    gettext_noop("DevOps engineer"),
    gettext_noop(
        "Keeps delivery and operations moving: CI/CD pipelines, deployments and rollbacks, "
        "incidents, on-call hand-offs, observability and post-mortems."
    ),
    gettext_noop("Cloud architect"),
    gettext_noop(
        "Designs and reviews cloud architecture: networking, IAM, cost, resilience, scaling "
        "and migrations across AWS, GCP, Azure and Kubernetes."
    ),
    gettext_noop("Systems administrator"),
    gettext_noop(
        "Looks after servers and the systems people depend on: Linux, disks, backups, "
        "certificates, DNS, accounts and access, patching and hardening."
    ),
)
