using Bidder.Core.Storage;
using Bidder.Domain;
using Microsoft.AspNetCore.Identity;

namespace Bidder.Identity.Accounts;

/// <summary>
/// ASP.NET Core Identity's store over Bidder's own database (<see cref="IAccountStore"/>): creating an account
/// creates its Bidder user in the same write, so there is one users table (SQLite) or collection (MongoDB).
/// The email is the user name. Email confirmation is not part of Bidder (no mail is sent): every email counts
/// as confirmed, and the email's uniqueness is what the database guarantees.
/// </summary>
public sealed class AccountUserStore(IAccountStore accounts) :
    IUserPasswordStore<IdentityAccount>,
    IUserEmailStore<IdentityAccount>,
    IUserLockoutStore<IdentityAccount>,
    IUserSecurityStampStore<IdentityAccount>,
    IUserRoleStore<IdentityAccount>
{
    public static readonly IdentityError DuplicateEmail = new() { Code = nameof(DuplicateEmail), Description = "An account with this email exists already." };

    public async Task<IdentityResult> CreateAsync(IdentityAccount user, CancellationToken cancellationToken)
    {
        var created = await accounts.CreateAccountAsync(user.ToAccount(), new User(user.Id, user.Name, 0, user.CreatedDate), cancellationToken);
        return created ? IdentityResult.Success : IdentityResult.Failed(DuplicateEmail);
    }

    public async Task<IdentityResult> UpdateAsync(IdentityAccount user, CancellationToken cancellationToken) =>
        await accounts.UpdateAccountAsync(user.ToAccount(), cancellationToken) ? IdentityResult.Success : IdentityResult.Failed(DuplicateEmail);

    // A Bidder user has bids and items that point at it: accounts are not deleted (a lockout disables one).
    public Task<IdentityResult> DeleteAsync(IdentityAccount user, CancellationToken cancellationToken) =>
        Task.FromResult(IdentityResult.Failed(new IdentityError { Code = "NotSupported", Description = "Accounts are not deleted." }));

    public async Task<IdentityAccount?> FindByIdAsync(string userId, CancellationToken cancellationToken) =>
        Guid.TryParse(userId, out var id) && await accounts.FindAccountByIdAsync(id, cancellationToken) is { } account
            ? IdentityAccount.From(account)
            : null;

    public Task<IdentityAccount?> FindByNameAsync(string normalizedUserName, CancellationToken cancellationToken) =>
        FindByEmailAsync(normalizedUserName, cancellationToken);

    public async Task<IdentityAccount?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken) =>
        await accounts.FindAccountByEmailAsync(normalizedEmail, cancellationToken) is { } account ? IdentityAccount.From(account) : null;

    public Task<string> GetUserIdAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult(user.Id.ToString());

    public Task<string?> GetUserNameAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.Email);

    public Task SetUserNameAsync(IdentityAccount user, string? userName, CancellationToken cancellationToken)
    {
        user.Email = userName ?? "";
        return Task.CompletedTask;
    }

    public Task<string?> GetNormalizedUserNameAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.NormalizedEmail);

    public Task SetNormalizedUserNameAsync(IdentityAccount user, string? normalizedName, CancellationToken cancellationToken)
    {
        user.NormalizedEmail = normalizedName ?? "";
        return Task.CompletedTask;
    }

    public Task SetPasswordHashAsync(IdentityAccount user, string? passwordHash, CancellationToken cancellationToken)
    {
        user.PasswordHash = passwordHash;
        return Task.CompletedTask;
    }

    public Task<string?> GetPasswordHashAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult(user.PasswordHash);

    public Task<bool> HasPasswordAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult(!string.IsNullOrEmpty(user.PasswordHash));

    public Task SetEmailAsync(IdentityAccount user, string? email, CancellationToken cancellationToken)
    {
        user.Email = email ?? "";
        return Task.CompletedTask;
    }

    public Task<string?> GetEmailAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.Email);

    public Task<bool> GetEmailConfirmedAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task SetEmailConfirmedAsync(IdentityAccount user, bool confirmed, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<string?> GetNormalizedEmailAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.NormalizedEmail);

    public Task SetNormalizedEmailAsync(IdentityAccount user, string? normalizedEmail, CancellationToken cancellationToken)
    {
        user.NormalizedEmail = normalizedEmail ?? "";
        return Task.CompletedTask;
    }

    public Task<DateTimeOffset?> GetLockoutEndDateAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult(user.LockoutEnd);

    public Task SetLockoutEndDateAsync(IdentityAccount user, DateTimeOffset? lockoutEnd, CancellationToken cancellationToken)
    {
        user.LockoutEnd = lockoutEnd;
        return Task.CompletedTask;
    }

    public Task<int> IncrementAccessFailedCountAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult(++user.AccessFailedCount);

    public Task ResetAccessFailedCountAsync(IdentityAccount user, CancellationToken cancellationToken)
    {
        user.AccessFailedCount = 0;
        return Task.CompletedTask;
    }

    public Task<int> GetAccessFailedCountAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult(user.AccessFailedCount);

    // Every account can be locked out: it is how password guessing is stopped.
    public Task<bool> GetLockoutEnabledAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task SetLockoutEnabledAsync(IdentityAccount user, bool enabled, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task SetSecurityStampAsync(IdentityAccount user, string stamp, CancellationToken cancellationToken)
    {
        user.SecurityStamp = stamp;
        return Task.CompletedTask;
    }

    public Task<string?> GetSecurityStampAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.SecurityStamp);

    public Task AddToRoleAsync(IdentityAccount user, string roleName, CancellationToken cancellationToken)
    {
        var role = RoleName(roleName);
        if (!user.Roles.Contains(role, StringComparer.Ordinal))
        {
            user.Roles.Add(role);
        }

        return Task.CompletedTask;
    }

    public Task RemoveFromRoleAsync(IdentityAccount user, string roleName, CancellationToken cancellationToken)
    {
        user.Roles.Remove(RoleName(roleName));
        return Task.CompletedTask;
    }

    public Task<IList<string>> GetRolesAsync(IdentityAccount user, CancellationToken cancellationToken) => Task.FromResult<IList<string>>([.. user.Roles]);

    public Task<bool> IsInRoleAsync(IdentityAccount user, string roleName, CancellationToken cancellationToken) =>
        Task.FromResult(user.Roles.Contains(RoleName(roleName), StringComparer.Ordinal));

    // No query lists the accounts of a role: nothing in Bidder needs it, and it would need an index on roles.
    public Task<IList<IdentityAccount>> GetUsersInRoleAsync(string roleName, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Accounts are not listed by role.");

    public void Dispose()
    {
    }

    // UserManager passes roles normalized (upper case); Bidder's roles are the lower-case names of BidderRoles.
    private static string RoleName(string roleName) => roleName.ToLowerInvariant();
}
