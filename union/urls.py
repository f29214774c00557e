from __future__ import annotations

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from cms import urls as cms_urls
from cms import views as cms_views
from union.health import health
from union.views import accounts, import_jobs, moves, office, public, transfer

union_patterns = [
    path("", cms_views.home, name="home"),  # the public site's home page
    path("join/", public.join, name="join"),
    path("join/thanks/", public.join_thanks, name="join_thanks"),
    path("account/login/", accounts.LoginView.as_view(), name="login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", accounts.two_factor, name="two_factor"),
    path("account/set-password/", accounts.set_password, name="set_password"),
    path("account/", accounts.profile, name="profile"),
    path("account/my-data/", accounts.my_data, name="my_data"),
    path("account/my-data/csv/", accounts.my_data_csv, name="my_data_csv"),
    path("account/forget-me/", accounts.forget_me, name="forget_me"),
    path("office/", office.office_home, name="office"),
    path("office/members/", office.member_list, name="members"),
    path("office/members/<uuid:public_id>/", office.member_detail, name="member_detail"),
    path("office/members/<uuid:public_id>/edit/", office.member_edit, name="member_edit"),
    path("office/members/<uuid:public_id>/status/", office.member_status, name="member_status"),
    path("office/members/<uuid:public_id>/code/", office.member_code, name="member_code"),
    path("office/members/<uuid:public_id>/erase/", office.member_erase, name="member_erase"),
    path("office/applicants/", office.applicant_list, name="applicants"),
    path("office/applicants/<uuid:public_id>/", office.applicant, name="applicant"),
    path("office/register/", office.register_member, name="register_member"),
    path("office/moves/", moves.move_list, name="moves"),
    path("office/moves/take-in/", moves.move_in, name="move_in"),
    path("office/roles/", office.role_list, name="roles"),
    path("office/branches/<str:code>/contact/", office.branch_contact, name="branch_contact"),
    path("office/roles/<int:pk>/end/", office.role_end, name="role_end"),
    path("office/import/", transfer.import_members, name="import_members"),
    path("office/import/<uuid:public_id>/", import_jobs.import_job, name="import_job"),
    path("office/export/", transfer.export_members, name="export_members"),
    path("office/export/<uuid:public_id>/", import_jobs.export_job, name="export_job"),
]

urlpatterns = [
    path("", include((union_patterns, "union"))),
    path("", include("votes.urls")),
    path("dues/", include("dues.urls")),
    path("crisis/", include("crisis.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("health/", health, name="health"),
    path(settings.ADMIN_URL, admin.site.urls),
]

# The public site (cms/): the admin, documents, sitemap.xml, then the pages in /en/, /fr/...
# Last of all, because Wagtail's page serving answers every remaining address.
urlpatterns += cms_urls.site_patterns
urlpatterns += i18n_patterns(*cms_urls.public_patterns)

# A database that is away answers 503 (union/views/errors.py), anything else the plain 500.
handler500 = "union.views.errors.server_error"
