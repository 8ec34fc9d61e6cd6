namespace Bidder.Api.Apis;

/// <summary>
/// The yardstick of the ingest benchmark (BENCHMARKS.md): a POST that reads the body and answers 202 without
/// validating, storing or producing anything. Bids/s of POST /events/ are compared with requests/s of this
/// route on the same server with the same client, so the ratio shows what the bid path costs over bare HTTP.
/// Signed in like a bid, so both sides pay for token validation. Mapped only when
/// <c>Bidder:Benchmark:NoopEndpoint</c> is true; never in a normal deployment.
/// </summary>
public static class BenchmarkApi
{
    public const string NoopEndpointSetting = "Bidder:Benchmark:NoopEndpoint";

    public static IEndpointRouteBuilder MapBenchmarkApi(this WebApplication app)
    {
        if (app.Configuration.GetValue<bool>(NoopEndpointSetting))
        {
            app.MapPost("/benchmark/noop", async (HttpRequest request) =>
            {
                await request.Body.CopyToAsync(Stream.Null);
                return Results.StatusCode(StatusCodes.Status202Accepted);
            }).RequireAuthorization().ExcludeFromDescription();
        }

        return app;
    }
}
