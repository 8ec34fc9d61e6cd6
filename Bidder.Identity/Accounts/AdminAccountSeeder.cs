using Bidder.Identity.Apis;
using Bidder.Identity.Extensions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Bidder.Identity.Accounts;

/// <summary>
/// The first administrator, from <c>Bidder:Identity:AdminPassword</c> (the AppHost's secret parameter
/// <c>admin-password</c>): created at start if missing; an existing account of that email gets the admin role and
/// this password, so the parameter stays the one way in. Runs after the storage initializer (registered later).
/// </summary>
internal sealed partial class AdminAccountSeeder(IServiceProvider services, IOptions<BidderIdentityOptions> options, ILogger<AdminAccountSeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var identity = options.Value;
        if (string.IsNullOrEmpty(identity.AdminPassword))
        {
            LogNoAdmin();
            return;
        }

        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityAccount>>();
        var account = await users.FindByEmailAsync(identity.AdminEmail);
        if (account is null)
        {
            var (created, errors) = await scope.ServiceProvider.GetRequiredService<AccountRegistration>()
                .RegisterAsync("Administrator", identity.AdminEmail, identity.AdminPassword);
            account = created ?? await users.FindByEmailAsync(identity.AdminEmail)
                ?? throw new InvalidOperationException($"The administrator account cannot be created: {string.Join(" ", errors!.SelectMany(e => e.Value))}");
        }
        else if (!await users.CheckPasswordAsync(account, identity.AdminPassword))
        {
            Check(await users.RemovePasswordAsync(account));
            Check(await users.AddPasswordAsync(account, identity.AdminPassword));
        }

        if (!await users.IsInRoleAsync(account, BidderRoles.Admin))
        {
            Check(await users.AddToRoleAsync(account, BidderRoles.Admin));
        }

        LogAdmin();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"The administrator account cannot be set up: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The administrator account is ready.")]
    private partial void LogAdmin();

    [LoggerMessage(Level = LogLevel.Warning, Message = "No administrator: Bidder:Identity:AdminPassword is not set.")]
    private partial void LogNoAdmin();
}
