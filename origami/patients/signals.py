"""What the patient record tells the apps built on it, without knowing them."""

from django.dispatch import Signal

# Sent when a user opens a patient's record: `patient`, `user`.
patient_viewed = Signal()
