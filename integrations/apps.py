from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "ATS integrations"

    def ready(self) -> None:
        from assessments.signals import result_created

        from . import hooks

        result_created.connect(hooks.on_result_created, dispatch_uid="integrations.result")
