from django.urls import path

from . import views

app_name = "practitioners"
urlpatterns = [
    path("lieu-d-exercice/", views.exercise_context, name="exercise_context"),
]
