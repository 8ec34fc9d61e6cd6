namespace Bidder.Domain;

/// <summary>
/// The sign-in credentials of a bidder, as the identity service keeps them: its id is the
/// <see cref="User"/>'s id, so a signed-in person bids as that user. <see cref="Email"/> is kept as the
/// person typed it; <see cref="NormalizedEmail"/> (ASP.NET Core Identity's normalizer upper-cases it) is the
/// unique lookup key. <see cref="PasswordHash"/> is ASP.NET Core Identity's <c>PasswordHasher</c> output, and
/// <see cref="SecurityStamp"/> changes whenever the credentials do, which invalidates issued sessions.
/// Dates are stored at millisecond precision.
/// </summary>
public sealed record Account(
    Guid UserId,
    string Email,
    string NormalizedEmail,
    string PasswordHash,
    string SecurityStamp,
    int AccessFailedCount,
    DateTimeOffset? LockoutEnd,
    IReadOnlyList<string> Roles,
    DateTimeOffset CreatedDate);
