using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Bidder.LoadTest.Reporting;

/// <summary>results.json for machines (CI trends, comparisons) and results.md for people (a PR comment, a wiki page).</summary>
internal static class ResultFiles
{
    public static async Task<(string Json, string Markdown)> WriteAsync(RunReport report, string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var json = Path.GetFullPath(Path.Combine(directory, "results.json"));
        var markdown = Path.GetFullPath(Path.Combine(directory, "results.md"));
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, ReportJsonContext.Default.RunReport), cancellationToken);
        await File.WriteAllTextAsync(markdown, Markdown(report), cancellationToken);
        return (json, markdown);
    }

    private static string Markdown(RunReport report)
    {
        var load = report.Load;
        var settings = report.Settings;
        var md = new StringBuilder();
        void Line(FormattableString text) => md.AppendLine(text.ToString(CultureInfo.InvariantCulture));

        Line($"# Load test {report.RunId}: {report.Verdict}");
        md.AppendLine();
        Line($"Against {report.Url} (identity {report.IdentityUrl}), started {report.StartedAt:yyyy-MM-dd HH:mm:ss} UTC.");
        md.AppendLine();
        Line($"| setting | value |");
        Line($"|---|---|");
        Line($"| duration / requests | {settings.Duration ?? "no limit"} / {(settings.Requests?.ToString(CultureInfo.InvariantCulture) ?? "no limit")} |");
        Line($"| rate | {(settings.Rate > 0 ? $"{settings.Rate:0.#}/s (open loop)" : "closed loop")} |");
        Line($"| concurrency | {settings.Concurrency} |");
        Line($"| mix | `{settings.Mix}` |");
        Line($"| setup | {report.Setup.Users} users, {report.Setup.Items} items ({report.Setup.Seconds:0.0} s, {report.Setup.RateLimited} answers 429 waited out) |");
        Line($"| seed | {settings.Seed} |");
        md.AppendLine();
        Line($"## Load");
        md.AppendLine();
        Line($"{load.Requests:N0} requests in {load.Seconds:0.0} s: **{load.Throughput:N1} req/s**, {load.Errors:N0} errors, {load.RateLimited:N0} rate-limited (429); {load.LateStarts:N0} late starts{(load.StoppedEarly ? "; stopped early with Ctrl+C" : "")}.");
        md.AppendLine();
        Line($"| kind | route | requests | req/s | errors | 429 | p50 ms | p95 ms | p99 ms | max ms |");
        Line($"|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var kind in load.Kinds)
        {
            Line($"| {kind.Kind} | `{kind.Route}` | {kind.Requests:N0} | {kind.Throughput:N1} | {kind.Errors:N0} | {kind.RateLimited:N0} | {kind.Latency.P50Ms:0.0} | {kind.Latency.P95Ms:0.0} | {kind.Latency.P99Ms:0.0} | {kind.Latency.MaxMs:0.0} |");
        }

        Line($"| **all** | | {load.Requests:N0} | {load.Throughput:N1} | {load.Errors:N0} | {load.RateLimited:N0} | {load.Latency.P50Ms:0.0} | {load.Latency.P95Ms:0.0} | {load.Latency.P99Ms:0.0} | {load.Latency.MaxMs:0.0} |");
        md.AppendLine();
        if (load.RateLimited > 0)
        {
            Line($"429: refused by the server's rate limits (per user, per client address), not errors; their latencies are left out.");
            md.AppendLine();
        }

        Line($"Errors by status: {(load.ErrorsByStatus.Count == 0 ? "none" : string.Join(", ", load.ErrorsByStatus.Select(e => $"{e.Key} × {e.Value:N0}")))}.");
        md.AppendLine();
        Line($"## End-state check");
        md.AppendLine();
        if (report.Check is not { } check)
        {
            Line($"Skipped (--no-check).");
            return md.ToString();
        }

        Line($"**{(check.Passed ? "PASS" : "FAIL")}** in {check.Seconds:0.0} s ({check.Requests:N0} requests).");
        md.AppendLine();
        foreach (var line in ConsoleReport.Summary(check))
        {
            Line($"- {line}");
        }

        if (!check.Passed)
        {
            md.AppendLine();
            Line($"{check.DiscrepancyCount:N0} discrepancies: {string.Join(", ", check.DiscrepanciesByKind.Select(d => $"{d.Key} × {d.Value:N0}"))}.");
            md.AppendLine();
            foreach (var example in check.Examples)
            {
                Line($"- {example}");
            }
        }

        return md.ToString();
    }
}
