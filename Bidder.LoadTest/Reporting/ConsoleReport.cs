using Bidder.LoadTest.Checking;
using Bidder.LoadTest.Running;
using Spectre.Console;

namespace Bidder.LoadTest.Reporting;

/// <summary>The summary printed at the end: the load per request kind, the errors, and the check's PASS or FAIL.</summary>
internal static class ConsoleReport
{
    public static void Write(RunReport report)
    {
        var load = report.Load;
        var target = load.TargetRate is { } rate ? $"target {rate:0.#}/s" : "closed loop";
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLine(
            $"[bold]Load[/]: {load.Requests:N0} requests in {load.Seconds:0.0} s = [bold]{load.Throughput:N1} req/s[/] ({target}), " +
            $"{(load.Errors == 0 ? "no errors" : $"[red]{load.Errors:N0} errors[/]")}{(load.RateLimited == 0 ? "" : $", [yellow]{load.RateLimited:N0} rate-limited (429)[/]")}" +
            $"{(load.StoppedEarly ? " [yellow](stopped early with Ctrl+C)[/]" : "")}");
        if (load.LateStarts > 0)
        {
            // Every worker was still waiting for an answer when these were due.
            AnsiConsole.MarkupLine($"[yellow]{load.LateStarts:N0} requests started over 100 ms late (at most {load.MaxLagMs:N0} ms): at --concurrency {report.Settings.Concurrency} the system did not keep up with the rate.[/]");
        }

        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns("kind", "route", "requests", "req/s", "errors", "429", "p50 ms", "p95 ms", "p99 ms", "max ms");
        foreach (var column in table.Columns.Skip(2))
        {
            column.RightAligned();
        }

        foreach (var kind in load.Kinds)
        {
            AddRow(table, kind.Kind, kind.Route, kind.Requests, kind.Throughput, kind.Errors, kind.RateLimited, kind.Latency);
        }

        AddRow(table, "[bold]all[/]", "", load.Requests, load.Throughput, load.Errors, load.RateLimited, load.Latency);
        AnsiConsole.Write(table);
        if (load.RateLimited > 0)
        {
            AnsiConsole.MarkupLine(
                "[yellow]429: refused by the server's rate limits (per user, per client address), not errors; their latencies are left out. See Bidder:RateLimits.[/]");
        }

        if (load.ErrorsByStatus.Count > 0)
        {
            AnsiConsole.MarkupLine($"Errors by status: [red]{Markup.Escape(string.Join(", ", load.ErrorsByStatus.Select(e => $"{e.Key} × {e.Value:N0}")))}[/]");
        }

        AnsiConsole.WriteLine();
        if (report.Check is { } check)
        {
            WriteCheck(check);
        }
        else
        {
            AnsiConsole.MarkupLine("End-state check: [grey]skipped (--no-check)[/]");
        }
    }

    /// <summary>Registering and signing in are rate limited per client address: the setup's time is mostly that wait when it is long.</summary>
    public static void WriteSetup(SetupReport setup) =>
        AnsiConsole.MarkupLine(
            $"[grey]Setup: {setup.Users:N0} users signed in, {setup.Items:N0} items in {setup.Seconds:0.0} s" +
            $"{(setup.RateLimited == 0 ? "" : $", {setup.RateLimited:N0} answers 429 waited out")}[/]");

    public static void WriteFiles(string json, string markdown) =>
        AnsiConsole.MarkupLine($"Results: [link]{Markup.Escape(json)}[/], [link]{Markup.Escape(markdown)}[/]");

    private static void WriteCheck(CheckResult check)
    {
        var verdict = check.Passed ? "[bold green]PASS[/]" : "[bold red]FAIL[/]";
        AnsiConsole.MarkupLine($"End-state check: {verdict} ({check.Seconds:0.0} s, {check.Requests:N0} requests)");
        foreach (var line in Summary(check))
        {
            AnsiConsole.MarkupLine($"  {Markup.Escape(line)}");
        }

        if (!check.Passed)
        {
            AnsiConsole.MarkupLine($"  [red]{check.DiscrepancyCount:N0} discrepancies:[/] {Markup.Escape(string.Join(", ", check.DiscrepanciesByKind.Select(d => $"{d.Key} × {d.Value:N0}")))}");
            foreach (var example in check.Examples)
            {
                AnsiConsole.MarkupLine($"  [red]-[/] {Markup.Escape(example)}");
            }
        }
    }

    /// <summary>The check's counts as sentences, shared with the Markdown report.</summary>
    public static IEnumerable<string> Summary(CheckResult check)
    {
        yield return $"{check.BidsTaken:N0} bids taken (202): {check.BidsProcessed:N0} processed, {check.BidsUnprocessed:N0} still unprocessed";
        var rejected = check.RejectedByReason.Count == 0 ? "none" : string.Join(", ", check.RejectedByReason.Select(r => $"{r.Key} {r.Value:N0}"));
        yield return $"accepted {check.Accepted:N0}; rejected: {rejected}";
        yield return $"{check.ItemsChecked:N0} items and {check.UsersChecked:N0} users checked" +
            (check.ItemsSkipped + check.UsersSkipped == 0 ? "" : $", {check.ItemsSkipped:N0} items and {check.UsersSkipped:N0} users skipped (bids unprocessed or with unknown outcome)");
        if (check.UncertainBids > 0)
        {
            yield return $"{check.UncertainBids:N0} bids got no answer even after retries; their items and users were left out";
        }
    }

    private static void AddRow(Table table, string kind, string route, long requests, double throughput, long errors, long rateLimited, LatencySummary latency) =>
        table.AddRow(
            kind, Markup.Escape(route), $"{requests:N0}", $"{throughput:N1}", errors == 0 ? "0" : $"[red]{errors:N0}[/]",
            rateLimited == 0 ? "0" : $"[yellow]{rateLimited:N0}[/]",
            $"{latency.P50Ms:0.0}", $"{latency.P95Ms:0.0}", $"{latency.P99Ms:0.0}", $"{latency.MaxMs:0.0}");
}
