using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Bidder.Tests.Support;

/// <summary>
/// The real AppHost started once in embedded mode and shared by every test of the collection, so the
/// suite pays the start-up once. Tests make their own data and never depend on one another.
/// </summary>
public sealed class EmbeddedApp : IAsyncLifetime
{
    public static readonly string[] ResourceNames = ["kafka", "bidderdb", "identity", "api", "streamer", "web"];

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>Where the services' spans go (the dashboard's part, which the tests leave out).</summary>
    public OtlpSink Telemetry { get; private set; } = null!;

    /// <summary>The first administrator, signed in: creates users on the admin route and reads everything.</summary>
    public SignedIn Admin { get; private set; } = null!;

    /// <summary>A registered bidder, signed in: for tests that post bids and need no particular person.</summary>
    public SignedIn Bidder { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Telemetry = await OtlpSink.StartAsync();
        App = await StartAsync(["Bidder:Infrastructure=embedded"], Telemetry);
        Admin = await App.AdminAsync();
        Bidder = await App.RegisterAsync("suite bidder");
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        Bidder?.Dispose();
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        if (Telemetry is not null)
        {
            await Telemetry.DisposeAsync();
        }
    }

    /// <summary>Builds and starts the AppHost, and waits until every named resource is healthy.</summary>
    public static Task<DistributedApplication> StartAsync(string[] args, params string[] waitFor) => StartAsync(args, null, waitFor);

    /// <summary>As <see cref="StartAsync(string[], string[])"/>, with the services' telemetry exported to <paramref name="telemetry"/>.</summary>
    public static Task<DistributedApplication> StartAsync(string[] args, OtlpSink? telemetry, params string[] waitFor) =>
        StartAsync(args, telemetry, configure: null, waitFor);

    /// <summary>As <see cref="StartAsync(string[], string[])"/>, with the model changed by <paramref name="configure"/> before it starts.</summary>
    public static async Task<DistributedApplication> StartAsync(string[] args, OtlpSink? telemetry, Action<IDistributedApplicationTestingBuilder>? configure, params string[] waitFor)
    {
        // Every app of the suite knows its admin password and lets the suite's bursts through (a test's own settings win).
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Bidder_AppHost>(
            [.. Accounts.AppSettings, .. args], (options, _) => options.DisableDashboard = true, TestContext.Current.CancellationToken);
        telemetry?.ExportFrom(builder);
        configure?.Invoke(builder);
        var app = await builder.BuildAsync(TestContext.Current.CancellationToken);
        try
        {
            await app.StartAsync(HangGuard.Token);
            foreach (var name in waitFor.Length > 0 ? waitFor : ResourceNames)
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, HangGuard.Token);
            }
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }

    /// <summary>Waits until every resource is healthy again: fault tests end with this, so the next test starts from a steady app.</summary>
    public async Task WaitHealthyAsync()
    {
        foreach (var name in ResourceNames)
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(name, HangGuard.Token);
        }
    }

    public Task<string?> ConnectionStringAsync(string name) => App.GetConnectionStringAsync(name, TestContext.Current.CancellationToken).AsTask();

    public ResourceEvent State(string name) =>
        App.ResourceNotifications.TryGetCurrentState(name, out var state)
            ? state
            : throw new InvalidOperationException($"No state for resource '{name}'.");
}

[CollectionDefinition(Name)]
public sealed class EmbeddedAppCollection : ICollectionFixture<EmbeddedApp>
{
    public const string Name = "embedded app";
}
