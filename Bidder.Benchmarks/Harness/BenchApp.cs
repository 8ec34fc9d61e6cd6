using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Bidder.AppHost.Infrastructure;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// The real AppHost, started as a user starts it (embedded or containers mode): the identity service, the API
/// (which trusts the identity service's tokens) and the streamer, with the API's no-op yardstick route switched
/// on and the rate limits raised out of the way. Gives the benchmarks the API's and the identity service's
/// addresses, the run's administrator password, the broker, the streamer's consumer-group progress, the
/// services' peak memory and the streamer's stage report lines.
/// </summary>
public sealed partial class BenchApp : IAsyncDisposable
{
    /// <summary>The streamer's consumer group (Bidder.Streamer's BidPipeline.ConsumerGroup).</summary>
    public const string StreamerGroup = "bids-streamer";
    public const string BidsTopic = "bids";

    private static readonly string[] Resources = ["kafka", "bidderdb", "identity", "api", "streamer"];

    /// <summary>The services whose processes the harness measures, by resource and program name.</summary>
    private static readonly (string Resource, string Program)[] Services =
        [("identity", "Bidder.Identity"), ("api", "Bidder.Api"), ("streamer", "Bidder.Streamer")];

    /// <summary>
    /// Every bucket of <c>Bidder:RateLimits</c> (per signed-in user: bids, items; per address: anonymous reads,
    /// sign-in) raised far above what any benchmark sends. The defaults (bids: 20 at once, 10/s per user) would
    /// make the benchmarks measure the limiter; raised, the limiter still runs on every request, as in production,
    /// but never refuses one.
    /// </summary>
    public const int RaisedRateLimit = 1_000_000;

    private static readonly string[] RateLimitBuckets = ["Bids", "Items", "Anonymous", "SignIn"];

    private readonly DistributedApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<string> _stageReports = new();
    private readonly ConcurrentQueue<string> _errors = new();

    // The run's id, in every service process's environment (ServiceProcesses.RunVariable).
    private readonly string _run;

    // Kafka clients for the progress queries, made once: they are asked every few milliseconds.
    private IConsumer<Ignore, Ignore>? _groupReader;
    private IConsumer<Ignore, Ignore>? _watermarkReader;
    private IAdminClient? _admin;
    private readonly ConcurrentDictionary<string, List<TopicPartition>> _partitions = new();

    private BenchApp(DistributedApplication app, string mode, string run, string adminPassword, Uri api, Uri identity, string bootstrapServers)
    {
        _app = app;
        _run = run;
        Mode = mode;
        AdminPassword = adminPassword;
        Api = api;
        Identity = identity;
        BootstrapServers = bootstrapServers;
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = api,
            Timeout = TimeSpan.FromSeconds(30),
        };
        IdentityHttp = new HttpClient { BaseAddress = identity, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Mode { get; }

    /// <summary>The streamer took the warm-up bids (<see cref="PipelineRun"/>): its hot code is compiled.</summary>
    public bool StreamerWarmedUp { get; set; }

    /// <summary>The share of each warm-up round's time the streamer's compiler thread was busy (<see cref="PipelineRun"/>).</summary>
    public List<double> WarmUpRounds { get; } = [];

    public Uri Api { get; }

    /// <summary>The identity service: registration and the token endpoint.</summary>
    public Uri Identity { get; }

    /// <summary>The administrator's password (<c>admin@bidder.local</c>), made for this run.</summary>
    public string AdminPassword { get; }

    public string BootstrapServers { get; }

    /// <summary>One client for every HTTP benchmark, so each side of a ratio is measured with the same client.</summary>
    public HttpClient Http { get; }

    /// <summary>The identity service's client, for signing in: kept apart from <see cref="Http"/>, whose connections measure the API.</summary>
    public HttpClient IdentityHttp { get; }

    public static async Task<BenchApp> StartAsync(string mode)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        // The AppHost's admin-password parameter, set for this run (not the developer's stored one): the benchmarks
        // sign in as the administrator to create users that never call the API themselves.
        var adminPassword = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Bidder_AppHost>(
            [$"Bidder:Infrastructure={mode}", $"Parameters:admin-password={adminPassword}",
                $"Parameters:web-caller-key={Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24))}"], (options, _) => options.DisableDashboard = true, timeout.Token);

        // The AppHost wires the identity service to the API (Bidder:Identity:Authority, the issuer, the database);
        // the harness only adds its own settings. Each service process is marked with the run's id, so the
        // memory readings are of this run's processes, never of an AppHost someone else runs on the machine.
        var run = Guid.NewGuid().ToString("N");
        foreach (var (name, _) in Services)
        {
            var service = builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == name))
                .WithEnvironment(ServiceProcesses.RunVariable, run);
            if (name is "identity" or "api")
            {
                foreach (var bucket in RateLimitBuckets)
                {
                    service.WithEnvironment($"Bidder__RateLimits__{bucket}__Burst", RaisedRateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture))
                        .WithEnvironment($"Bidder__RateLimits__{bucket}__PerSecond", RaisedRateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            if (name == "api")
            {
                service.WithEnvironment("Bidder__Benchmark__NoopEndpoint", "true");
            }
        }

        // The services' console logs stay in the app (the stage reports are read from there), out of the figures' way.
        builder.Services.AddLogging(logging => logging
            .AddFilter("Bidder.AppHost.Resources", LogLevel.None)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));

