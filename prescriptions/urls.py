from django.urls import path

from .delivery import views as delivery
from .drafting import views as drafting
from .followup import views as followup
from .followup import webhooks

app_name = "prescriptions"
urlpatterns = [
    # drafting: "Mes ordonnances", the patient's prescriptions, the prescription being written
    path("", drafting.prescription_list, name="list"),
    path("patient/<int:patient_id>/", drafting.patient_history, name="patient_history"),
    path("nouvelle/<int:patient_id>/", drafting.prescription_create, name="create"),
    path("<int:pk>/medicaments/", drafting.drug_search, name="drug_search"),
    path("<int:pk>/medicaments/apercu/", drafting.drug_preview, name="drug_preview"),
    path("<int:pk>/suivi-du-brouillon/", drafting.draft_watch, name="draft_watch"),
    path("<int:pk>/lignes/", drafting.line_add, name="line_add"),
    path("<int:pk>/lignes/<int:line_id>/", drafting.line_update, name="line_update"),
    path("<int:pk>/lignes/<int:line_id>/supprimer/", drafting.line_remove, name="line_remove"),
    path("<int:pk>/options/", drafting.options_update, name="options"),
    path("<int:pk>/analyse/", drafting.analyse, name="analyse"),
    path("<int:pk>/alertes/<int:alert_id>/", drafting.alert_decide, name="alert_decide"),
    path("<int:pk>/sans-analyse/", drafting.analysis_waive, name="waive"),
    # delivery: a prescription's page, signing, the decision on a held one, operations
    path("<int:pk>/", delivery.prescription_detail, name="detail"),
    path("<int:pk>/etat/", delivery.prescription_live, name="live"),
    path("<int:pk>/signer/", delivery.sign, name="sign"),
    path("<int:pk>/transmission/", delivery.held_release, name="held_release"),
    path("exploitation/", delivery.operations, name="operations"),
    path(
        "exploitation/<int:submission_id>/relancer/",
        delivery.submission_requeue,
        name="submission_requeue",
    ),
    # follow-up: paper copy, dispensing webhook, cancellation, reissue, staff lookup, audit
    path("<int:pk>/copie/", followup.paper_copy, name="paper"),
    path("webhooks/ordoclic/", webhooks.ordoclic_webhook, name="ordoclic_webhook"),
    path("<int:pk>/annuler/", followup.cancel, name="cancel"),
    path("<int:pk>/remplacer/", followup.reissue_create, name="reissue"),
    path("<int:pk>/garder-les-deux/", followup.reissue_keep_both, name="reissue_keep_both"),
    path("assistance/", followup.staff_lookup, name="lookup"),
    path("assistance/nom-du-patient/", followup.staff_lookup_reveal, name="lookup_reveal"),
    path("journal/", followup.audit_trail, name="audit"),
    path("journal/export.csv", followup.audit_export, name="audit_export"),
]
