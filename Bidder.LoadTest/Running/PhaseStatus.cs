using System.Diagnostics;
using Spectre.Console;

namespace Bidder.LoadTest.Running;

/// <summary>
/// Shows a phase that has no load table (setup, settling, checking): a spinner with a status line on a
/// terminal, or a line at most every 5 seconds when the output is redirected.
/// </summary>
internal static class PhaseStatus
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    public static async Task<T> RunAsync<T>(bool interactive, string title, Func<IProgress<string>, Task<T>> work)
    {
        if (interactive)
        {
            return await AnsiConsole.Status().StartAsync(Markup.Escape(title), context =>
                work(new Reporter<string>(text => context.Status = Markup.Escape(text))));
        }

        AnsiConsole.WriteLine(title);
        var lastLine = Stopwatch.GetTimestamp();
        var gate = new Lock();
        return await work(new Reporter<string>(text =>
        {
            lock (gate)
            {
                if (Stopwatch.GetElapsedTime(lastLine) >= PlainInterval)
                {
                    lastLine = Stopwatch.GetTimestamp();
                    AnsiConsole.WriteLine(text);
                }
            }
        }));
    }
}

/// <summary>An IProgress that reports on the caller's thread at once (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
internal sealed class Reporter<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