        var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);
        foreach (var name in Resources)
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }

        var bench = new BenchApp(app, mode, run, adminPassword, app.GetEndpoint("api", "http"), app.GetEndpoint("identity", "http"),
            (await app.GetConnectionStringAsync("kafka", timeout.Token))!);
        bench.WatchStreamerLogs();
        return bench;
    }

    /// <summary>The database the services use (a <c>mongodb://</c> URL in containers mode, an SQLite path in embedded mode).</summary>
    public async Task<string> DatabaseConnectionStringAsync() =>
        await _app.GetConnectionStringAsync(Bidder.Core.Storage.StorageExtensions.DefaultConnectionName)
            ?? throw new InvalidOperationException("The AppHost gave the services no database connection string.");

    /// <summary>The streamer's "Pipeline stages over ..." lines logged since the last call: where its time went.</summary>
    public IReadOnlyList<string> TakeStageReports()
    {
        var lines = new List<string>();
        while (_stageReports.TryDequeue(out var line))
        {
            lines.Add(line);
        }

        return lines;
    }

    /// <summary>The streamer's error log messages since the last call: a run that has any is not a clean measurement.</summary>
    public IReadOnlyList<string> TakeErrors()
    {
        var lines = new List<string>();
        while (_errors.TryDequeue(out var line))
        {
            lines.Add(line);
        }

        return lines;
    }

    /// <summary>Peak resident memory (VmHWM) of each of this run's service processes, in MB, read from /proc.</summary>
    public IReadOnlyDictionary<string, double> PeakMemoryMegabytes() =>
        Services.ToDictionary(s => s.Resource, s => ServiceProcesses.PeakMegabytes(s.Program, _run));

    /// <summary>The CPU time a service's processes (this run's) have used so far: see <see cref="ServiceProcesses.CpuTime"/>.</summary>
    public TimeSpan CpuTime(string resource) => ServiceProcesses.CpuTime(Services.Single(s => s.Resource == resource).Program, _run);

    /// <summary>The CPU time of a service's threads of one name (<see cref="ServiceProcesses.ThreadCpuTime"/>).</summary>
    public TimeSpan ThreadCpuTime(string resource, string thread) =>
        ServiceProcesses.ThreadCpuTime(Services.Single(s => s.Resource == resource).Program, _run, thread);

    /// <summary>Waits until the streamer has committed every message on the bids topic.</summary>
    public async Task WaitCaughtUpAsync(TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var ends = EndOffsets(BidsTopic);
            var committed = CommittedOffsets();
            var lag = ends.Sum(e => e.Value - Math.Min(e.Value, committed.GetValueOrDefault(e.Key)));
            if (lag == 0)
            {
                return;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"The streamer did not catch up within {timeout}: lag {lag}.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The streamer group's committed offset of every partition of the bids topic (0 where none yet).</summary>
    public Dictionary<TopicPartition, long> CommittedOffsets()
    {
        _groupReader ??= new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = StreamerGroup }).Build();
        return _groupReader.Committed(Partitions(BidsTopic), TimeSpan.FromSeconds(10))
            .ToDictionary(c => c.TopicPartition, c => Math.Max(0, c.Offset.Value));
    }

    /// <summary>The high watermark of every partition of a topic.</summary>
    public Dictionary<TopicPartition, long> EndOffsets(string topic)
    {
        _watermarkReader ??= new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = "bench-watermarks" }).Build();
        return Partitions(topic).ToDictionary(p => p, p => _watermarkReader.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
    }

    /// <summary>Creates a topic: on the embedded broker directly (its admin API has no controller), else through the admin API.</summary>
    public async Task CreateTopicAsync(string name, int partitions)
    {
        var embedded = _app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<EmbeddedKafkaResource>().SingleOrDefault();
        if (embedded?.Cluster is { } cluster)
        {
            cluster.CreateTopic(name, partitions);
            return;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = -1 }]);
    }

    /// <summary>A topic's partitions, asked of the broker once per topic: the progress loops call this every few milliseconds.</summary>
    public List<TopicPartition> Partitions(string topic) =>
        _partitions.GetOrAdd(topic, name =>
        {
            _admin ??= new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
            return _admin.GetMetadata(name, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
                .Select(p => new TopicPartition(name, p.PartitionId)).OrderBy(p => p.Partition.Value).ToList();
        });

    // Each streamer replica has logs of its own: follow every instance the app reports.
    private void WatchStreamerLogs() => _ = Task.Run(async () =>
    {
        var watched = new HashSet<string>();
        try
        {
            await foreach (var change in _app.ResourceNotifications.WatchAsync(_stopping.Token))
            {
                if (change.Resource.Name == "streamer" && watched.Add(change.ResourceId))
                {
                    _ = CollectStageReportsAsync(change.ResourceId);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    });

    private async Task CollectStageReportsAsync(string instance)
    {
        const string Marker = "Pipeline stages over";
        var takeMessage = false;
        try
        {
            var logs = _app.Services.GetRequiredService<ResourceLoggerService>();
            await foreach (var batch in logs.WatchAsync(instance).WithCancellation(_stopping.Token))
            {
                foreach (var line in batch.Select(l => AnsiEscape().Replace(l.Content, "")))
                {
                    // The console formatter writes the level and category on one line and the message on the next.
                    if (takeMessage)
                    {
                        _errors.Enqueue(line);
                        takeMessage = false;
                    }
                    else if (line.Contains(Marker, StringComparison.Ordinal))
                    {
                        _stageReports.Enqueue(line[line.IndexOf(Marker, StringComparison.Ordinal)..]);
                    }
                    else if (line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal))
                    {
                        takeMessage = true;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        Http.Dispose();
        IdentityHttp.Dispose();
        _groupReader?.Dispose();
        _watermarkReader?.Dispose();
        _admin?.Dispose();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    // The services' console formatter colours the level: ESC[...m sequences around "fail".
    [System.Text.RegularExpressions.GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial System.Text.RegularExpressions.Regex AnsiEscape();
}
