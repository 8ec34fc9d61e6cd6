using System.Security.Claims;
using Bidder.Domain;
using OpenIddict.Validation.AspNetCore;

namespace Bidder.Api.Identity;

/// <summary>
/// Who is calling: the API trusts access tokens from one OpenID Connect authority, found by its discovery
/// document (<c>Bidder:Identity:Authority</c>): Bidder.Identity in every mode the AppHost runs, or Keycloak,
/// Entra ID or any OIDC provider in external mode. A token must be signed by the authority's published keys,
/// name it as issuer, be meant for this API (<c>Bidder:Identity:Audience</c>) and be within its lifetime.
/// </summary>
internal static class CallerAuthentication
{
    public const string SectionName = "Bidder:Identity";
    public const string DefaultAudience = BidderAccess.ApiAudience;

    /// <summary>Reads every user and every bid, and creates users on the original system's route.</summary>
    public const string AdminPolicy = "admin";
    public const string AdminRole = BidderAccess.AdminRole;

    public static IHostApplicationBuilder AddCallerAuthentication(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(SectionName);
        var authority = section.GetValue<Uri?>("Authority")
            ?? throw new InvalidOperationException($"'{SectionName}:Authority' is not set: give the URL of the OpenID Connect provider whose tokens the API accepts (the AppHost sets it to the identity service).");
        var audience = section.GetValue<string?>("Audience") ?? DefaultAudience;

        builder.Services.AddOpenIddict().AddValidation(validation =>
        {
            validation.SetIssuer(authority);
            validation.AddAudiences(audience);
            validation.UseSystemNetHttp();
            // Tokens only from the Authorization header: never from a URL (which proxies and access logs keep), and
            // never by reading a form body before the route's own limits apply.
            validation.UseAspNetCore()
                .DisableAccessTokenExtractionFromBodyForm()
                .DisableAccessTokenExtractionFromQueryString();
        });

        builder.Services.AddAuthentication(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireAuthenticatedUser().RequireRole(AdminRole));
        return builder;
    }

    /// <summary>
    /// Authentication, with the one failure that is not the caller's: the authority's discovery document or keys
    /// cannot be fetched (the identity service is down or unreachable). OpenIddict then challenges with
    /// <c>error="server_error"</c> and a 500; the caller gets a 503 with Retry-After instead, as for a database
    /// outage (the problem document is written by the status code pages). Requests without a token never ask the
    /// authority and are not affected.
    /// </summary>
    public static WebApplication UseCallerAuthentication(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            await next(context);
            if (context.Response is { StatusCode: StatusCodes.Status500InternalServerError, HasStarted: false }
                && context.Response.Headers.WWWAuthenticate.ToString().Contains("error=\"server_error\"", StringComparison.Ordinal))
            {
                app.Logger.LogWarning("The identity provider cannot be reached to check an access token: {Challenge}", context.Response.Headers.WWWAuthenticate.ToString());
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = "5";
            }
        });
        app.UseAuthentication();
        return app;
    }

    /// <summary>The caller's Bidder user id: the token's subject.</summary>
    public static Guid? UserId(this ClaimsPrincipal caller) =>
        Guid.TryParse(caller.FindFirstValue("sub"), out var id) ? id : null;

    public static bool IsAdmin(this ClaimsPrincipal caller) => caller.IsInRole(AdminRole);
}
