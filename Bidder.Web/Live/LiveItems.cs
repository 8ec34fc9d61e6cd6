using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Bidder.Web.Auctions;

namespace Bidder.Web.Live;

/// <summary>
/// One connection per web process to the API's <c>GET /items/live</c> (Server-Sent Events), shared by every open
/// page: each page subscribes to the items it shows. When the stream breaks (or stays silent past three
/// heartbeats: a dead connection) it reconnects with the last event's id, so nothing is missed; when the API
/// cannot say what was missed (<c>event: reset</c>, or a new connection without an id), every page is told to
/// read its items again. Each page gets its changes through a bounded queue of its own: a slow page falls back
/// to a reload instead of holding up the stream or the other pages. The stream is open only while a page is
/// (and <see cref="IdleLimit"/> after the last one closed): otherwise the API would send every change of every item
/// to a process that shows none, and both would spend a core's share on it under bid load (BENCHMARKS.md).
/// </summary>
public sealed partial class LiveItems(IHttpClientFactory clients, ILogger<LiveItems> logger) : BackgroundService
{
    public const string HttpClientName = "live";

    /// <summary>The API sends a heartbeat every 15 s on an idle stream: this long without a line means the connection is gone.</summary>
    public static readonly TimeSpan SilenceLimit = TimeSpan.FromSeconds(45);

    /// <summary>Changes a page may have queued before it is told to reload instead.</summary>
    public const int PageQueue = 256;

    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger = logger;
    private readonly ConcurrentDictionary<Subscription, byte> _subscriptions = new();
    private string? _lastEventId;

    // Guards the pages' coming and going against the stream's opening and closing.
    private readonly object _gate = new();
    // Completed while a page is open: what a closed stream waits for.
    private TaskCompletionSource _pagesOpen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // The open stream's: cancelled IdleLimit after the last page closed, unless another opens first.
    private CancellationTokenSource? _open;

