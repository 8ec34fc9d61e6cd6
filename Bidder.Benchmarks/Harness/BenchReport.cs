using System.Text.Json;

namespace Bidder.Benchmarks.Harness;

/// <summary>Writes a run's results as JSON, with when, where and how it ran, for BENCHMARKS.md.</summary>
public static class BenchReport
{
    public static async Task<string> WriteAsync(BenchOptions options, BenchApp app, IReadOnlyList<BenchResult> results)
    {
        Directory.CreateDirectory(options.Output);
        var file = Path.Combine(options.Output, $"bench-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}.json");
        var report = new
        {
            date = DateTimeOffset.UtcNow,
            machine = $"{Environment.MachineName}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            mode = app.Mode,
            run = options.Quick ? "quick" : "full",
            peak_memory_mb = app.PeakMemoryMegabytes(),
            results = results.Select(r => new
            {
                name = r.Name,
                ratio = Number(r.Ratio),
                goal = r.Goal,
                goal_met = r.Goal is null ? (bool?)null : r.GoalMet,
                figures = r.Figures.ToDictionary(f => f.Key, f => Number(f.Value)),
                stage_reports = r.StageReports,
                line = r.Line,
            }),
        };
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        return file;
    }

    // A figure a run could not take is NaN (the minimal writer's in containers mode): null in JSON, which has no NaN.
    private static double? Number(double value) => double.IsFinite(value) ? value : null;
}
