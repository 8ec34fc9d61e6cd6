using System.Diagnostics;
using System.Text.Json;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// One open <c>GET /items/{id}/live</c> (Server-Sent Events), read as a browser's EventSource reads it: tells when
/// the first <c>item</c> event showing a winning bid of at least a given value arrived. A price is awaited before
/// its bid is posted, so only events that arrive after the POST began can answer it.
/// </summary>
public sealed class ItemLiveStream : IAsyncDisposable
{
    private readonly Guid _item;
    private readonly HttpResponseMessage _response;
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private readonly List<(decimal Value, TaskCompletionSource<long> Shown)> _awaited = [];
    private readonly Task _reading;
    private Exception? _ended;

    private ItemLiveStream(Guid item, HttpResponseMessage response)
    {
        _item = item;
        _response = response;
        _reading = Task.Run(ReadAsync);
    }

    /// <summary>
    /// A client of its own per run, with no timeout: <see cref="BenchApp.Http"/>'s 30 s (or a resilience handler's
    /// total timeout) would cut a stream that is meant to stay open for the whole window.
    /// </summary>
    public static HttpClient CreateClient(BenchApp app) =>
        new() { BaseAddress = app.Api, Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Opens the stream and returns once its first event (the item's current state) came: the API has subscribed it by then.</summary>
    public static async Task<ItemLiveStream> OpenAsync(HttpClient http, Guid item, TimeSpan timeout)
    {
        // Headers only: the body is the stream, read as it comes rather than buffered to its (never reached) end.
        var response = await http.GetAsync($"/items/{item}/live", HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            throw new InvalidOperationException($"GET /items/{item}/live answered {status}.");
        }

        var stream = new ItemLiveStream(item, response);
        try
        {
            await stream._subscribed.Task.WaitAsync(timeout);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>The timestamp (<see cref="Stopwatch.GetTimestamp"/>) of the first event from now on with a winning bid of at least <paramref name="value"/>.</summary>
    public Task<long> ShownAsync(decimal value)
    {
        var shown = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_ended is not null)
            {
                shown.SetException(_ended);
            }
            else
            {
                _awaited.Add((value, shown));
            }
        }

        return shown.Task;
    }

    private async Task ReadAsync()
    {
        try
        {
            using var reader = new StreamReader(await _response.Content.ReadAsStreamAsync(_closing.Token));
            string? type = null;
            string? data = null;
            while (await reader.ReadLineAsync(_closing.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    // A blank line completes an event: that is when a client has it.
                    if (type == "item" && data is not null)
                    {
                        Arrived(data, Stopwatch.GetTimestamp());
                    }

                    (type, data) = (null, null);
                }
                else if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    type = line["event:".Length..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data = line["data:".Length..];
                }
            }

            End(null);
        }
        catch (Exception ex)
        {
            // Whatever stopped the reading (the connection, an event that is not an item's state) fails every awaited price at once, not after its timeout.
            End(_closing.IsCancellationRequested ? null : ex);
        }
    }

    private void Arrived(string data, long timestamp)
    {
        using var json = JsonDocument.Parse(data);
        var root = json.RootElement;
        if (root.GetProperty("item_id").GetGuid() != _item)
        {
            throw new InvalidOperationException($"The live stream of item {_item} sent an event of another item: {data}");
        }

        _subscribed.TrySetResult();
        var winning = root.GetProperty("winning_bid").GetDecimal();
        lock (_lock)
        {
            // The streamer sends an item's state once per batch: a later bid of the same batch may be the one shown.
            foreach (var (_, shown) in _awaited.Where(a => a.Value <= winning))
            {
                shown.TrySetResult(timestamp);
            }

            _awaited.RemoveAll(a => a.Value <= winning);
        }
    }

    private void End(Exception? cause)
    {
        var reason = new InvalidOperationException(
            _closing.IsCancellationRequested ? $"The live stream of item {_item} was closed." : $"The live stream of item {_item} ended{(cause is null ? "" : $": {cause.Message}")}.", cause);
        _subscribed.TrySetException(reason);
        lock (_lock)
        {
            _ended = reason;
            foreach (var (_, shown) in _awaited)
            {
                shown.TrySetException(reason);
            }

            _awaited.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        await _reading;
        _response.Dispose();
        _closing.Dispose();
    }
}
