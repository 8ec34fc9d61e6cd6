using System.Collections.Immutable;
using System.Security.Claims;
using Bidder.Core.Http;
using Bidder.Core.Storage;
using Bidder.Identity.Accounts;
using Bidder.Identity.Extensions;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Bidder.Identity.Apis;

/// <summary>
/// The OpenID Connect endpoints OpenIddict passes through to Bidder: it has already checked the protocol (client,
/// grant, PKCE, redirect URI, the code's or refresh token's signature and lifetime); these decide who the caller
/// is and what the tokens say about them.
/// </summary>
public static class ConnectApi
{
    private static readonly string[] AllowedScopes =
        [Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.Roles, Scopes.OfflineAccess, BidderIdentityOptions.ApiScope];

    public static IEndpointRouteBuilder MapConnectApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/connect/token", Exchange).RequireRateLimiting(HttpLimits.SignIn).ExcludeFromDescription();
        app.MapMethods("/connect/authorize", ["GET", "POST"], Authorize).DisableAntiforgery().ExcludeFromDescription();
        app.MapMethods("/connect/endsession", ["GET", "POST"], (Delegate)EndSession).DisableAntiforgery().ExcludeFromDescription();
        app.MapMethods("/connect/userinfo", ["GET", "POST"], UserInfo).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> Exchange(HttpContext context, UserManager<IdentityAccount> users, PasswordChecks passwords, ITokenRedemptions redeemed, IAuctionStore store)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        if (request.IsPasswordGrantType())
        {
            var (account, result) = await passwords.CheckAsync(request.Username ?? "", request.Password ?? "", signInCookie: false);
            if (result.IsLockedOut)
            {
                return Refuse("Too many wrong passwords: the account is locked for a few minutes.");
            }

            return result.Succeeded
                ? Results.SignIn(await PrincipalAsync(account!, request.GetScopes(), store), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)
                : Refuse("The email or password is wrong.");
        }

