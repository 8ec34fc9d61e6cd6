using System.ComponentModel;
using Bidder.LoadTest.Scenarios;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Bidder.LoadTest.Options;

/// <summary>The command line, as typed: every option is described here, and <c>--help</c> prints these descriptions.</summary>
internal sealed class LoadTestSettings : CommandSettings
{
    public const string DefaultUrl = "http://localhost:8001";
    public const string DefaultIdentityUrl = "http://localhost:8002";
    public const string DefaultDuration = "30s";

    [CommandOption("-u|--url <URL>")]
    [Description("The Bidder API to load. Only its public HTTP API is used, so any deployment will do.")]
    [DefaultValue(DefaultUrl)]
    public string Url { get; set; } = DefaultUrl;

    [CommandOption("--identity-url <URL>")]
    [Description("The identity service (OpenID Connect) whose tokens the API takes: the users register there (POST /account/register) and sign in with the password grant of the client bidder-cli, which it must allow (it does in Development and embedded mode).")]
    [DefaultValue(DefaultIdentityUrl)]
    public string IdentityUrl { get; set; } = DefaultIdentityUrl;

    [CommandOption("-d|--duration <TIME>")]
    [Description("How long to send load: 30s, 5m, 1h30m, 00:02:00. Default 30s, or no limit when --requests is given.")]
    public string? Duration { get; set; }

    [CommandOption("-n|--requests <COUNT>")]
    [Description("Stop after this many requests (whichever of --duration and --requests comes first).")]
    public long? Requests { get; set; }

    [CommandOption("-r|--rate <PER_SECOND>")]
    [Description("Open-loop arrival rate in requests per second, kept whatever the latency (up to --concurrency in flight). 0 = closed loop: every worker sends its next request as soon as the last one answered.")]
    [DefaultValue(200.0)]
    public double Rate { get; set; } = 200;

    [CommandOption("-c|--concurrency <N>")]
    [Description("The most requests in flight at once (workers and HTTP connections).")]
    [DefaultValue(16)]
    public int Concurrency { get; set; } = 16;

    [CommandOption("-m|--mix <WEIGHTS>")]
    [Description("What the requests do, as NAME=WEIGHT pairs; names left out get no requests. Names: bid (POST /events/), read-item (GET /items/{id}), read-bids (GET /items/{id}/bids), list-items (GET /items/), read-user (GET /users/{id}/bids, one's own), register (POST /account/register at --identity-url, then a sign-in; create-user is taken for it too), create-item (POST /items/). Bids, user reads and new items are sent as a signed-in user; item reads without a token.")]
    [DefaultValue(ScenarioMix.Default)]
    public string Mix { get; set; } = ScenarioMix.Default;

    [CommandOption("--users <N>")]
    [Description("Users registered (at --identity-url) and signed in before the load starts; bids come from them and from those register adds. Registering and signing in are rate limited per client address (10/s by default): the setup waits that out, so many users take a while.")]
    [DefaultValue(100)]
    public int Users { get; set; } = 100;

    [CommandOption("--items <N>")]
    [Description("Items (auctions) created before the load starts, open for a day, each by one of the users (its seller, whose own bids on it are rejected own_item); create-item adds short auctions (15 s to 2 min) during the run.")]
    [DefaultValue(50)]
    public int Items { get; set; } = 50;

    [CommandOption("-s|--seed <N>")]
    [Description("Seed for every random choice and value; the same seed gives request N the same choices. Random when left out (the report shows it).")]
    public int? Seed { get; set; }

    [CommandOption("-o|--output <DIR>")]
    [Description("Directory for results.json and results.md (created if missing, files overwritten).")]
    [DefaultValue("./loadtest-results")]
    public string Output { get; set; } = "./loadtest-results";

    [CommandOption("--settle-timeout <TIME>")]
    [Description("After the load, how long to wait for the streamer to process every accepted (202) bid before the check fails.")]
    [DefaultValue("60s")]
    public string SettleTimeout { get; set; } = "60s";

    [CommandOption("--check-concurrency <N>")]
    [Description("Requests in flight while waiting for bids and checking the end state (kept low so the check does not load the system itself).")]
    [DefaultValue(8)]
    public int CheckConcurrency { get; set; } = 8;

    [CommandOption("--timeout <TIME>")]
    [Description("Per-request timeout.")]
    [DefaultValue("30s")]
    public string Timeout { get; set; } = "30s";

    [CommandOption("--no-check")]
    [Description("Skip waiting for the bids and the end-state check: only load and latency.")]
    public bool NoCheck { get; set; }

    [CommandOption("--no-idempotency-keys")]
    [Description("Post bids without an Idempotency-Key header. Without it a bid that timed out cannot be retried safely, so its item and user are left out of the check.")]
    public bool NoIdempotencyKeys { get; set; }

    [CommandOption("--plain")]
    [Description("Print a progress line every few seconds instead of the live display (automatic when output is redirected).")]
    public bool Plain { get; set; }

    public override ValidationResult Validate() =>
        LoadTestOptions.TryCreate(this, out _, out var error) ? ValidationResult.Success() : ValidationResult.Error(error);
}
