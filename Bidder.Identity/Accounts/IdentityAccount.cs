using Bidder.Domain;

namespace Bidder.Identity.Accounts;

/// <summary>
/// An account as ASP.NET Core Identity's <c>UserManager</c> works on it: a mutable object it changes through
/// the store's setters and then saves. The account id is the Bidder user id; the email is the user name.
/// </summary>
public sealed class IdentityAccount
{
    public Guid Id { get; init; }

    /// <summary>The Bidder user's display name, written once with the account.</summary>
    public string Name { get; init; } = "";

    public string Email { get; set; } = "";

    public string NormalizedEmail { get; set; } = "";

    public string? PasswordHash { get; set; }

    public string SecurityStamp { get; set; } = Guid.NewGuid().ToString("N");

    public int AccessFailedCount { get; set; }

    public DateTimeOffset? LockoutEnd { get; set; }

    public List<string> Roles { get; init; } = [];

    public DateTimeOffset CreatedDate { get; init; }

    public Account ToAccount() => new(Id, Email, NormalizedEmail, PasswordHash ?? "", SecurityStamp, AccessFailedCount, LockoutEnd, [.. Roles], CreatedDate);

    public static IdentityAccount From(Account account) => new()
    {
        Id = account.UserId,
        Email = account.Email,
        NormalizedEmail = account.NormalizedEmail,
        PasswordHash = account.PasswordHash,
        SecurityStamp = account.SecurityStamp,
        AccessFailedCount = account.AccessFailedCount,
        LockoutEnd = account.LockoutEnd,
        Roles = [.. account.Roles],
        CreatedDate = account.CreatedDate,
    };
}

/// <summary>The roles an account can hold.</summary>
public static class BidderRoles
{
    /// <summary>Reads every user and bid, and creates users on the original system's route (the API's admin policy).</summary>
    public const string Admin = BidderAccess.AdminRole;
}
