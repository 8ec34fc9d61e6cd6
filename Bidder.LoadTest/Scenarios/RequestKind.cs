namespace Bidder.LoadTest.Scenarios;

/// <summary>What one request of the load does; each kind is a scenario of the mix and a row of the report.</summary>
internal enum RequestKind
{
    Bid,
    ReadItem,
    ReadBids,
    ListItems,
    ReadUser,
    CreateUser,
    CreateItem,
}

internal static class RequestKinds
{
    public static readonly RequestKind[] All = Enum.GetValues<RequestKind>();

    private static readonly string[] Names = ["bid", "read-item", "read-bids", "list-items", "read-user", "create-user", "create-item"];

    private static readonly string[] Routes =
        ["POST /events/", "GET /items/{id}", "GET /items/{id}/bids", "GET /items/", "GET /users/{id}/bids", "POST /users/", "POST /items/"];

    /// <summary>The name used by --mix and in the reports.</summary>
    public static string Name(this RequestKind kind) => Names[(int)kind];

    public static string Route(this RequestKind kind) => Routes[(int)kind];

    /// <summary>The status of a success; anything else counts as an error.</summary>
    public static int ExpectedStatus(this RequestKind kind) => kind switch
    {
        RequestKind.Bid => 202,
        RequestKind.CreateUser or RequestKind.CreateItem => 201,
        _ => 200,
    };

    public static bool TryParse(string name, out RequestKind kind)
    {
        var index = Array.IndexOf(Names, name.Trim().ToLowerInvariant());
        kind = index < 0 ? default : (RequestKind)index;
        return index >= 0;
    }

    public static string AllNames => string.Join(", ", Names);
}
