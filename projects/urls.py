from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("export/", views.project_list_export, name="export"),
    path("new/", views.project_create, name="create"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/history/", views.project_history, name="history"),
    path("<int:pk>/stage/", views.project_stage, name="stage"),
    path("<int:pk>/comments/", views.project_comment, name="comment"),
    path("<int:pk>/milestones/new/", views.milestone_create, name="milestone_create"),
    path("<int:pk>/progress/<int:year>-<int:month>/", views.progress_entry, name="progress"),
    path("progress/", views.progress_grid, name="grid"),
    path("progress/review/", views.review_queue, name="review"),
    path("progress/months/", views.month_list, name="months"),
    path("progress/<int:pk>/review/", views.progress_review, name="progress_review"),
    path("progress/<int:pk>/photos/", views.photo_upload, name="photo_upload"),
    path("photos/<int:pk>/delete/", views.photo_delete, name="photo_delete"),
    path("photos/<int:pk>/<str:kind>/", views.photo_file, name="photo_file"),
    path("milestones/", views.milestone_list, name="milestone_list"),
    path("milestones/export/", views.milestone_export, name="milestone_export"),
    path("milestones/<int:pk>/", views.milestone_edit, name="milestone_edit"),
]
