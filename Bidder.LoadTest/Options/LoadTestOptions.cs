using Bidder.LoadTest.Scenarios;

namespace Bidder.LoadTest.Options;

/// <summary>The command line, checked and parsed: what the rest of the tool works from.</summary>
internal sealed record LoadTestOptions(
    Uri Url,
    Uri IdentityUrl,
    TimeSpan? Duration,
    long? Requests,
    double Rate,
    int Concurrency,
    ScenarioMix Mix,
    int Users,
    int Items,
    int Seed,
    string Output,
    TimeSpan SettleTimeout,
    int CheckConcurrency,
    TimeSpan Timeout,
    bool Check,
    bool IdempotencyKeys,
    bool Plain)
{
    public const int MaxConcurrency = 10_000;
    public const double MaxRate = 1_000_000;

    public bool OpenLoop => Rate > 0;

    public static bool TryCreate(LoadTestSettings settings, out LoadTestOptions options, out string error)
    {
        options = null!;
        error = Problem(settings, out var url, out var identityUrl, out var duration, out var mix, out var settle, out var timeout) ?? "";
        if (error.Length > 0)
        {
            return false;
        }

        options = new LoadTestOptions(
            url!, identityUrl!, duration, settings.Requests, settings.Rate, settings.Concurrency, mix!, settings.Users, settings.Items,
            settings.Seed ?? Random.Shared.Next(), settings.Output, settle, settings.CheckConcurrency, timeout,
            !settings.NoCheck, !settings.NoIdempotencyKeys, settings.Plain);
        return true;
    }

    private static string? Problem(
        LoadTestSettings s, out Uri? url, out Uri? identityUrl, out TimeSpan? duration, out ScenarioMix? mix, out TimeSpan settle, out TimeSpan timeout)
    {
        url = identityUrl = null;
        duration = null;
        mix = null;
        settle = timeout = TimeSpan.Zero;

        if (!Uri.TryCreate(s.Url, UriKind.Absolute, out url) || url.Scheme is not ("http" or "https"))
        {
            return $"--url must be an absolute http(s) URL such as {LoadTestSettings.DefaultUrl}, not '{s.Url}'.";
        }

        if (!Uri.TryCreate(s.IdentityUrl, UriKind.Absolute, out identityUrl) || identityUrl.Scheme is not ("http" or "https"))
        {
            return $"--identity-url must be an absolute http(s) URL such as {LoadTestSettings.DefaultIdentityUrl}, not '{s.IdentityUrl}'.";
        }

        if (s.Duration is not null || s.Requests is null)
        {
            if (!TimeText.TryParse(s.Duration ?? LoadTestSettings.DefaultDuration, out var parsed) || parsed <= TimeSpan.Zero)
            {
                return $"--duration must be a positive time such as 30s, 5m or 1h30m, not '{s.Duration}'.";
            }

            duration = parsed;
        }

        if (s.Requests is <= 0)
        {
            return "--requests must be a positive number of requests.";
        }

        if (!double.IsFinite(s.Rate) || s.Rate is < 0 or > MaxRate)
        {
            return $"--rate must be 0 (closed loop, as fast as possible) or a number of requests per second up to {MaxRate:0}.";
        }

        if (s.Concurrency is < 1 or > MaxConcurrency)
        {
            return $"--concurrency must be from 1 to {MaxConcurrency}.";
        }

        if (s.CheckConcurrency is < 1 or > MaxConcurrency)
        {
            return $"--check-concurrency must be from 1 to {MaxConcurrency}.";
        }

        if (!ScenarioMix.TryParse(s.Mix, out mix, out var mixError))
        {
            return mixError;
        }

        if (s.Users is < 0 or > 1_000_000 || s.Items is < 0 or > 1_000_000)
        {
            return "--users and --items must be from 0 to 1000000.";
        }

        // Bids, user reads and new items are a signed-in user's, picked among the existing ones, and so is every item
        // of the setup (its seller); register and create-item only add to them later.
        if (s.Users == 0 && (mix.WeightOf(RequestKind.Bid) > 0 || mix.WeightOf(RequestKind.ReadUser) > 0 || mix.WeightOf(RequestKind.CreateItem) > 0 || s.Items > 0))
        {
            return "--users must be at least 1 when --items is above 0 or the mix has bid, read-user or create-item: those are a signed-in user's.";
        }

        if (s.Items == 0 && (mix.WeightOf(RequestKind.Bid) > 0 || mix.WeightOf(RequestKind.ReadItem) > 0 || mix.WeightOf(RequestKind.ReadBids) > 0))
        {
            return "--items must be at least 1 when the mix has bid, read-item or read-bids.";
        }

        if (!TimeText.TryParse(s.SettleTimeout, out settle))
        {
            return $"--settle-timeout must be a time such as 60s or 5m, not '{s.SettleTimeout}'.";
        }

        if (!TimeText.TryParse(s.Timeout, out timeout) || timeout <= TimeSpan.Zero)
        {
            return $"--timeout must be a positive time such as 30s, not '{s.Timeout}'.";
        }

        if (string.IsNullOrWhiteSpace(s.Output))
        {
            return "--output must name a directory.";
        }

        return null;
    }
}
