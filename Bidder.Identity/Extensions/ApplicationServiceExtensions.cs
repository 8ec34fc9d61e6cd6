using Bidder.Core.Http;
using Bidder.Core.Storage;
using Bidder.Identity.Accounts;
using Bidder.Identity.Apis;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Bidder.Identity.Extensions;

internal static class ApplicationServiceExtensions
{
    public static WebApplicationBuilder AddApplicationServices(this WebApplicationBuilder builder)
    {
        var storage = builder.AddBidderStorage();
        builder.AddHttpLimits();

        var section = builder.Configuration.GetSection(BidderIdentityOptions.SectionName);
        builder.Services.AddOptions<BidderIdentityOptions>().Bind(section)
            .Validate(o => o.AccessTokenLifetime > TimeSpan.Zero, $"'{BidderIdentityOptions.SectionName}:AccessTokenLifetime' must be positive.")
            .ValidateOnStart();
        var identity = section.Get<BidderIdentityOptions>() ?? new BidderIdentityOptions();

        // Development and embedded mode (an SQLite database) are where a developer runs Bidder on one machine.
        var local = builder.Environment.IsDevelopment() || storage == StorageKind.Sqlite;

        builder.Services.AddIdentityCore<IdentityAccount>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.User.AllowedUserNameCharacters = "";
                options.Password.RequiredLength = 8;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireDigit = false;
                options.Password.RequiredUniqueChars = 4;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
            })
            .AddUserStore<AccountUserStore>()
            .AddSignInManager();
        builder.Services.AddAuthentication(IdentityConstants.ApplicationScheme).AddIdentityCookies();
        builder.Services.ConfigureApplicationCookie(cookie =>
        {
            cookie.LoginPath = "/account/login";
            cookie.LogoutPath = "/account/logout";
            cookie.Cookie.Name = "bidder.identity";
            cookie.Cookie.SameSite = SameSiteMode.Lax;
        });
        builder.Services.AddScoped<AccountRegistration>();
        builder.Services.AddScoped<PasswordChecks>();
        builder.Services.AddHostedService<RedeemedTokenPruner>();
        builder.Services.AddHostedService<AdminAccountSeeder>();
        builder.Services.TryAddSingleton(TimeProvider.System);

        var keys = IdentityKeys.From(identity);
        builder.AddBidderOpenIddict(identity, keys, passwordGrant: identity.EnablePasswordGrant ?? local, generatedKeysAllowed: local);
        builder.AddBidderDataProtection(keys);

        // The API's JSON: snake_case names, UTC times.
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.AddRazorPages();
        return builder;
    }
}
