using System.Net;
using Bidder.Domain;
using Bidder.Web.Extensions;
using Microsoft.Extensions.Options;

namespace Bidder.Web.Auctions;

/// <summary>
/// Names, on a request to the API or the identity service, whom it is for, and proves it with the key they hold too
/// (<see cref="WebCallers"/>): a page's read names its visitor, so the API counts an anonymous one against that
/// visitor's address rather than this app's one address for everyone (one with a valid token is counted by its person
/// whatever it names); a read this app shares between its pages names the app itself. A request that says neither (a
/// page whose visitor is not known) names nobody and is counted by this app's address. Runs on every try of a request
/// (retries sign again). On the way to the identity service (sign-in's code and refresh exchanges, limited per address
/// there) likewise.
/// </summary>
public sealed class WebCallerProof(IOptions<WebOptions> web, TimeProvider time) : DelegatingHandler
{
    /// <summary>The visitor a request is for (<see cref="AuctionApi"/> sets it from the page's <see cref="Account.CircuitVisitor"/>).</summary>
    public static readonly HttpRequestOptionsKey<IPAddress> Visitor = new("Bidder.Web.Visitor");

    /// <summary>A read of this app's own, shared by its pages (<see cref="SharedReads"/>, the live stream): counted in the app's own bucket.</summary>
    public static readonly HttpRequestOptionsKey<bool> OwnRead = new("Bidder.Web.OwnRead");

    /// <summary>
    /// Where a request made while serving a page load takes its visitor from when it names none: the sign-in
    /// handler's own exchanges (the code, at the sign-in callback). Not for the API's client: its calls from a live
    /// page have no request of their own.
    /// </summary>
    public IHttpContextAccessor? PageLoads { get; init; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Remove(WebCallers.CallerHeader);
        request.Headers.Remove(WebCallers.ProofHeader);
        if (web.Value.CallerKey is { Length: > 0 } key && CallerOf(request) is { } caller)
        {
            request.Headers.TryAddWithoutValidation(WebCallers.CallerHeader, caller);
            request.Headers.TryAddWithoutValidation(WebCallers.ProofHeader, WebCallers.Proof(key, caller, time.GetUtcNow()));
        }

        return base.SendAsync(request, cancellationToken);
    }

    private string? CallerOf(HttpRequestMessage request) =>
        request.Options.TryGetValue(Visitor, out var visitor) ? WebCallers.Visitor(visitor)
        : request.Options.TryGetValue(OwnRead, out var own) && own ? WebCallers.Web
        : PageLoads?.HttpContext?.Connection.RemoteIpAddress is { } loading ? WebCallers.Visitor(loading)
        : null;
}
