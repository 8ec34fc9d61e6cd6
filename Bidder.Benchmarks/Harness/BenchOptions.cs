namespace Bidder.Benchmarks.Harness;

/// <summary>The command line: <c>[--quick] [--mode embedded|containers] [--only name,...] [--output folder]</c>.</summary>
public sealed record BenchOptions(bool Quick, string Mode, IReadOnlySet<string> Only, string Output)
{
    public const string Usage = """
        Usage: dotnet run -c Release --project Bidder.Benchmarks -- [options]

          --quick               a shorter run (under 3 minutes here): smaller sizes, shorter windows
          --mode <mode>         embedded (default) or containers: the AppHost's Bidder:Infrastructure
          --only <names>        comma-separated subset of: ingest, pipeline, store, freshness, freshness-live, scale, tail
                                (store is against the pipeline of the same run: it runs pipeline too)
          --output <folder>     where the JSON results go (default .artifacts/benchmarks)
          --help                this text
        """;

    /// <summary>The options, or null with the exit code to end with: 0 after --help, 2 for a bad option.</summary>
    public static BenchOptions? Parse(string[] args, out int exitCode)
    {
        exitCode = 0;
        var options = new BenchOptions(false, "embedded", new HashSet<string>(), Path.Combine(".artifacts", "benchmarks"));
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            try
            {
                options = args[i] switch
                {
                    "--quick" => options with { Quick = true },
                    "--mode" => options with { Mode = Next() is "embedded" or "containers" ? args[i] : throw new ArgumentException("--mode is embedded or containers.") },
                    "--only" => options with { Only = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet() },
                    "--output" => options with { Output = Next() },
                    "--help" or "-h" => throw new OperationCanceledException(),
                    _ => throw new ArgumentException($"Unknown option {args[i]}."),
                };
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine(Usage);
                return null;
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"{ex.Message}\n\n{Usage}");
                exitCode = 2;
                return null;
            }
        }

        var unknown = options.Only.Except(BenchmarkNames.All).ToList();
        if (unknown.Count > 0)
        {
            Console.Error.WriteLine($"Unknown benchmark(s): {string.Join(", ", unknown)}.\n\n{Usage}");
            exitCode = 2;
            return null;
        }

        // The store's first line is a ratio against the pipeline's bids/s, measured in the same run.
        return options.Only.Contains(BenchmarkNames.Store) && !options.Only.Contains(BenchmarkNames.Pipeline)
            ? options with { Only = options.Only.Append(BenchmarkNames.Pipeline).ToHashSet() }
            : options;
    }
}

public static class BenchmarkNames
{
    public const string Ingest = "ingest";
    public const string Pipeline = "pipeline";
    public const string Store = "store";
    public const string Freshness = "freshness";
    public const string FreshnessLive = "freshness-live";
    public const string Scale = "scale";
    public const string Tail = "tail";

    public static readonly IReadOnlyList<string> All = [Ingest, Pipeline, Store, Freshness, FreshnessLive, Scale, Tail];
}
