#!/usr/bin/env python
"""Django's command-line utility for Jamono."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamono.settings")
    if os.environ["DJANGO_SETTINGS_MODULE"] == "jamono.settings":
        # The settings only read the environment: the embedded servers (for the URLs left
        # unset) and the generated secret key come first. They outlive the command, as a server
        # that `make run` uses does.
        from jamono import embedded

        embedded.embedded_services_ensure()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
