from django.urls import path

from . import delivery_views, followup_views, views, webhooks

app_name = "prescriptions"
urlpatterns = [
    path("", views.prescription_list, name="list"),
    path("nouvelle/<int:patient_id>/", views.prescription_create, name="create"),
    path("<int:pk>/", views.prescription_detail, name="detail"),
    path("<int:pk>/medicaments/", views.drug_search, name="drug_search"),
    path("<int:pk>/lignes/", views.line_add, name="line_add"),
    path("<int:pk>/lignes/<int:line_id>/", views.line_update, name="line_update"),
    path("<int:pk>/lignes/<int:line_id>/supprimer/", views.line_remove, name="line_remove"),
    path("<int:pk>/options/", views.options_update, name="options"),
    path("<int:pk>/analyse/", views.analyse, name="analyse"),
    path("<int:pk>/alertes/<int:alert_id>/", views.alert_decide, name="alert_decide"),
    path("<int:pk>/sans-analyse/", views.analysis_waive, name="waive"),
    path("<int:pk>/signer/", views.sign, name="sign"),
    path("<int:pk>/copie/", views.paper_copy, name="paper"),
    # delivery: the prescriber's decision on a held prescription, the operations page
    path("<int:pk>/transmission/", delivery_views.held_release, name="held_release"),
    path("exploitation/", delivery_views.operations, name="operations"),
    path(
        "exploitation/<int:submission_id>/relancer/",
        delivery_views.submission_requeue,
        name="submission_requeue",
    ),
    # follow-up: dispensing webhook, cancellation, reissue, staff lookup, audit
    path("webhooks/ordoclic/", webhooks.ordoclic_webhook, name="ordoclic_webhook"),
    path("<int:pk>/annuler/", followup_views.cancel, name="cancel"),
    path("<int:pk>/remplacer/", followup_views.reissue_create, name="reissue"),
    path("<int:pk>/garder-les-deux/", followup_views.reissue_keep_both, name="reissue_keep_both"),
    path("assistance/", followup_views.staff_lookup, name="lookup"),
    path("assistance/nom-du-patient/", followup_views.staff_lookup_reveal, name="lookup_reveal"),
    path("journal/", followup_views.audit_trail, name="audit"),
    path("journal/export.csv", followup_views.audit_export, name="audit_export"),
]
