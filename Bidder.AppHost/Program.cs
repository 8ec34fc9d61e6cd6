using Bidder.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

// Containers, embedded or external: chosen by Bidder:Infrastructure (auto by default), see README.
var infrastructure = BidderInfrastructure.Create(builder);

var kafka = infrastructure.AddKafka("kafka");
var bidderdb = infrastructure.AddDatabase("bidderdb", databaseName: "bidder");

// The first administrator's password: generated once and kept in the AppHost's user secrets (the dashboard
// shows it under Parameters), or set as Parameters:admin-password.
var adminPassword = builder.AddParameter("admin-password",
    new GenerateParameterDefault { MinLength = 20, Special = false }, secret: true, persist: true);

// The key with which the web app proves to the API and the identity service whom its anonymous reads and its sign-in
// exchanges are for (each visitor's address, not its own): generated and kept like the password, or set as
// Parameters:web-caller-key.
var webCallerKey = builder.AddParameter("web-caller-key",
    new GenerateParameterDefault { MinLength = Bidder.Domain.WebCallers.MinKeyLength, Special = false }, secret: true, persist: true);

var identity = builder.AddProject<Projects.Bidder_Identity>("identity")
    .WithReference(bidderdb).WaitFor(bidderdb)
    .WithEnvironment("Bidder__Identity__AdminPassword", adminPassword)
    .WithEnvironment("Bidder__RateLimits__WebCallerKey", webCallerKey)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health")
    .WithUrlForEndpoint("http", _ => new() { Url = "/.well-known/openid-configuration", DisplayText = "OpenID Connect discovery" });

var api = builder.AddProject<Projects.Bidder_Api>("api")
    .WithReference(kafka).WaitFor(kafka)
    .WithReference(bidderdb).WaitFor(bidderdb)
    .WaitFor(identity)
    .WithEnvironment("Bidder__RateLimits__WebCallerKey", webCallerKey)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health")
    .WithUrlForEndpoint("http", _ => new() { Url = "/scalar", DisplayText = "Scalar API explorer" })
    .WithUrlForEndpoint("http", _ => new() { Url = "/openapi/v1.json", DisplayText = "OpenAPI document" });
infrastructure.ConfigureTopics(api);

var streamer = builder.AddProject<Projects.Bidder_Streamer>("streamer")
    .WithReference(kafka).WaitFor(kafka)
    .WithReference(bidderdb).WaitFor(bidderdb)
    .WithReplicas(infrastructure.StreamerReplicas)
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    // glibc's malloc arenas for the native side (SQLite, librdkafka): one, not one per core's worth of threads; the
    // streamer's peak in the scale benchmark 314-350 MB with two, 302-308 with one, at the same rate (BENCHMARKS.md, scale).
    .WithEnvironment("MALLOC_ARENA_MAX", "1");
infrastructure.ConfigureTopics(streamer);

// One bid ceiling for both: the streamer rejects bids above it, the API items whose price or reserve no bid could reach.
infrastructure.PassOn(api, "Bidder:Streamer:MaxBidValue");
infrastructure.PassOn(streamer, "Bidder:Streamer:MaxBidValue");

// The auction house in a browser: reads and bids through the API, signs people in at the identity service.
var web = builder.AddProject<Projects.Bidder_Web>("web")
    .WithReference(api).WaitFor(api)
    .WaitFor(identity)
    .WithEnvironment("Bidder__Web__CallerKey", webCallerKey)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

// The API and the web app trust the identity service's tokens (or the provider Bidder:Identity:Authority names).
infrastructure.ConfigureIdentity(identity, api, web);

builder.Build().Run();
