from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Organizations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import rls

        post_migrate.connect(rls.on_post_migrate, dispatch_uid="tenants.rls.on_post_migrate")
