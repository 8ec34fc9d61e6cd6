using System.Net;
using Bidder.LoadTest.Api;
using Bidder.LoadTest.Ledger;
using Bidder.LoadTest.Options;
using Bidder.LoadTest.Running;

namespace Bidder.LoadTest.Scenarios;

/// <summary>
/// Makes the users and items the load starts from: first the users, who register at the identity service and sign
/// in, then the items, each listed by one of them. Every choice is made in a fixed order from the seed, so that a
/// seed means the same data. Here a 429 is waited out (Retry-After) and asked again: the setup has to complete.
/// </summary>
internal sealed class Setup(BidderClient api, IdentityClient identity, SignIns signIns, RunLedger ledger, LoadTestOptions options, string runId)
{
    // The random streams of the setup must not overlap those of the load's requests (0, 1, 2, ...).
    private const long SequenceBase = long.MinValue / 2;

    private long _rateLimited;

    /// <summary>The setup's requests refused with 429 and asked again, its sign-ins included: where the setup's time went.</summary>
    public long RateLimited => Interlocked.Read(ref _rateLimited);

    /// <returns>Null when everything was created, else what went wrong.</returns>
    public async Task<string?> RunAsync(IProgress<int> created, CancellationToken cancellationToken)
    {
        var signInsRateLimited = signIns.RateLimited;
        try
        {
            return await CreateAsync(created, cancellationToken);
        }
        finally
        {
            Interlocked.Add(ref _rateLimited, signIns.RateLimited - signInsRateLimited);
        }
    }

    private async Task<string?> CreateAsync(IProgress<int> created, CancellationToken cancellationToken)
    {
        var users = new UserRecord[options.Users];
        var items = new ItemRecord[options.Items];
        // Open for a day beyond the planned run, so that the load always has open items to bid on.
        var lifetime = (options.Duration ?? TimeSpan.Zero) + TimeSpan.FromDays(1);
        var failures = new List<string>();
        var done = 0;
        // The first failure stops the setup: the rest would most likely fail alike (a refused grant, a full disk),
        // and every account registered in vain stays in the deployment.
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        void Done(string? failure)
        {
            if (failure is not null)
            {
                lock (failures)
                {
                    failures.Add(failure);
                }

                failed.Cancel();
            }

            created.Report(Interlocked.Increment(ref done));
        }

        // Registering hashes a password on the server and is rate limited per client address (with the sign-in):
        // a few at a time is as fast as it goes.
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, options.Users), Bounded(Math.Min(options.Concurrency, SignIns.MaxParallel), failed.Token), async (n, token) =>
            {
                var (user, failure) = await RegisterAsync(n, token);
                users[n] = user!;
                Done(failure);
            });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A failure stopped it; reported below.
        }

        if (failures.Count > 0)
        {
            return $"a user could not register and sign in: {failures[0]}";
        }

        // Items after the users: a seller must be signed in. The per-user limit on POST /items/ (a burst of 10, then
        // 2/s by default) is met only with many items per user, and then waited out.
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, options.Items), Bounded(options.Concurrency, failed.Token), async (index, token) =>
            {
                var random = FastRandom.For(options.Seed, SequenceBase + index);
                var seller = random.Next(users.Length);
                var body = TestData.NewItem(TestData.ItemName(runId, $"s{index}"), lifetime, ref random);
                var response = await RateLimitRetry.SendAsync(
                    t => api.CreateItemAsync(body, signIns.AuthorizationFor(users[seller]), t, readError: true), token, CountRateLimited);
                var failure = response is { Status: (int)HttpStatusCode.Created, Body: not null } ? null : $"POST /items/ answered {response.Describe()}";
                items[index] = response.Body is { } item ? TestData.ToRecord(item, seller) : null!;
                Done(failure);
            });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A failure stopped it; reported below.
        }

        if (failures.Count > 0)
        {
            return $"an item could not be created: {failures[0]}";
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

    private async Task<(UserRecord? User, string? Failure)> RegisterAsync(int n, CancellationToken cancellationToken)
    {
        var email = TestData.Email(runId, $"u{n}");
        var password = TestData.NewPassword();
        var response = await RateLimitRetry.SendAsync(
            token => identity.RegisterAsync(new RegisterBody(TestData.UserName(runId, $"u{n}"), email, password), token, readError: true),
            cancellationToken, CountRateLimited);
        if (response is not { Status: (int)HttpStatusCode.Created, Body: { } account })
        {
            return (null, $"POST {IdentityClient.RegisterRoute} answered {response.Describe()}");
        }

        var user = new UserRecord(account.Id, email, password);
        return await signIns.SignInAsync(user, cancellationToken) is { } failure ? (null, failure) : (user, null);
    }

    private void CountRateLimited<T>(ApiResponse<T> response)
    {
        if (response.RateLimited)
        {
            Interlocked.Increment(ref _rateLimited);
        }
    }

    private static ParallelOptions Bounded(int degree, CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = degree, CancellationToken = cancellationToken };
}
