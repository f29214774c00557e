"""Addresses of the public site and its admin, mounted by union/urls.py.

`site_patterns` have one address for every language (the admin, documents, sitemap.xml,
images); `public_patterns` go inside i18n_patterns: /en/..., /fr/recherche/..., and end
with Wagtail's catch-all, so they must come last.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.sitemaps.views import sitemap
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import include, path, re_path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from wagtail import views as wagtail_views
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls
from wagtail.urls import serve_pattern
from wagtail.utils.urlpatterns import decorate_urlpatterns

from cms import views
from cms.admin_guard import second_factor_required
from cms.feeds import NewsAtomFeed, NewsFeed
from cms.sitemap import PagesSitemap
from union.http import safe_next


def admin_login(request: HttpRequest) -> HttpResponseRedirect:
    """One login for everything: the union's, which asks office bearers for the second factor.

    Wagtail sends here whoever may not use the admin; someone already signed in (and past
    the second factor) is simply not an editor, and sending them to a login page would loop.
    """
    if request.user.is_authenticated:
        raise PermissionDenied
    next_url = safe_next(request, reverse("wagtailadmin_home"))
    return HttpResponseRedirect(f"{reverse('union:login')}?{urlencode({'next': next_url})}")


def pages_sitemap(request: HttpRequest, **kwargs: Any) -> Any:
    return sitemap(request, sitemaps={"pages": PagesSitemap(request)})


admin_patterns = decorate_urlpatterns(
    [path("login/", admin_login), *wagtailadmin_urls.urlpatterns], second_factor_required
)

site_patterns = [
    path("cms-admin/", include(admin_patterns)),
    path("documents/", include(wagtaildocs_urls)),
    path("sitemap.xml", pages_sitemap, name="cms_sitemap"),
    path("exit/", views.quick_exit, name="cms_quick_exit"),
    # Wagtail looks this name up to send visitors of a page restricted to signed-in people
    # to a login, even though WAGTAIL_FRONTEND_LOGIN_URL names the union's: without it
    # such a page answered 500.
    path(
        "login/",
        RedirectView.as_view(pattern_name="union:login", query_string=True),
        name="wagtailcore_login",
    ),
    re_path(r"^media/images/(?P<path>.+)$", views.rendition, name="cms_rendition"),
]

public_patterns = [
    path(_("search/"), views.search, name="cms_search"),
    path("feeds/news.atom", NewsAtomFeed(), name="cms_news_atom"),
    path("feeds/news.rss", NewsFeed(), name="cms_news_rss"),
    path("_join/", views.join, name="cms_join"),
    path(
        "_util/authenticate_with_password/<int:page_view_restriction_id>/<int:page_id>/",
        wagtail_views.authenticate_with_password,
        name="wagtailcore_authenticate_with_password",
    ),
    # Wagtail's page serving, through the cache. Must be the last pattern of all.
    re_path(serve_pattern, views.serve, name="wagtail_serve"),
]
