using System.Text;
using Bidder.Benchmarks.Harness;

namespace Bidder.Benchmarks.Benchmarks;

/// <summary>
/// POST /events/ bids/s at saturation, counting only 202s (each one in Kafka: checked against the topic's
/// watermarks), against requests/s of the API's no-op POST route with the same client and bodies.
/// </summary>
public sealed class IngestBenchmark(BenchSizes sizes) : IBenchmark
{
    public string Name => BenchmarkNames.Ingest;

    public string Description => $"POST /events/ vs a no-op POST, {HttpLoad.Concurrency} clients, {sizes.IngestWindow.TotalSeconds} s each";

    public async Task<BenchResult> RunAsync(BenchApp app)
    {
        var users = await Seeder.UsersAsync(app.Http, 50, "ingest");
        var items = await Seeder.ItemsAsync(app.Http, 200, "ingest");
        string Body(long n) =>
            $$"""{"item_id": "{{items[(int)(n % items.Count)].Id}}", "user_id": "{{users[(int)(n % users.Count)]}}", "value": {{20 + n / items.Count}}}""";

        var noop = await HttpLoad.RunAsync(n => PostAsync(app.Http, "/benchmark/noop", Body(n)), sizes.IngestWindow);
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(5));

        var before = app.EndOffsets(BenchApp.BidsTopic).Values.Sum();
        var ingest = await HttpLoad.RunAsync(n => PostAsync(app.Http, "/events/", Body(n)), sizes.IngestWindow);
        var inKafka = app.EndOffsets(BenchApp.BidsTopic).Values.Sum() - before;
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(5));

        var ratio = ingest.PerSecond / noop.PerSecond;
        return new BenchResult(Name, ratio, ">=0.5", ratio >= 0.5, new Dictionary<string, double>
        {
            ["bids_per_s"] = ingest.PerSecond,
            ["noop_per_s"] = noop.PerSecond,
            ["errors"] = ingest.Failed + noop.Failed,
            // Every 202 (warm-up and window) is on the topic: the topic grew by at least the counted 202s.
            ["in_kafka_ok"] = inKafka >= ingest.Succeeded ? 1 : 0,
        }, app.TakeStageReports());
    }

    private static async Task<bool> PostAsync(HttpClient http, string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(path, content);
        return (int)response.StatusCode == 202;
    }
}
