using System.Globalization;
using Bidder.LoadTest.Options;
using Bidder.LoadTest.Scenarios;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Bidder.LoadTest.Running;

/// <summary>
/// Shows the load while it runs: a live table on a terminal, or a plain line every few seconds when the output
/// is redirected (CI logs, files), where redrawing would only add noise. Rates and percentiles are those of
/// the last interval, so that a change in the system shows at once instead of being averaged away.
/// </summary>
internal sealed class LiveProgress(LoadTestOptions options, RunStats stats, LoadRunner runner)
{
    private static readonly TimeSpan LiveInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    private long[] _previousCounts = new long[LatencyHistogram.BucketCount];
    private long _previousRequests;
    private long _previousErrors;
    private TimeSpan _previousElapsed;

    public static bool IsInteractive(LoadTestOptions options) =>
        !options.Plain && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public async Task ShowUntilAsync(Task run)
    {
        if (IsInteractive(options))
        {
            await AnsiConsole.Live(Render(Sample())).AutoClear(false).StartAsync(async context =>
            {
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(LiveInterval));
                    context.UpdateTarget(Render(run.IsCompleted ? WholeRun() : Sample()));
                }
            });
        }
        else
        {
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(PlainInterval));
                if (!run.IsCompleted)
                {
                    AnsiConsole.WriteLine(Line(Sample()));
                }
            }
        }

        await run;
    }

    private readonly record struct Snapshot(
        TimeSpan Elapsed, long Requests, long Errors, long RateLimited, double Rate, double ErrorRate, LatencySummary Latency, long InFlight);

    private Snapshot Sample()
    {
        var elapsed = runner.Elapsed;
        var requests = stats.Requests;
        var errors = stats.Errors;
        var counts = stats.AllLatency.Snapshot();
        var seconds = Math.Max((elapsed - _previousElapsed).TotalSeconds, 0.001);
        var sample = new Snapshot(
            elapsed, requests, errors, stats.RateLimited,
            (requests - _previousRequests) / seconds, (errors - _previousErrors) / seconds,
            LatencyHistogram.Between(_previousCounts, counts), runner.InFlight);
        (_previousCounts, _previousRequests, _previousErrors, _previousElapsed) = (counts, requests, errors, elapsed);
        return sample;
    }

    /// <summary>The last frame stays on screen: it shows the whole run, not the last (partial) interval.</summary>
    private Snapshot WholeRun()
    {
        var elapsed = runner.Elapsed;
        var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
        return new Snapshot(elapsed, stats.Requests, stats.Errors, stats.RateLimited, stats.Requests / seconds, stats.Errors / seconds, stats.AllLatency.Summarize(), 0);
    }

    private string Line(Snapshot s) => string.Create(CultureInfo.InvariantCulture,
        $"[{s.Elapsed.TotalSeconds,5:0}s] requests {s.Requests,9}  rate {s.Rate,7:0.0}/s  errors {s.Errors,6}  429 {s.RateLimited,6}  " +
        $"p50 {s.Latency.P50Ms,7:0.0} ms  p95 {s.Latency.P95Ms,7:0.0} ms  p99 {s.Latency.P99Ms,7:0.0} ms  in flight {s.InFlight}{Progress(s)}");

    private string Progress(Snapshot s) => options.Duration is { } duration
        ? string.Create(CultureInfo.InvariantCulture, $"  ({Math.Min(100, s.Elapsed / duration * 100):0}% of {TimeText.Format(duration)})")
        : string.Create(CultureInfo.InvariantCulture, $"  ({Math.Min(100, 100.0 * s.Requests / options.Requests!.Value):0}% of {options.Requests} requests)");

    private IRenderable Render(Snapshot s)
    {
        var target = options.OpenLoop ? string.Create(CultureInfo.InvariantCulture, $"{options.Rate:0.#}/s") : "closed loop";
        var summary = new Grid().AddColumns(7);
        summary.AddRow(
            Metric("elapsed", $"{s.Elapsed.TotalSeconds:0}s"),
            Metric("requests", $"{s.Requests:N0}"),
            Metric("rate", $"{s.Rate:N0}/s [grey](target {target})[/]"),
            Metric("errors", s.Errors == 0 ? "0" : $"[red]{s.Errors:N0}[/] [grey]({s.ErrorRate:N0}/s)[/]"),
            Metric("rate limited (429)", s.RateLimited == 0 ? "0" : $"[yellow]{s.RateLimited:N0}[/]"),
            Metric("p50 / p95 / p99", $"{s.Latency.P50Ms:0.0} / {s.Latency.P95Ms:0.0} / {s.Latency.P99Ms:0.0} ms"),
            Metric("in flight", $"{s.InFlight}"));

        var table = new Table().Border(TableBorder.Simple);
        table.AddColumns("kind", "requests", "errors", "429", "p50 ms", "p95 ms", "p99 ms", "max ms");
        // The sign-ins are in no mix: they show once there are some.
        foreach (var kind in RequestKinds.All.Where(k => options.Mix.WeightOf(k) > 0 || stats[k].Requests > 0))
        {
            var kindStats = stats[kind];
            var latency = kindStats.Latency.Summarize();
            table.AddRow(
                kind.Name(), $"{kindStats.Requests:N0}", kindStats.Errors == 0 ? "0" : $"[red]{kindStats.Errors:N0}[/]",
                kindStats.RateLimited == 0 ? "0" : $"[yellow]{kindStats.RateLimited:N0}[/]",
                $"{latency.P50Ms:0.0}", $"{latency.P95Ms:0.0}", $"{latency.P99Ms:0.0}", $"{latency.MaxMs:0.0}");
        }

        var fraction = options.Duration is { } duration
            ? s.Elapsed / duration
            : (double)s.Requests / options.Requests!.Value;
        var bar = new BreakdownChart().HideTags().Width(60)
            .AddItem("done", Math.Clamp(fraction, 0, 1) * 100, Color.Green)
            .AddItem("left", (1 - Math.Clamp(fraction, 0, 1)) * 100, Color.Grey23);

        return new Rows(
            new Markup($"[bold]Load[/] on {Markup.Escape(options.Url.ToString())}{Markup.Escape(Progress(s))}"),
            bar,
            summary,
            table);
    }

    private static Markup Metric(string name, string value) => new($"[grey]{name}[/]\n[bold]{value}[/]");
}
