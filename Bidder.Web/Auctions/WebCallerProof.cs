using System.Net;
using Bidder.Domain;
using Bidder.Web.Extensions;
using Microsoft.Extensions.Options;

namespace Bidder.Web.Auctions;

/// <summary>
/// Names, on each API request that goes without a token, whom it is for (the visitor whose page asked, else the web
/// app itself) and proves it with the key the API holds too (<see cref="WebCallers"/>): the API then counts an
/// anonymous visitor's reads against that visitor's address, not against this app's one address for everyone. A
/// request with a token is counted by its person already. Runs on every try of a request (retries sign again).
/// </summary>
public sealed class WebCallerProof(IOptions<WebOptions> web, TimeProvider time) : DelegatingHandler
{
    /// <summary>The visitor a request is for (<see cref="AuctionApi"/> sets it from the page's <see cref="Account.CircuitVisitor"/>).</summary>
    public static readonly HttpRequestOptionsKey<IPAddress> Visitor = new("Bidder.Web.Visitor");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Remove(WebCallers.CallerHeader);
        request.Headers.Remove(WebCallers.ProofHeader);
        if (web.Value.CallerKey is { Length: > 0 } key && request.Headers.Authorization is null)
        {
            var caller = request.Options.TryGetValue(Visitor, out var address) ? WebCallers.Visitor(address) : WebCallers.Web;
            request.Headers.TryAddWithoutValidation(WebCallers.CallerHeader, caller);
            request.Headers.TryAddWithoutValidation(WebCallers.ProofHeader, WebCallers.Proof(key, caller, time.GetUtcNow()));
        }

        return base.SendAsync(request, cancellationToken);
    }
}
