using Bidder.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

// Containers, embedded or external: chosen by Bidder:Infrastructure (auto by default), see README.
var infrastructure = BidderInfrastructure.Create(builder);

var kafka = infrastructure.AddKafka("kafka");
var bidderdb = infrastructure.AddDatabase("bidderdb", databaseName: "bidder");

var api = builder.AddProject<Projects.Bidder_Api>("api")
    .WithReference(kafka).WaitFor(kafka)
    .WithReference(bidderdb).WaitFor(bidderdb)
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
    .WithHttpHealthCheck("/health");
infrastructure.ConfigureTopics(streamer);

builder.Build().Run();
