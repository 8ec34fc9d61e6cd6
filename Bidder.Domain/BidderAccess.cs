namespace Bidder.Domain;

/// <summary>
/// What the identity service puts in a token and the API checks: one declaration, read by both, so the two can
/// never disagree on a name.
/// </summary>
public static class BidderAccess
{
    /// <summary>The audience of the API's access tokens.</summary>
    public const string ApiAudience = "bidder-api";

    /// <summary>The scope a client asks for to get a token for the API.</summary>
    public const string ApiScope = "bidder.api";

    /// <summary>Reads every user and bid, and creates users on the original system's route.</summary>
    public const string AdminRole = "admin";
}
