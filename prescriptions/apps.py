from django.apps import AppConfig


class PrescriptionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "prescriptions"

    def ready(self) -> None:
        # The patient record does not know the prescriptions: they listen to it.
        from origami.patients.signals import patient_record_changed, patient_viewed

        from .followup.audit import patient_record_changed_record, patient_viewed_record

        patient_viewed.connect(patient_viewed_record, dispatch_uid="prescriptions-patient-viewed")
        patient_record_changed.connect(
            patient_record_changed_record, dispatch_uid="prescriptions-patient-record-changed"
        )
