"""Identity URLs, included at ``/identity`` (so patterns start with "", "/", "/v3"...)."""

from django.urls import path

from api.identity import account, v2, v3, versions

urlpatterns = [
    path("", versions.Versions.as_view(), name="identity-versions"),
    path("/", versions.Versions.as_view()),
    path("/v3", versions.V3Version.as_view(), name="identity-v3"),
    path("/v3/", versions.V3Version.as_view()),
    path("/v3/auth/tokens", v3.AuthTokens.as_view(), name="identity-v3-tokens"),
    path("/v3/auth/projects", v3.AuthProjects.as_view(), name="identity-v3-auth-projects"),
    path("/v3/auth/catalog", v3.AuthCatalog.as_view(), name="identity-v3-auth-catalog"),
    path("/v3/auth/domains", v3.AuthDomains.as_view(), name="identity-v3-auth-domains"),
    path("/v3/users/<str:user_id>", v3.UserDetail.as_view(), name="identity-v3-user"),
    path("/v3/users/<str:user_id>/projects", v3.UserProjects.as_view(), name="identity-v3-user-projects"),
    path("/v3/projects", v3.Projects.as_view(), name="identity-v3-projects"),
    path("/v3/projects/<str:project_id>", v3.ProjectDetail.as_view(), name="identity-v3-project"),
    path("/v2.0", versions.V2Version.as_view(), name="identity-v2"),
    path("/v2.0/", versions.V2Version.as_view()),
    path("/v2.0/tokens", v2.Tokens.as_view(), name="identity-v2-tokens"),
    path("/account/v1.0/user_catalogs", account.UserCatalogs.as_view(), name="identity-account-user-catalogs"),
]
