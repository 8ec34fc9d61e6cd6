using System.Globalization;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// One benchmark's outcome: the ratio against its limit, the goal (none for a reference line), and the figures behind both.
/// </summary>
public sealed record BenchResult(string Name, double Ratio, string? Goal, bool GoalMet, IReadOnlyDictionary<string, double> Figures, IReadOnlyList<string> StageReports)
{
    /// <summary><c>bench &lt;name&gt; ratio=&lt;x&gt; &lt;figures&gt; goal=&lt;goal&gt; met|NOT-MET</c>, or <c>... reference</c> without a goal.</summary>
    public string Line =>
        $"bench {Name} ratio={Format(Ratio)} " +
        string.Join(" ", Figures.Select(f => $"{f.Key}={Format(f.Value)}")) +
        (Goal is null ? " reference" : $" goal={Goal} {(GoalMet ? "met" : "NOT-MET")}");

    /// <summary>A figure kept for comparison, with no goal of its own.</summary>
    public static BenchResult Reference(string name, double ratio, IReadOnlyDictionary<string, double> figures, IReadOnlyList<string> stageReports) =>
        new(name, ratio, null, false, figures, stageReports);

    private static string Format(double value) =>
        value.ToString(Math.Abs(value) >= 100 ? "0" : "0.###", CultureInfo.InvariantCulture);
}

/// <summary>A benchmark of the suite.</summary>
public interface IBenchmark
{
    string Name { get; }

    string Description { get; }

    /// <summary>The benchmarks whose figures this one's ratio is made from (an error during theirs fails it too).</summary>
    IReadOnlyList<string> Uses => [];

    Task<BenchResult> RunAsync(BenchApp app);
}

/// <summary>Sizes of a run: the full one of BENCHMARKS.md, or the quick one (under 3 minutes).</summary>
public sealed record BenchSizes(
    TimeSpan IngestWindow,
    int PipelineBids,
    int PipelineItems,
    TimeSpan FreshnessWindow,
    int SmallScaleBids,
    int SmallScaleItems,
    int LargeScaleBids,
    int LargeScaleItems)
{
    // Scale compares 1,000,000 bids over 100,000 items with 200,000 over 10,000, the pipeline benchmark's size (issue 16); the
    // smaller run was 100,000 bids, some 5 s here, too short a window for its rate to hold from run to run.
    public static readonly BenchSizes Full = new(TimeSpan.FromSeconds(20), 200_000, 10_000, TimeSpan.FromSeconds(30), 200_000, 10_000, 1_000_000, 100_000);

    public static readonly BenchSizes Quick = new(TimeSpan.FromSeconds(8), 50_000, 2_000, TimeSpan.FromSeconds(10), 20_000, 2_000, 100_000, 10_000);
}
