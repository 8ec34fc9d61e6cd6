using Bidder.Web.Account;
using Bidder.Web.Auctions;
using Bidder.Web.Components.Shared;
using Bidder.Web.Live;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Bidder.Web.Extensions;

internal static class ApplicationServiceExtensions
{
    /// <summary>The API, found by service discovery (the AppHost's reference), or at Bidder:Web:ApiUrl's address.</summary>
    public const string ApiBaseAddress = "http://api";

    public static WebApplicationBuilder AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebOptions>().BindConfiguration(WebOptions.SectionName)
            .Validate(o => o.Authority is { IsAbsoluteUri: true }, $"'{WebOptions.SectionName}:Authority' must be the identity provider's absolute URL (the AppHost sets it).")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ClientId), $"'{WebOptions.SectionName}:ClientId' must be set.")
            .Validate(o => Bidder.Domain.WebCallers.IsUsableKey(o.CallerKey),
                $"'{WebOptions.SectionName}:CallerKey' must be {Bidder.Domain.WebCallers.MinKeyLength} characters or more (the AppHost generates it).")
            .ValidateOnStart();
        var web = builder.Configuration.GetSection(WebOptions.SectionName).Get<WebOptions>() ?? new WebOptions();

        builder.AddSignIn(web);

        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped<BrowserClock>();

        // A page's calls carry its person's access token (CircuitTokens, taken when the page connects); reads go out
        // with it too, so a seller sees their reserve and each person's reads count against their own limit.
        // The others' calls name the visitor (CircuitVisitor, taken then too), proven with the key the API holds, so each
        // anonymous visitor's reads count against their own address (WebCallerProof).
        builder.Services.AddScoped<CircuitTokens>();
        builder.Services.AddScoped<CircuitVisitor>();
        builder.Services.AddScoped<CircuitHandler, CircuitConnectionHandler>();
        builder.Services.AddTransient<WebCallerProof>();
        builder.Services.AddHttpClient<AuctionApi>(http => http.BaseAddress = new Uri(ApiBaseAddress)).AddHttpMessageHandler<WebCallerProof>();
        // No POST is retried by the handler: an item create is not idempotent, and a bid the person sees fail is
        // theirs to press again (the API keeps each press once by its Idempotency-Key).
        builder.Services.Configure<HttpStandardResilienceOptions>($"{nameof(AuctionApi)}-standard", options => options.Retry.DisableForUnsafeHttpMethods());
        builder.Services.AddSingleton<PendingBids>();
        builder.Services.AddSingleton<SharedReads>();

        // One stream of every item's changes per web process, shared by every open page. It lasts as long as the
        // process: the standard resilience handler's timeouts would cut it, and LiveItems reconnects on its own.
        var live = builder.Services.AddHttpClient(LiveItems.HttpClientName, http =>
        {
            http.BaseAddress = new Uri(ApiBaseAddress);
            http.Timeout = Timeout.InfiniteTimeSpan;
        });
#pragma warning disable EXTEXP0001 // Experimental, and the one way to take the defaults' handler off a single client.
        live.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        live.AddHttpMessageHandler<WebCallerProof>();
        builder.Services.AddSingleton<LiveItems>();
        builder.Services.AddHostedService(services => services.GetRequiredService<LiveItems>());
        return builder;
    }

    private static void AddSignIn(this WebApplicationBuilder builder, WebOptions web)
    {
        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                options.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie(cookie =>
            {
                cookie.Cookie.Name = "bidder.web";
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.LoginPath = "/account/login";
                cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
            })
            .AddOpenIdConnect(oidc =>
            {
                oidc.Authority = web.Authority?.AbsoluteUri;
                oidc.ClientId = web.ClientId;
                oidc.ResponseType = OpenIdConnectResponseType.Code;
                // Codes come back in the query of a top-level GET, so the correlation cookies can be SameSite=Lax.
                oidc.ResponseMode = OpenIdConnectResponseMode.Query;
                oidc.UsePkce = true;
                oidc.SaveTokens = true;
                oidc.MapInboundClaims = false;
                oidc.TokenValidationParameters.NameClaimType = "name";
                oidc.TokenValidationParameters.RoleClaimType = "role";
                oidc.Scope.Clear();
                foreach (var scope in (string[])["openid", "profile", "roles", "offline_access", Bidder.Domain.BidderAccess.ApiScope])
                {
                    oidc.Scope.Add(scope);
                }

                // Development and embedded mode run on http://localhost; a deployment puts TLS in front and names an https authority.
                oidc.RequireHttpsMetadata = web.Authority?.Scheme == Uri.UriSchemeHttps;
                oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
                oidc.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                oidc.NonceCookie.SameSite = SameSiteMode.Lax;
                oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            });

        // The code and refresh exchanges name the person's address to Bidder's identity service, whose sign-in limit is
        // per address: from this app's one address, every person's sign-in would share one bucket. Never to another
        // provider: it would not check the proof, and the visitors' addresses are not its to have.
        if (web.ProveSignInCallers)
        {
            builder.Services.AddOptions<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme)
                .Configure<IHttpContextAccessor, IOptions<WebOptions>, TimeProvider>((oidc, accessor, options, time) =>
                    oidc.BackchannelHttpHandler = new WebCallerProof(options, time) { PageLoads = accessor, InnerHandler = new SocketsHttpHandler() });
        }

        builder.Services.AddSingleton<TokenRefresher>();
        builder.Services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<TokenRefresher, SignedInPages>((cookie, refresher, pages) =>
            {
                cookie.Events.OnValidatePrincipal = async context =>
                {
                    // A copy of a cookie whose sign-in ended (signed out elsewhere) is no sign-in.
                    if (pages.HasEnded(SignedInPages.SessionOf(context.Properties)))
                    {
                        context.RejectPrincipal();
                        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                        return;
                    }

                    await refresher.ValidateOrRefreshAsync(context);
                };
                cookie.Events.OnSigningIn = SignedInPages.NameAsync;
            });
        builder.Services.AddSingleton<SignedInPages>();

        builder.Services.AddAuthorization();
        builder.Services.AddCascadingAuthenticationState();
    }
}
