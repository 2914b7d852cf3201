from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "ATS integrations"

    def ready(self) -> None:
        from assessments.signals import invitation_status_changed, result_created, verdict_given

        from . import hooks

        result_created.connect(hooks.on_result_created, dispatch_uid="integrations.result")
        invitation_status_changed.connect(hooks.on_invitation_status_changed,
                                          dispatch_uid="integrations.status")
        verdict_given.connect(hooks.on_verdict_given, dispatch_uid="integrations.verdict")
