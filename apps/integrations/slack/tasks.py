from celery import shared_task

from apps.integrations.slack.install import slack_install_states_purge


@shared_task(ignore_result=True)
def slack_install_states_purge_task() -> int:
    return slack_install_states_purge()
