from django.urls import path

from problems import views

app_name = "enterprises"

urlpatterns = [
    path("enterprises/", views.enterprise_list, name="list"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="detail"),
    path("enterprises/<int:pk>/history/", views.enterprise_history, name="history"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("problems/", views.ticket_list, name="ticket_list"),
    path("problems/new/", views.ticket_create, name="ticket_create"),
    path("problems/figures/", views.problem_stats, name="stats"),
    path("problems/export/", views.ticket_export, name="ticket_export"),
    path("problems/figures/export/", views.ticket_summary_export, name="ticket_summary_export"),
    path("problems/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("problems/<int:pk>/edit/", views.ticket_edit, name="ticket_edit"),
    path("problems/<int:pk>/history/", views.ticket_history, name="ticket_history"),
    path("problems/<int:pk>/<slug:action>/", views.ticket_action, name="ticket_action"),
    path("problems/files/<int:pk>/", views.attachment_file, name="attachment"),
]
