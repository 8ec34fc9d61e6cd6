using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Bidder.Identity.Extensions;

/// <summary>
/// OpenIddict's server in degraded mode: tokens, codes and refresh tokens are self-contained (signed JWTs; codes
/// and refresh tokens also encrypted), so the provider keeps no token or application store of its own. What a
/// store would check about a client (its id, flows and redirect URIs) is checked here against the two clients
/// Bidder has, declared once in <see cref="BidderIdentityOptions"/>. Access tokens are signed, not encrypted,
/// so that any API can validate them with the published keys alone.
/// </summary>
internal static class OpenIddictSetup
{
    public static void AddBidderOpenIddict(this WebApplicationBuilder builder, BidderIdentityOptions identity, IdentityKeys? keys, bool passwordGrant, bool generatedKeysAllowed)
    {
        builder.Services.AddOpenIddict().AddServer(server =>
        {
            server.SetAuthorizationEndpointUris("connect/authorize")
                .SetTokenEndpointUris("connect/token")
                .SetEndSessionEndpointUris("connect/endsession")
                .SetUserInfoEndpointUris("connect/userinfo");

            server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange().AllowRefreshTokenFlow();
            if (passwordGrant)
            {
                server.AllowPasswordFlow();
            }

            // prompt=create: the web app's "Register" opens the registration page rather than the sign-in page.
            server.RegisterPromptValues(PromptValues.Create);
            server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.Roles, Scopes.OfflineAccess, BidderIdentityOptions.ApiScope);
            server.SetAccessTokenLifetime(identity.AccessTokenLifetime);
            if (identity.Issuer is not null)
            {
                server.SetIssuer(identity.Issuer);
            }

            // S256 only: "plain" would hand the verifier to anyone who sees the authorization request.
            server.Configure(options => options.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain));
            server.EnableDegradedMode();
            server.DisableAccessTokenEncryption();
            AddKeys(server, keys, generatedKeysAllowed);

            var aspnet = server.UseAspNetCore()
                .EnableAuthorizationEndpointPassthrough()
                .EnableTokenEndpointPassthrough()
                .EnableEndSessionEndpointPassthrough()
                .EnableUserInfoEndpointPassthrough();
            if (identity.Issuer is null || identity.Issuer.Scheme == Uri.UriSchemeHttp)
            {
                // Development and embedded mode run on http://localhost; a deployment puts TLS in front (Container
                // Apps' ingress) and names its https issuer.
                aspnet.DisableTransportSecurityRequirement();
            }

            server.AddEventHandler<ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != BidderIdentityOptions.WebClientId)
                {
                    context.Reject(Errors.InvalidClient, $"Only '{BidderIdentityOptions.WebClientId}' signs in through this endpoint.");
                }
                else if (!identity.WebRedirectUris.Any(uri => string.Equals(uri.AbsoluteUri, context.RedirectUri, StringComparison.Ordinal)))
                {
                    context.Reject(Errors.InvalidRequest, "The redirect_uri is not one registered for this client.");
                }

                return default;
            }));

            server.AddEventHandler<ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                // Both clients are public (a browser app and a command line): they hold no secret to present.
                var allowed = context.Request.IsPasswordGrantType()
                    ? context.ClientId == BidderIdentityOptions.CliClientId
                    : context.ClientId is BidderIdentityOptions.WebClientId or BidderIdentityOptions.CliClientId;
                if (!allowed)
                {
                    context.Reject(Errors.InvalidClient, "This client is unknown or may not use this grant.");
                }
                else if (!string.IsNullOrEmpty(context.ClientSecret))
                {
                    context.Reject(Errors.InvalidClient, "Public clients do not send a client_secret.");
                }

                return default;
            }));

            server.AddEventHandler<ValidateEndSessionRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (!string.IsNullOrEmpty(context.PostLogoutRedirectUri)
                    && !identity.WebPostLogoutRedirectUris.Any(uri => string.Equals(uri.AbsoluteUri, context.PostLogoutRedirectUri, StringComparison.Ordinal)))
                {
                    context.Reject(Errors.InvalidRequest, "The post_logout_redirect_uri is not one registered for a client.");
                }

                return default;
            }));
        });
    }

    private static void AddKeys(OpenIddictServerBuilder server, IdentityKeys? keys, bool generatedKeysAllowed)
    {
        if (keys is null)
        {
            if (!generatedKeysAllowed)
            {
                throw new InvalidOperationException(
                    $"'{BidderIdentityOptions.SectionName}:SigningKey' is not set: give an RSA private key (PEM) so that tokens survive restarts " +
                    "and every replica signs alike (keys are generated per run only in Development and embedded mode).");
            }

            server.AddEphemeralSigningKey().AddEphemeralEncryptionKey();
            return;
        }

        server.AddSigningKey(new RsaSecurityKey(keys.Signing) { KeyId = KeyId(keys.Signing) });
        server.AddEncryptionKey(new SymmetricSecurityKey(keys.Derive(IdentityKeys.TokenEncryption)));
    }

    // A stable key id (from the public key), so the API's cached key set keeps matching across restarts.
    private static string KeyId(RSA rsa) => Convert.ToHexString(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()))[..16];
}
