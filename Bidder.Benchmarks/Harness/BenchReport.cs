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
            results = results.Select(r => new { name = r.Name, ratio = r.Ratio, goal = r.Goal, goal_met = r.Goal is null ? (bool?)null : r.GoalMet, figures = r.Figures, stage_reports = r.StageReports, line = r.Line }),
        };
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(report, new JsonSerializerOptions
        {
            WriteIndented = true,
            // A figure a run could not take is NaN (the minimal writer in containers mode).
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        }));
        return file;
    }
}
