using System.Net;

namespace Bidder.Web.Account;

/// <summary>
/// Where the person of one live page (a Blazor circuit) connects from: taken when the page's connection opens, the
/// only moment the circuit sees an HTTP request (behind a proxy, the forwarded address). The page's anonymous API
/// calls go out in this person's name (<see cref="Auctions.WebCallerProof"/>).
/// </summary>
public sealed class CircuitVisitor
{
    public IPAddress? Address { get; set; }
}
