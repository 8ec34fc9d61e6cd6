namespace Bidder.Web.Extensions;

/// <summary><c>Bidder:Web</c>: where the web app signs people in and how long it keeps them.</summary>
public sealed class WebOptions
{
    public const string SectionName = "Bidder:Web";

    /// <summary>The OpenID Connect provider (Bidder.Identity, or the one the deployment names): its issuer URL.</summary>
    public Uri? Authority { get; set; }

    /// <summary>The client this app signs in as: authorization code with PKCE, no secret.</summary>
    public string ClientId { get; set; } = "bidder-web";

    /// <summary>
    /// A page load refreshes the access token when less than this is left of it, so a live page (whose
    /// connection keeps the token it opened with) can go on calling the API for at least this long.
    /// </summary>
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>
    /// The key with which this app proves to the API (and the identity service) whom a call without a token is for
    /// (their <c>Bidder:RateLimits:WebCallerKey</c>, the same secret; the AppHost generates it). Unset, they count
    /// every anonymous visitor's reads (and sign-ins) against this app's one address.
    /// </summary>
    public string? CallerKey { get; set; }

    /// <summary>
    /// Whether the sign-in exchanges (code, refresh) name the person's address with <see cref="CallerKey"/>'s proof:
    /// only to Bidder's own identity service, which checks them (the AppHost sets this when it is the provider).
    /// </summary>
    public bool ProveSignInCallers { get; set; }
}
