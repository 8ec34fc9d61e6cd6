using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Mvc;

namespace Bidder.Web.Account;

/// <summary>
/// Signing in, registering and signing out happen at the identity service (OpenID Connect, authorization code
/// with PKCE); these routes send the browser there and back. Sign-out is a POST with an antiforgery token, so
/// no other site can sign a person out with a link.
/// </summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/account").ExcludeFromDescription();
        account.MapGet("/login", (string? returnUrl) =>
            TypedResults.Challenge(new OpenIdConnectChallengeProperties { RedirectUri = LocalUrl(returnUrl) }, [OpenIdConnectDefaults.AuthenticationScheme]));
        // prompt=create (OpenID Connect's account creation) opens the identity service's registration page.
        account.MapGet("/register", (string? returnUrl) =>
            TypedResults.Challenge(new OpenIdConnectChallengeProperties { RedirectUri = LocalUrl(returnUrl), Prompt = "create" }, [OpenIdConnectDefaults.AuthenticationScheme]));
        account.MapPost("/logout", async (HttpContext context, SignedInPages pages, [FromForm] string? returnUrl) =>
        {
            // The person's other open tabs hold this sign-in's tokens in their live pages: they are signed out with it.
            if (SignedInPages.SessionOf((await context.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme)).Properties) is { } session)
            {
                pages.SignedOut(session);
            }

            return TypedResults.SignOut(new AuthenticationProperties { RedirectUri = LocalUrl(returnUrl) },
                [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme]);
        });
        return app;
    }

    /// <summary>
    /// Only a path of this site: an absolute or protocol-relative URL would make the app an open redirector, and
    /// browsers drop tabs and newlines from a Location, so "/\t/evil.example" would become "//evil.example".
    /// </summary>
    public static string LocalUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 } && returnUrl[0] == '/'
            && (returnUrl.Length == 1 || returnUrl[1] is not ('/' or '\\'))
            && !returnUrl.Any(char.IsControl)
            ? returnUrl
            : "/";
}
