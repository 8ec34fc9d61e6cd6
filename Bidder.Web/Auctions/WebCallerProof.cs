using System.Net;
using Bidder.Domain;
using Bidder.Web.Extensions;
using Microsoft.Extensions.Options;

namespace Bidder.Web.Auctions;

/// <summary>
/// Names, on each API request that goes without a token, whom it is for (the visitor whose page asked, else the web
/// app itself) and proves it with the key the API holds too (<see cref="WebCallers"/>): the API then counts an
/// anonymous visitor's reads against that visitor's address, not against this app's one address for everyone. A
/// request with a token is counted by its person already. Runs on every try of a request (retries sign again). On the
/// way to the identity service (sign-in's code and refresh exchanges, limited per address there) likewise.
/// </summary>
public sealed class WebCallerProof(IOptions<WebOptions> web, TimeProvider time) : DelegatingHandler
{
    /// <summary>The visitor a request is for (<see cref="AuctionApi"/> sets it from the page's <see cref="Account.CircuitVisitor"/>).</summary>
    public static readonly HttpRequestOptionsKey<IPAddress> Visitor = new("Bidder.Web.Visitor");

    /// <summary>
    /// Where a request made while serving a page load takes its visitor from when it names none: the sign-in
    /// handler's own exchanges (the code, at the sign-in callback). Not for the API's client: its calls from a live
    /// page have no request of their own, and a read the pages share is nobody's.
    /// </summary>
    public IHttpContextAccessor? PageLoads { get; init; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Remove(WebCallers.CallerHeader);
        request.Headers.Remove(WebCallers.ProofHeader);
        if (web.Value.CallerKey is { Length: > 0 } key && request.Headers.Authorization is null)
        {
            var visitor = request.Options.TryGetValue(Visitor, out var named) ? named : PageLoads?.HttpContext?.Connection.RemoteIpAddress;
            var caller = visitor is null ? WebCallers.Web : WebCallers.Visitor(visitor);
            request.Headers.TryAddWithoutValidation(WebCallers.CallerHeader, caller);
            request.Headers.TryAddWithoutValidation(WebCallers.ProofHeader, WebCallers.Proof(key, caller, time.GetUtcNow()));
        }

        return base.SendAsync(request, cancellationToken);
    }
}
