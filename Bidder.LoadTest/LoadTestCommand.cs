using System.Diagnostics;
using System.Net;
using Bidder.LoadTest.Api;
using Bidder.LoadTest.Checking;
using Bidder.LoadTest.Ledger;
using Bidder.LoadTest.Options;
using Bidder.LoadTest.Reporting;
using Bidder.LoadTest.Running;
using Bidder.LoadTest.Scenarios;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Bidder.LoadTest;

/// <summary>
/// One run, in four phases: set up users (registered and signed in at the identity service) and items, send the
/// load (with its live display), wait for the bids and check the end state, then report to the console and to
/// results.json and results.md.
/// </summary>
internal sealed class LoadTestCommand : AsyncCommand<LoadTestSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, LoadTestSettings settings, CancellationToken cancellationToken)
    {
        // Spectre has already validated the settings (LoadTestSettings.Validate), so this cannot fail.
        LoadTestOptions.TryCreate(settings, out var options, out _);
        var runId = Guid.NewGuid().ToString("N")[..8];
        var interactive = LiveProgress.IsInteractive(options);
        using var signals = new StopSignals(cancellationToken);
        var connections = Math.Max(options.Concurrency, options.CheckConcurrency);
        using var api = new BidderClient(options.Url, connections, options.Timeout);
        using var identity = new IdentityClient(options.IdentityUrl, connections, options.Timeout);

        WriteHeader(options, runId);
        try
        {
            return (int)await RunAsync(options, runId, interactive, api, identity, signals);
        }
        catch (OperationCanceledException) when (signals.Abort.IsCancellationRequested)
        {
            AnsiConsole.MarkupLine("[yellow]Aborted: no check, no results written.[/]");
            return (int)ExitCode.Interrupted;
        }
    }

    private static async Task<ExitCode> RunAsync(
        LoadTestOptions options, string runId, bool interactive, BidderClient api, IdentityClient identity, StopSignals signals)
    {
        var startedAt = DateTime.UtcNow;
        var probe = await api.GetAsync("/items/?limit=1", null, signals.Abort);
        if (probe.Status != (int)HttpStatusCode.OK)
        {
            AnsiConsole.MarkupLine($"[red]The Bidder API at {Markup.Escape(options.Url.ToString())} did not answer GET /items/ ({ApiStatus.Describe(probe.Status)}). Is it running? Start it with: dotnet run --project Bidder.AppHost[/]");
            return ExitCode.RunFailed;
        }

        var discovery = await identity.DiscoverAsync(signals.Abort);
        if (discovery.Status != (int)HttpStatusCode.OK)
        {
            AnsiConsole.MarkupLine($"[red]The identity service at {Markup.Escape(options.IdentityUrl.ToString())} did not answer GET /.well-known/openid-configuration ({ApiStatus.Describe(discovery.Status)}). The API takes its tokens: give its URL with --identity-url.[/]");
            return ExitCode.RunFailed;
        }

        var ledger = new RunLedger();
        var signIns = new SignIns(identity, signals.Abort);
        var setupStarted = Stopwatch.GetTimestamp();
        var setupTotal = options.Users + options.Items;
        var setupRun = new Setup(api, identity, signIns, ledger, options, runId);
        var setupFailure = await PhaseStatus.RunAsync(interactive, $"Registering {options.Users:N0} users, then creating {options.Items:N0} items", status =>
            setupRun.RunAsync(
                new Reporter<int>(done => status.Report($"Registering users and creating items: {done:N0} of {setupTotal:N0}")), signals.Abort));
        if (setupFailure is not null)
        {
            AnsiConsole.MarkupLine($"[red]Setup failed: {Markup.Escape(setupFailure)}[/]");
            return ExitCode.RunFailed;
        }

        var setup = new SetupReport(options.Users, options.Items, Stopwatch.GetElapsedTime(setupStarted).TotalSeconds, setupRun.RateLimited);
        ConsoleReport.WriteSetup(setup);

        var stats = new RunStats();
        var runner = new LoadRunner(options, new Workload(api, identity, signIns, ledger, stats, options, runId));
        // Token requests while the load runs are load too (a new user's sign-in, renewals); the check's are not.
        signIns.CountIn(stats);
        var run = runner.RunAsync(signals.Stop, signals.Abort);
        await new LiveProgress(options, stats, runner).ShowUntilAsync(run);
        var elapsed = await run;
        signIns.CountIn(null);
        var load = RunReports.Load(options, stats, runner, elapsed, signals.Stop.IsCancellationRequested, ledger.Users.Count, ledger.Items.Count);

        CheckResult? check = null;
        if (options.Check)
        {
            check = await PhaseStatus.RunAsync(interactive, "Checking the end state", status =>
                new EndStateChecker(api, signIns, ledger, options).RunAsync(status, signals.Abort));
        }

        var exitCode = check is { Passed: false } ? ExitCode.CheckFailed : ExitCode.Passed;
        var verdict = check is null ? "load only (no check)" : check.Passed ? "PASS" : "FAIL";
        var report = new RunReport(
            runId, startedAt, options.Url.ToString(), options.IdentityUrl.ToString(), RunReports.Settings(options), setup, load, check, verdict, (int)exitCode);
        ConsoleReport.Write(report);
        var (json, markdown) = await ResultFiles.WriteAsync(report, options.Output, CancellationToken.None);
        ConsoleReport.WriteFiles(json, markdown);
        return exitCode;
    }

    private static void WriteHeader(LoadTestOptions options, string runId)
    {
        var limit = (options.Duration, options.Requests) switch
        {
            ({ } duration, { } requests) => $"{TimeText.Format(duration)} or {requests:N0} requests",
            ({ } duration, null) => TimeText.Format(duration),
            _ => $"{options.Requests:N0} requests",
        };
        var rate = options.OpenLoop ? $"{options.Rate:0.#} req/s" : "closed loop";
        AnsiConsole.MarkupLine(
            $"[bold]Bidder load test[/] {runId} on {Markup.Escape(options.Url.ToString())} (identity {Markup.Escape(options.IdentityUrl.ToString())}): {limit}, {rate}, concurrency {options.Concurrency}, seed {options.Seed}");
        AnsiConsole.MarkupLine($"[grey]mix {Markup.Escape(options.Mix.ToString())}; setup {options.Users:N0} users, {options.Items:N0} items[/]");
    }
}
