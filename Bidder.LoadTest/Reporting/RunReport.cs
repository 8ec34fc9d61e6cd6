using System.Net;
using System.Text.Json.Serialization;
using Bidder.LoadTest.Api;
using Bidder.LoadTest.Checking;
using Bidder.LoadTest.Options;
using Bidder.LoadTest.Running;
using Bidder.LoadTest.Scenarios;

namespace Bidder.LoadTest.Reporting;

/// <summary>Everything a run found, in the shape of results.json; the console and Markdown reports render the same record.</summary>
internal sealed record RunReport(
    string RunId,
    DateTime StartedAt,
    string Url,
    string IdentityUrl,
    RunSettingsReport Settings,
    SetupReport Setup,
    LoadReport Load,
    CheckResult? Check,
    string Verdict,
    int ExitCode);

internal sealed record RunSettingsReport(
    string? Duration, long? Requests, double Rate, int Concurrency, string Mix, int Users, int Items, int Seed,
    string SettleTimeout, int CheckConcurrency, bool IdempotencyKeys);

/// <param name="RateLimited">The setup's requests answered 429, waited out and asked again.</param>
internal sealed record SetupReport(int Users, int Items, double Seconds, long RateLimited);

internal sealed record LoadReport(
    double Seconds,
    bool StoppedEarly,
    long Requests,
    long Errors,
    long RateLimited,
    double Throughput,
    double? TargetRate,
    long LateStarts,
    double MaxLagMs,
    LatencySummary Latency,
    IReadOnlyList<KindReport> Kinds,
    IReadOnlyDictionary<string, long> ErrorsByStatus,
    int UsersAtEnd,
    int ItemsAtEnd);

/// <param name="Errors">Not counting the 429s: those are <paramref name="RateLimited"/>, the server protecting itself.</param>
internal sealed record KindReport(
    string Kind, string Route, long Requests, long Errors, long RateLimited, double Throughput, LatencySummary Latency, IReadOnlyDictionary<string, long> Statuses);

internal static class RunReports
{
    public static LoadReport Load(LoadTestOptions options, RunStats stats, LoadRunner runner, TimeSpan elapsed, bool stoppedEarly, int users, int items)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
        var kinds = new List<KindReport>();
        var errorsByStatus = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var kind in RequestKinds.All)
        {
            var kindStats = stats[kind];
            if (kindStats.Requests == 0 && options.Mix.WeightOf(kind) == 0)
            {
                continue;
            }

            var statuses = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var (status, count) in kindStats.ByStatus)
            {
                statuses[ApiStatus.Describe(status)] = count;
                if (status != kind.ExpectedStatus() && status != (int)HttpStatusCode.TooManyRequests)
                {
                    var name = ApiStatus.Describe(status);
                    errorsByStatus[name] = errorsByStatus.GetValueOrDefault(name) + count;
                }
            }

            kinds.Add(new KindReport(kind.Name(), kind.Route(), kindStats.Requests, kindStats.Errors, kindStats.RateLimited, kindStats.Requests / seconds,
                kindStats.Latency.Summarize(), statuses));
        }

        return new LoadReport(
            elapsed.TotalSeconds, stoppedEarly, stats.Requests, stats.Errors, stats.RateLimited, stats.Requests / seconds, options.OpenLoop ? options.Rate : null,
            runner.LateStarts, runner.MaxLag.TotalMilliseconds, stats.AllLatency.Summarize(), kinds, errorsByStatus, users, items);
    }

    public static RunSettingsReport Settings(LoadTestOptions options) => new(
        options.Duration is { } duration ? TimeText.Format(duration) : null, options.Requests, options.Rate, options.Concurrency,
        options.Mix.ToString(), options.Users, options.Items, options.Seed, TimeText.Format(options.SettleTimeout),
        options.CheckConcurrency, options.IdempotencyKeys);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(RunReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
