"""What the patient record tells the apps built on it, without knowing them."""

from django.dispatch import Signal

# Sent when a user opens a patient's record: `patient`, `user`.
patient_viewed = Signal()

# Sent, inside the transaction of the change, when a user changes the clinical context of a
# patient's record (measures, pregnancy, breastfeeding, allergies, treatments): `patient`,
# `user`, `fields` (the names of what changed, never the values).
patient_record_changed = Signal()
