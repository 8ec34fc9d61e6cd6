using Bidder.Domain;

namespace Bidder.Core.Storage;

/// <summary>
/// Accounts, the sign-in credentials of users, as the identity service reads and writes them: a port of its
/// own, cut for that one client. An account's id is its <see cref="User"/>'s id. Implementations throw
/// <see cref="StorageUnavailableException"/> and <see cref="StorageConfigurationException"/> as the
/// <see cref="IBidderStore"/> does.
/// </summary>
public interface IAccountStore
{
    /// <summary>
    /// Creates the accounts table or collection and its unique index on the normalized e-mail; idempotent and
    /// safe from several processes at once. Runs after <see cref="IBidderStore.InitializeAsync"/>: an account is
    /// created together with its user.
    /// </summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Creates the account and its user (the same id, no bids). False, with nothing written, when another
    /// account holds the normalized e-mail; of several creates racing for one e-mail exactly one succeeds.
    /// SQLite writes both in one transaction. MongoDB (no multi-document transactions on a standalone server)
    /// writes the account first: a process that dies between the two writes leaves an account whose user is
    /// missing, so a caller that finds an account without its user (<see cref="IAuctionStore.GetUserAsync"/>
    /// is null) creates that user (<see cref="IAuctionStore.CreateUserAsync"/>, the account's id, no bids).
    /// </summary>
    Task<bool> CreateAccountAsync(Account account, User user, CancellationToken cancellationToken);

    Task<Account?> FindAccountByIdAsync(Guid userId, CancellationToken cancellationToken);

    Task<Account?> FindAccountByEmailAsync(string normalizedEmail, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the account's mutable fields (e-mail, normalized e-mail, password hash, security stamp, failed
    /// count, lockout end, roles; never its id or creation date). False when there is no such account, or when
    /// another account holds the new normalized e-mail (then nothing changes).
    /// </summary>
    Task<bool> UpdateAccountAsync(Account account, CancellationToken cancellationToken);
}

/// <summary>What every adapter checks of the pair it is asked to create, before writing anything.</summary>
internal static class NewAccount
{
    public static void Check(Account account, User user)
    {
        if (account.UserId != user.Id)
        {
            throw new ArgumentException($"An account's id is its user's id: account {account.UserId}, user {user.Id}.", nameof(user));
        }

        if (user.Bids != 0)
        {
            throw new ArgumentException("A user created with its account has no bids yet.", nameof(user));
        }
    }
}