        if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType())
        {
            // OpenIddict validated the code or refresh token; the account may have changed since it was issued.
            var issued = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
            var account = issued?.GetClaim(Claims.Subject) is { } subject ? await users.FindByIdAsync(subject) : null;
            if (issued is null || account is null || await users.IsLockedOutAsync(account)
                || issued.GetClaim(SecurityStampClaim) != account.SecurityStamp)
            {
                return Refuse("The account is no longer allowed to sign in; sign in again.");
            }

            // Spent last, once everything else has passed: a refusal above (a lockout that ends) leaves the token usable.
            var principal = await PrincipalAsync(account, issued.GetScopes(), store);
            var presented = (request.IsAuthorizationCodeGrantType() ? request.Code : request.RefreshToken) ?? "";
            if (!await redeemed.RedeemAsync(RedemptionId(issued, presented), (issued.GetExpirationDate() ?? DateTimeOffset.UtcNow.AddDays(14)) + RedemptionMargin, context.RequestAborted))
            {
                return Refuse(request.IsAuthorizationCodeGrantType()
                    ? "This authorization code was used already; sign in again."
                    : "This refresh token was used already; use the newest one, or sign in again.");
            }

            return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        return Refuse("This grant type is not supported.", Errors.UnsupportedGrantType);
    }

    private static async Task<IResult> Authorize(HttpContext context, UserManager<IdentityAccount> users, IAuctionStore store)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        var cookie = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var account = cookie.Succeeded ? await users.GetUserAsync(cookie.Principal) : null;
        if (account is null && request.HasPromptValue(PromptValues.None))
        {
            // The client asked not to show any page: tell it sign-in is needed rather than showing one.
            return Refuse("The person is not signed in.", Errors.LoginRequired);
        }

        if (account is null && request.HasPromptValue(PromptValues.Create))
        {
            // prompt=create (OpenID Connect's account creation): the registration page, then back here signed in.
            return Results.Redirect($"/account/signup?returnUrl={Uri.EscapeDataString(ReturnUrl(context))}");
        }

        if (account is null || request.HasPromptValue(PromptValues.Login))
        {
            // To the sign-in page, which comes back here with the same request once the person has signed in;
            // without "prompt", or prompt=login would send them to the page again and again.
            await context.SignOutAsync(IdentityConstants.ApplicationScheme);
            return Results.Challenge(new AuthenticationProperties { RedirectUri = ReturnUrl(context) }, [IdentityConstants.ApplicationScheme]);
        }

        // Bidder's own front end is the only client of this flow: no consent page for a first-party app.
        return Results.SignIn(await PrincipalAsync(account, request.GetScopes(), store), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// This authorization request again, without "prompt": the page a person is sent to (sign in, register) comes
    /// back here once, rather than again and again.
    /// </summary>
    private static string ReturnUrl(HttpContext context)
    {
        var parameters = (context.Request.HasFormContentType ? context.Request.Form.AsEnumerable() : context.Request.Query.AsEnumerable())
            .Where(parameter => parameter.Key != Parameters.Prompt);
        return context.Request.PathBase + context.Request.Path + QueryString.Create(parameters);
    }

    private static async Task<IResult> EndSession(HttpContext context)
    {
        await context.SignOutAsync(IdentityConstants.ApplicationScheme);
        return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    private static async Task<IResult> UserInfo(HttpContext context, UserManager<IdentityAccount> users, IAuctionStore store)
    {
        var token = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        var account = token?.GetClaim(Claims.Subject) is { } subject ? await users.FindByIdAsync(subject) : null;
        if (account is null)
        {
            return Results.Challenge(authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        var claims = new Dictionary<string, object> { [Claims.Subject] = account.Id.ToString() };
        if (token!.HasScope(Scopes.Profile))
        {
            claims[Claims.Name] = await UserNameAsync(account, store) ?? "";
        }

        if (token!.HasScope(Scopes.Email))
        {
            claims[Claims.Email] = account.Email;
            claims[Claims.EmailVerified] = false;
        }

        if (token!.HasScope(Scopes.Roles))
        {
            claims[Claims.Role] = account.Roles.ToArray();
        }

        return Results.Ok(claims);
    }

    /// <summary>
    /// Who the tokens are about: <c>sub</c> is the Bidder user id; the name and roles go into the access token
    /// (the API authorizes by them); the email only into the identity token and userinfo, never to the API.
    /// </summary>
    internal static async Task<ClaimsPrincipal> PrincipalAsync(IdentityAccount account, ImmutableArray<string> requested, IAuctionStore store)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, account.Id.ToString())
            .SetClaim(Claims.Name, await UserNameAsync(account, store))
            .SetClaim(Claims.Email, account.Email)
            .SetClaim(SecurityStampClaim, account.SecurityStamp)
            .SetClaim(GrantIdClaim, Guid.NewGuid().ToString("N"))
            .SetClaims(Claims.Role, [.. account.Roles]);

        var scopes = requested.Intersect(AllowedScopes, StringComparer.Ordinal).ToImmutableArray();
        identity.SetScopes(scopes);
        if (scopes.Contains(BidderIdentityOptions.ApiScope))
        {
            identity.SetResources(BidderIdentityOptions.ApiAudience);
        }

        identity.SetDestinations(claim => claim.Type switch
        {
            Claims.Subject => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.Name or Claims.Role => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.Email when scopes.Contains(Scopes.Email) => [Destinations.IdentityToken],
            // The stamp rides in codes and refresh tokens only (which OpenIddict keeps whole): it is how a
            // refresh finds out that the password changed or the account was locked since. So does the grant's id,
            // by which a code or refresh token is redeemed once.
            _ => [],
        });
        return new ClaimsPrincipal(identity);
    }

    /// <summary>
    /// The display name lives with the Bidder user (GET /users/{id} shows it), not with the credentials. MongoDB
    /// writes an account and its user one after the other (no transaction on a standalone server): an account whose
    /// write of the user was cut short by a crash gets its user now, at its first sign-in, so its bids count.
    /// </summary>
    private static async Task<string?> UserNameAsync(IdentityAccount account, IAuctionStore store)
    {
        if (await store.GetUserAsync(account.Id, CancellationToken.None) is { } user)
        {
            return user.Name;
        }

        try
        {
            await store.CreateUserAsync(new Domain.User(account.Id, RecoveredName, 0, account.CreatedDate), CancellationToken.None);
        }
        catch (Exception)
        {
            // Another sign-in of the same account may have recreated it first; anything else is rethrown.
            if (await store.GetUserAsync(account.Id, CancellationToken.None) is null)
            {
                throw;
            }
        }

        return RecoveredName;
    }

    private const string RecoveredName = "bidder";

    private const string SecurityStampClaim = "bidder_security_stamp";

    /// <summary>
    /// A redemption is kept this long past its token's expiry: each replica refuses an expired token by its own clock,
    /// and the database forgets by its own, so a record must outlive the token on every clock that matters.
    /// </summary>
    private static readonly TimeSpan RedemptionMargin = TimeSpan.FromHours(1);

    /// <summary>
    /// The id of what a principal grants, new for each one made (<see cref="PrincipalAsync"/>) and so for each code and
    /// refresh token issued: OpenIddict's degraded mode gives its tokens no id of their own.
    /// </summary>
    private const string GrantIdClaim = "bidder_grant_id";

    /// <summary>
    /// What identifies a code or refresh token across redemptions: the grant id read from inside the signed, encrypted
    /// token, rather than the token's text, so that the rule does not rest on the base64url decoder refusing every
    /// other spelling of one token (today's does: another alphabet, or spare bits set, is an invalid token). A token
    /// issued before the grant id (none is older than a refresh token's 14 days) is known by the hash of its text.
    /// </summary>
    private static string RedemptionId(ClaimsPrincipal issued, string presented) =>
        issued.GetClaim(GrantIdClaim) is { Length: > 0 } id
            ? id
            : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(presented)));

    private static IResult Refuse(string description, string error = Errors.InvalidGrant) => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
