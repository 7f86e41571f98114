from django.urls import path

from .delivery import views as delivery
from .drafting import favourite_views as fast
from .drafting import views as drafting
from .fhir import views as fhir
from .followup import views as followup
from .followup import webhooks
from .insight import views as insight

app_name = "prescriptions"
urlpatterns = [
    # drafting: "Mes ordonnances", the patient's prescriptions, the prescription being written
    path("", drafting.prescription_list, name="list"),
    path("patient/<int:patient_id>/", drafting.patient_history, name="patient_history"),
    path("patients-recents/", drafting.recent_patients, name="recent_patients"),
    path("nouvelle/<int:patient_id>/", drafting.prescription_create, name="create"),
    path("<int:pk>/medicaments/", drafting.drug_search, name="drug_search"),
    path("<int:pk>/medicaments/apercu/", drafting.drug_preview, name="drug_preview"),
    path("<int:pk>/suivi-du-brouillon/", drafting.draft_watch, name="draft_watch"),
    path("<int:pk>/lignes/", drafting.line_add, name="line_add"),
    path("<int:pk>/lignes/<int:line_id>/", drafting.line_update, name="line_update"),
    path("<int:pk>/lignes/<int:line_id>/modifier/", drafting.line_edit, name="line_edit"),
    path("<int:pk>/lignes/<int:line_id>/supprimer/", drafting.line_remove, name="line_remove"),
    path("<int:pk>/options/", drafting.options_update, name="options"),
    path("<int:pk>/analyse/", drafting.analyse, name="analyse"),
    path("<int:pk>/alertes/<int:alert_id>/", drafting.alert_decide, name="alert_decide"),
    path("<int:pk>/sans-analyse/", drafting.analysis_waive, name="waive"),
    # drafting, faster: favourites, protocols, renewal
    path(
        "<int:pk>/lignes/<int:line_id>/favori/",
        fast.favourite_from_line,
        name="favourite_from_line",
    ),
    path("<int:pk>/protocoles/<int:protocol_id>/", fast.protocol_insert, name="protocol_insert"),
    path("<int:pk>/protocole/", fast.protocol_from_draft, name="protocol_from_draft"),
    path("<int:pk>/renouveler/", fast.renew, name="renew"),
    path("favoris/", fast.manage, name="favourites"),
    path("favoris/<int:favourite_id>/renommer/", fast.favourite_rename, name="favourite_rename"),
    path("favoris/<int:favourite_id>/supprimer/", fast.favourite_delete, name="favourite_delete"),
    path("protocoles/nouveau/", fast.protocol_create, name="protocol_create"),
    path("protocoles/<int:protocol_id>/", fast.protocol_detail, name="protocol"),
    path("protocoles/<int:protocol_id>/modifier/", fast.protocol_update, name="protocol_update"),
    path("protocoles/<int:protocol_id>/supprimer/", fast.protocol_delete, name="protocol_delete"),
    path(
        "protocoles/<int:protocol_id>/medicaments/",
        fast.protocol_drug_search,
        name="protocol_drug_search",
    ),
    path("protocoles/<int:protocol_id>/lignes/", fast.protocol_line_add, name="protocol_line_add"),
    path(
        "protocoles/<int:protocol_id>/lignes/<int:line_id>/supprimer/",
        fast.protocol_line_remove,
        name="protocol_line_remove",
    ),
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
    # FHIR: the prescriber's copy of a signed prescription (the host's API is under /fhir/)
    path("<int:pk>/fhir.json", fhir.prescription_download, name="fhir_download"),
    # insight: how alerts are answered (administrators)
    path("indicateurs/", insight.insight, name="insight"),
    path("indicateurs/<str:figure>.csv", insight.insight_export, name="insight_export"),
]
