using System.Net;
using Bidder.LoadTest.Api;
using Bidder.LoadTest.Ledger;
using Bidder.LoadTest.Options;
using Bidder.LoadTest.Running;

namespace Bidder.LoadTest.Scenarios;

/// <summary>Creates the users and items the load starts from, in a fixed order so that a seed means the same data.</summary>
internal sealed class Setup(BidderClient api, RunLedger ledger, LoadTestOptions options, string runId)
{
    // The random streams of the setup must not overlap those of the load's requests (0, 1, 2, ...).
    private const long SequenceBase = long.MinValue / 2;

    /// <returns>Null when everything was created, else what went wrong.</returns>
    public async Task<string?> RunAsync(IProgress<int> created, CancellationToken cancellationToken)
    {
        var users = new Guid[options.Users];
        var items = new ItemRecord[options.Items];
        // Open for a day beyond the planned run, so that the load always has open items to bid on.
        var lifetime = (options.Duration ?? TimeSpan.Zero) + TimeSpan.FromDays(1);
        var failures = new List<string>();
        var done = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken };

        await Parallel.ForEachAsync(Enumerable.Range(0, options.Users + options.Items), parallel, async (n, token) =>
        {
            string? failure;
            if (n < options.Users)
            {
                var response = await api.CreateUserAsync(TestData.UserName(runId, $"u{n}"), token);
                failure = Failure(response.Status, response.Body is null, "POST /users/");
                users[n] = response.Body?.Id ?? Guid.Empty;
            }
            else
            {
                var index = n - options.Users;
                var random = FastRandom.For(options.Seed, SequenceBase + index);
                var response = await api.CreateItemAsync(TestData.NewItem(TestData.ItemName(runId, $"s{index}"), lifetime, ref random), token);
                failure = Failure(response.Status, response.Body is null, "POST /items/");
                items[index] = response.Body is { } item ? TestData.ToRecord(item) : null!;
            }

            if (failure is not null)
            {
                lock (failures)
                {
                    failures.Add(failure);
                }
            }

            created.Report(Interlocked.Increment(ref done));
        });

        if (failures.Count > 0)
        {
            return $"{failures.Count} of {options.Users + options.Items} setup requests failed; first: {failures[0]}";
        }

        foreach (var user in users)
        {
            ledger.Users.Add(user);
        }

        foreach (var item in items)
        {
            ledger.Items.Add(item);
        }

        ledger.SetupItemCount = items.Length;
        return null;
    }

    private static string? Failure(int status, bool noBody, string route) =>
        status == (int)HttpStatusCode.Created && !noBody ? null : $"{route} answered {ApiStatus.Describe(status)}";
}
