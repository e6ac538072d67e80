"""Settings for benchmarks/slack_ack.py: the product's settings plus one bare view to compare
against, served by the same server, middleware and database."""

from jamono.settings import *  # noqa: F403

PUBLIC_SCHEMA_URLCONF = "benchmarks.ack_urls"
