namespace Bidder.Identity.Extensions;

/// <summary><c>Bidder:Identity</c>: who this provider is, its clients, its keys and its first administrator.</summary>
public sealed class BidderIdentityOptions
{
    public const string SectionName = "Bidder:Identity";

    /// <summary>The audience of the API's access tokens, and the scope that asks for them.</summary>
    public const string ApiAudience = Bidder.Domain.BidderAccess.ApiAudience;
    public const string ApiScope = Bidder.Domain.BidderAccess.ApiScope;

    /// <summary>The web front end: authorization code with PKCE.</summary>
    public const string WebClientId = "bidder-web";

    /// <summary>The load tool, tests and curl: the resource-owner password grant.</summary>
    public const string CliClientId = "bidder-cli";

    /// <summary>The issuer tokens name (<c>iss</c>): this service's public URL. Unset, the URL a request came in on.</summary>
    public Uri? Issuer { get; set; }

    /// <summary>Where the API answers: the Location of a registered user. Unset, none is given.</summary>
    public Uri? ApiUrl { get; set; }

    /// <summary>
    /// Whether <c>bidder-cli</c> may use the password grant (OAuth 2.1 drops it): unset, it is on in Development
    /// and in embedded mode (an SQLite database), off elsewhere.
    /// </summary>
    public bool? EnablePasswordGrant { get; set; }

    /// <summary>
    /// An RSA private key (PEM) that signs the tokens (and, derived from it, the key that encrypts codes and
    /// refresh tokens), so tokens survive restarts and replicas agree. Required outside Development and embedded
    /// mode; there, unset, a key is generated per run.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>The first administrator: created (or given back this password and the admin role) at start when a password is set.</summary>
    public string AdminEmail { get; set; } = "admin@bidder.local";

    public string? AdminPassword { get; set; }

    /// <summary>Where <c>bidder-web</c> may receive codes, and go after signing out.</summary>
    public Uri[] WebRedirectUris { get; set; } = [new("http://localhost:8000/signin-oidc")];

    public Uri[] WebPostLogoutRedirectUris { get; set; } = [new("http://localhost:8000/signout-callback-oidc")];

    /// <summary>How long an access token lasts; a refresh token gets the next one.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(30);
}
