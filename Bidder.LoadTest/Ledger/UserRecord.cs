namespace Bidder.LoadTest.Ledger;

/// <summary>
/// A user the tool registered: its id (the Bidder user id), its credentials (a random password, kept in memory
/// only) and its current access token, which <see cref="Scenarios.SignIns"/> keeps fresh. The token is published
/// whole, so that a request never reads one token's header with another's renewal time.
/// </summary>
internal sealed class UserRecord(Guid id, string email, string password)
{
    private UserToken _token = UserToken.None;
    private int _renewing;

    public Guid Id { get; } = id;

    public string Email { get; } = email;

    public string Password { get; } = password;

    public UserToken Token => Volatile.Read(ref _token);

    public void Publish(UserToken token) => Volatile.Write(ref _token, token);

    /// <summary>One renewal per user at a time: whoever gets true does it, the others go on with the current token.</summary>
    public bool TryBeginRenewal() => Interlocked.CompareExchange(ref _renewing, 1, 0) == 0;

    public void EndRenewal() => Volatile.Write(ref _renewing, 0);
}

/// <param name="Authorization">The whole header value, <c>Bearer</c> and the access token, made once per token rather than per request.</param>
/// <param name="RenewAt">The <see cref="System.Diagnostics.Stopwatch"/> timestamp from which the token is to be renewed.</param>
internal sealed record UserToken(string Authorization, string? RefreshToken, long RenewAt)
{
    /// <summary>Not signed in yet: due for renewal at once, so that the first use signs the user in.</summary>
    public static readonly UserToken None = new("Bearer", null, 0);
}
