using Spectre.Console;

namespace Bidder.LoadTest.Running;

/// <summary>
/// Ctrl+C in two steps: the first stops sending load but still waits for the bids and checks the end state
/// (an interrupted run is still worth its report); the second abandons everything.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abort;

    public StopSignals(CancellationToken outer)
    {
        _abort = CancellationTokenSource.CreateLinkedTokenSource(outer);
        Console.CancelKeyPress += OnCancelKeyPress;
    }

    /// <summary>No new requests of the load.</summary>
    public CancellationToken Stop => _stop.Token;

    /// <summary>Nothing more at all: requests in flight, the settle wait and the check are cancelled.</summary>
    public CancellationToken Abort => _abort.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _stop.Dispose();
        _abort.Dispose();
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        if (!_stop.IsCancellationRequested)
        {
            AnsiConsole.MarkupLine("[yellow]Stopping the load; the bids sent are still checked. Ctrl+C again to abort.[/]");
            _stop.Cancel();
        }
        else
        {
            _abort.Cancel();
        }
    }
}
