using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace Bidder.Tests.Support;

/// <summary>
/// A resource's console log, as the dashboard shows it (Aspire's <see cref="ResourceLoggerService"/>, which replays the
/// lines logged so far and then follows), for tests that check what a service says: a line it must log, or the lines
/// that explain a failure. Lines match on <c>text</c>, case-insensitively.
/// </summary>
internal static class ResourceLogs
{
    /// <summary>The first line of <paramref name="resource"/>'s log that contains <paramref name="text"/>; fails the test if the log ends first.</summary>
    public static async Task<string> FirstLineAsync(DistributedApplication app, string resource, string text, CancellationToken cancellationToken)
    {
        await foreach (var batch in Watch(app, resource).WithCancellation(cancellationToken))
        {
            if (batch.Select(line => line.Content).FirstOrDefault(line => Matches(line, text)) is { } found)
            {
                return found;
            }
        }

        Assert.Fail($"The {resource} log ended without a line containing '{text}'.");
        return "";
    }

    /// <summary>Every line of <paramref name="resource"/>'s log that contains <paramref name="text"/>: those logged so far and any within <paramref name="wait"/>.</summary>
    public static async Task<IReadOnlyList<string>> LinesAsync(DistributedApplication app, string resource, string text, TimeSpan wait)
    {
        using var enough = new CancellationTokenSource(wait);
        var lines = new List<string>();
        try
        {
            await foreach (var batch in Watch(app, resource).WithCancellation(enough.Token))
            {
                lines.AddRange(batch.Select(line => line.Content).Where(line => Matches(line, text)));
            }
        }
        catch (OperationCanceledException) when (enough.IsCancellationRequested)
        {
        }

        return lines;
    }

    // By the instance's id where the app knows it (a resource with replicas has one per replica; else its name works).
    private static IAsyncEnumerable<IReadOnlyList<LogLine>> Watch(DistributedApplication app, string resource) =>
        app.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(
            app.ResourceNotifications.TryGetCurrentState(resource, out var state) ? state.ResourceId : resource);

    private static bool Matches(string line, string text) => line.Contains(text, StringComparison.OrdinalIgnoreCase);
}