    /// <summary>
    /// How long the stream stays open after the last page closed: a reader going from page to page (each opens
    /// after the last closed) keeps it, rather than reconnecting and reloading at every step.
    /// </summary>
    public TimeSpan IdleLimit { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Calls <paramref name="changed"/> with each change of the items <paramref name="wanted"/> accepts (all when null),
    /// and <paramref name="reset"/> when changes may have been missed; one call at a time, in order. Dispose to stop.
    /// </summary>
    public IDisposable Subscribe(Func<Guid, bool>? wanted, Func<LiveItemEvent, Task> changed, Func<Task> reset)
    {
        var subscription = new Subscription(this, wanted ?? (_ => true), changed, reset);
        lock (_gate)
        {
            _subscriptions.TryAdd(subscription, 0);
            _open?.CancelAfter(Timeout.InfiniteTimeSpan);
            _pagesOpen.TrySetResult();
        }

        return subscription;
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (_gate)
        {
            if (_subscriptions.TryRemove(subscription, out _) && _subscriptions.IsEmpty)
            {
                _open?.CancelAfter(IdleLimit);
                _pagesOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            Task pagesOpen;
            lock (_gate)
            {
                pagesOpen = _pagesOpen.Task;
            }

            try
            {
                await pagesOpen.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using var open = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            lock (_gate)
            {
                _open = open;
                if (_subscriptions.IsEmpty)
                {
                    // The pages left between the wait and now.
                    open.CancelAfter(IdleLimit);
                }
            }

            try
            {
                await ReadAsync(open.Token);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                if (open.IsCancellationRequested)
                {
                    // No page left: closed on purpose. The next page opens a fresh stream, and reloads (what
                    // changed meanwhile, and between its first read and the stream's start, comes with that).
                    _lastEventId = null;
                    LogClosedIdle(_logger);
                    continue;
                }

                // Whatever broke the stream (the API restarting, a proxy, a dead connection), it is read again.
                LogDisconnected(_logger, ex.GetType().Name, ex.Message);
            }
            finally
            {
                lock (_gate)
                {
                    _open = null;
                }
            }

            try
            {
                await Task.Delay(RetryAfter, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ReadAsync(CancellationToken stoppingToken)
    {
        using var silence = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        silence.CancelAfter(SilenceLimit);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/items/live");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Options.Set(WebCallerProof.OwnRead, true);
        var resuming = _lastEventId is not null;
        if (resuming)
        {
            request.Headers.Add("Last-Event-ID", _lastEventId);
        }

        using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, silence.Token);
        response.EnsureSuccessStatusCode();
        if (!resuming)
        {
            // A first connection, or one after the API forgot us: whatever pages show may be behind.
            ResetAll();
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(silence.Token), Encoding.UTF8);
        string? type = null, id = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(silence.Token) is { } line)
        {
            silence.CancelAfter(SilenceLimit);
            if (line.Length == 0)
            {
                Dispatch(type ?? "message", id, data.ToString());
                type = id = null;
                data.Clear();
            }
            else if (line.StartsWith(':'))
            {
                // A heartbeat comment: the connection is alive.
            }
            else if (Field(line, "event") is { } eventType)
            {
                type = eventType;
            }
            else if (Field(line, "id") is { } eventId)
            {
                id = eventId;
            }
            else if (Field(line, "data") is { } chunk)
            {
                data.Append(data.Length > 0 ? "\n" : "").Append(chunk);
            }
        }
    }

    private static string? Field(string line, string name) =>
        line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] == ':'
            ? line[(name.Length + 1)..].TrimStart(' ')
            : null;

    private void Dispatch(string type, string? id, string data)
    {
        if (type == "reset")
        {
            // The id we hold means nothing to this API any more: the next connection starts afresh.
            _lastEventId = null;
            ResetAll();
            return;
        }

        if (id is { Length: > 0 })
        {
            _lastEventId = id;
        }

        if (type is not ("item" or "closed"))
        {
            return;
        }

        LiveItemEvent? change;
        try
        {
            change = JsonSerializer.Deserialize<LiveItemEvent>(data, WebJson.Options);
        }
        catch (JsonException)
        {
            return;
        }

        if (change is null)
        {
            return;
        }

        if (type == "closed")
        {
            // The close record (the auctions topic's): no status or version of its own; it ends the auction.
            change = change with { Status = "closed", Version = 0 };
        }

        foreach (var subscription in _subscriptions.Keys)
        {
            subscription.Offer(change);
        }
    }

    private void ResetAll()
    {
        foreach (var subscription in _subscriptions.Keys)
        {
            subscription.Offer(null);
        }
    }

    /// <summary>A page's queue and the loop that hands it its changes (null: reload) one at a time.</summary>
    private sealed class Subscription : IDisposable
    {
        private readonly LiveItems _owner;
        private readonly Func<Guid, bool> _wanted;
        private readonly Func<LiveItemEvent, Task> _changed;
        private readonly Func<Task> _reset;
        private readonly Channel<LiveItemEvent?> _queue = Channel.CreateBounded<LiveItemEvent?>(new BoundedChannelOptions(PageQueue) { SingleReader = true });
        private int _overflowed;

        public Subscription(LiveItems owner, Func<Guid, bool> wanted, Func<LiveItemEvent, Task> changed, Func<Task> reset)
        {
            (_owner, _wanted, _changed, _reset) = (owner, wanted, changed, reset);
            _ = PumpAsync();
        }

        public void Offer(LiveItemEvent? change)
        {
            try
            {
                if (change is not null && !_wanted(change.ItemId))
                {
                    return;
                }
            }
            catch (Exception ex)
            {
                LogSubscriberFailed(_owner._logger, ex);
                return;
            }

            if (!_queue.Writer.TryWrite(change))
            {
                // Too far behind: what it missed is replaced by one reload once it has caught up.
                Interlocked.Exchange(ref _overflowed, 1);
            }
        }

        private async Task PumpAsync()
        {
            await foreach (var change in _queue.Reader.ReadAllAsync())
            {
                try
                {
                    if (Interlocked.Exchange(ref _overflowed, 0) == 1 || change is null)
                    {
                        await _reset();
                    }

                    if (change is not null)
                    {
                        await _changed(change);
                    }
                }
                catch (Exception ex)
                {
                    // A page that fails (one closing, say) does not stop its own later changes, nor anyone else's.
                    LogSubscriberFailed(_owner._logger, ex);
                }
            }
        }

        public void Dispose()
        {
            _owner.Unsubscribe(this);
            _queue.Writer.TryComplete();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The live item stream broke ({Kind}: {Reason}); reconnecting.")]
    private static partial void LogDisconnected(ILogger logger, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed the live item stream: no page has been open for a while.")]
    private static partial void LogClosedIdle(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A page's live update failed.")]
    private static partial void LogSubscriberFailed(ILogger logger, Exception exception);
}
