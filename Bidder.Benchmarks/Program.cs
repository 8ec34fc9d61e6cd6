using Bidder.Benchmarks.Benchmarks;
using Bidder.Benchmarks.Harness;

// Runs every benchmark against one started app and prints one line each: bench <name> ratio=<x> <figures>.
var options = BenchOptions.Parse(args, out var exitCode);
if (options is null)
{
    return exitCode;
}

Console.WriteLine($"Starting the AppHost ({options.Mode} mode, {(options.Quick ? "quick" : "full")} run)...");
await using var app = await BenchApp.StartAsync(options.Mode);
var results = new List<BenchResult>();
var withErrors = new HashSet<string>();
foreach (var benchmark in BenchmarkSuite.All(options).Where(b => options.Only.Count == 0 || options.Only.Contains(b.Name)))
{
    Console.WriteLine($"-- {benchmark.Name}: {benchmark.Description}");
    var result = await benchmark.RunAsync(app);
    var errors = app.TakeErrors();
    // A run in which the streamer logged an error (bids deleted unread, a batch that failed) is not a clean
    // measurement: its goal is not met, whatever its figures; nor is the goal of a line made from its figures
    // (pipeline-vs-store takes the pipeline's bids/s, which bids deleted unread would make look higher).
    if (errors.Count > 0)
    {
        withErrors.Add(benchmark.Name);
    }

    var tainted = benchmark.Uses.Where(withErrors.Contains).ToList();
    if ((errors.Count > 0 || tainted.Count > 0) && result.GoalMet)
    {
        result = result with { GoalMet = false };
    }

    results.Add(result);
    Console.WriteLine(result.Line);
    foreach (var error in errors)
    {
        Console.WriteLine($"   streamer error during {benchmark.Name}: {error.Trim()}");
    }

    foreach (var used in tainted)
    {
        Console.WriteLine($"   not met: made from the {used} run's figures, during which the streamer logged errors");
    }
}

var file = await BenchReport.WriteAsync(options, app, results);
Console.WriteLine($"Results: {file}");
return 0;
