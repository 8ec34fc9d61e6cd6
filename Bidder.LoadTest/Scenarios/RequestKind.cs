namespace Bidder.LoadTest.Scenarios;

/// <summary>What one request of the load does; each kind is a scenario of the mix and a row of the report.</summary>
internal enum RequestKind
{
    Bid,
    ReadItem,
    ReadBids,
    ListItems,
    ReadUser,
    Register,
    CreateItem,

    /// <summary>Not in the mix: the token requests the run makes meanwhile (a registered user's sign-in, renewals), counted as load too.</summary>
    SignIn,
}

internal static class RequestKinds
{
    public static readonly RequestKind[] All = Enum.GetValues<RequestKind>();

    /// <summary>The kinds --mix may weigh.</summary>
    public static readonly RequestKind[] Mixable = [.. All.Where(k => k != RequestKind.SignIn)];

    private static readonly string[] Names = ["bid", "read-item", "read-bids", "list-items", "read-user", "register", "create-item", "sign-in"];

    // Register and SignIn are the identity service's (--identity-url), the rest the API's (--url).
    private static readonly string[] Routes =
    [
        "POST /events/", "GET /items/{id}", "GET /items/{id}/bids", "GET /items/", "GET /users/{id}/bids", "POST /account/register", "POST /items/",
        "POST /connect/token",
    ];

    /// <summary>Names --mix still takes from before the tool signed in: creating a user is now registering one.</summary>
    private static readonly Dictionary<string, RequestKind> Aliases = new(StringComparer.Ordinal) { ["create-user"] = RequestKind.Register };

    /// <summary>The name used by --mix and in the reports.</summary>
    public static string Name(this RequestKind kind) => Names[(int)kind];

    public static string Route(this RequestKind kind) => Routes[(int)kind];

    /// <summary>The status of a success; anything else counts as an error, except a 429, which is counted on its own.</summary>
    public static int ExpectedStatus(this RequestKind kind) => kind switch
    {
        RequestKind.Bid => 202,
        RequestKind.Register or RequestKind.CreateItem => 201,
        _ => 200,
    };

    /// <summary>A kind of the mix, by its name or an alias.</summary>
    public static bool TryParse(string name, out RequestKind kind)
    {
        name = name.Trim().ToLowerInvariant();
        var index = Array.IndexOf(Names, name);
        if (index >= 0 && Mixable.Contains((RequestKind)index))
        {
            kind = (RequestKind)index;
            return true;
        }

        return Aliases.TryGetValue(name, out kind);
    }

    public static string AllNames => string.Join(", ", Mixable.Select(Name));
}
