using System.Text.Json.Nodes;
using Bidder.Api.Apis;
using Bidder.Api.Contracts;
using Bidder.Domain;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Bidder.Api.Extensions;

/// <summary>
/// What the generated OpenAPI document cannot know from the handlers' signatures: the handlers take ids,
/// limits and statuses as text (to answer a precise 400 themselves), so their real types, ranges and
/// choices are described here; plus tag descriptions and request examples.
/// </summary>
internal static class OpenApiDocumentation
{
    public static OpenApiOptions Describe(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Bidder API";
            document.Info.Description = "Real-time auction bidding. Bids are posted to Kafka and processed by the streamer; " +
                "an item's winning bid updates live. Errors are RFC 9457 problem documents.";
            document.Info.License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" };
            // Served wherever the API runs: relative to the origin the document was loaded from.
            document.Servers = [new OpenApiServer { Url = "/", Description = "This deployment" }];
            // Reads of items are open to anyone (an empty requirement); the operations that need a signed-in caller say
            // so themselves (below). Scalar offers a field for the bearer token from the identity service.
            document.Security = [new OpenApiSecurityRequirement()];
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
            {
                [BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "An access token for the `bidder.api` scope from the identity service (see the README: " +
                        "`POST /connect/token` with the `bidder-cli` client, or the web front end's sign-in).",
                },
            };
            document.Tags = new HashSet<OpenApiTag>
            {
                new() { Name = "Users", Description = "Bidders. A user's `bids` counts its accepted bids." },
                new() { Name = "Items", Description = "Auctions, with the live winning bid: open until the streamer closes them, just after their end date, with their result." },
                new() { Name = "Bids", Description = "Posted bids (the original routes call them events): accepted or rejected by the streamer." },
            };
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any()
                && !metadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any())
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] }];
                operation.Responses ??= [];
                operation.Responses.TryAdd("401", Problem("No valid access token: sign in (WWW-Authenticate: Bearer says why)."));
                operation.Responses.TryAdd("403", Problem("Signed in, but this is not the caller's to see or do."));
            }

            if (metadata.OfType<Microsoft.AspNetCore.RateLimiting.EnableRateLimitingAttribute>().Any())
            {
                operation.Responses ??= [];
                operation.Responses.TryAdd("429", Problem("Over this client's rate limit: retry after the Retry-After delay."));
            }

            foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
            {
                (parameter.Schema, parameter.Description) = parameter.Name switch
                {
                    "id" => (new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" }, "The record's id (a UUID)."),
                    "limit" => (new OpenApiSchema
                    {
                        Type = JsonSchemaType.Integer,
                        Minimum = "1",
                        Maximum = PageRequest.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        Default = PageRequest.DefaultLimit,
                    }, "Records per page."),
                    "cursor" => (parameter.Schema, "The `next_cursor` of the previous page; omit for the first page."),
                    "status" => (Choices(operation.Tags?.Any(t => t.Name == "Items") == true ? ["open", "closed"] : ["accepted", "rejected"]), "Only records with this status."),
                    "Idempotency-Key" => (new OpenApiSchema
                    {
                        Type = JsonSchemaType.String,
                        MinLength = 1,
                        MaxLength = EventsApi.MaxIdempotencyKeyLength,
                        Pattern = EventsApi.IdempotencyKeyPattern,
                    }, "Makes retries safe: the same key returns the same bid and posts it only once (visible ASCII, no spaces)."),
                    _ => (parameter.Schema, parameter.Description),
                };
            }

            return Task.CompletedTask;
        });

        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (Examples.TryGetValue(context.JsonTypeInfo.Type, out var example))
            {
                schema.Examples = [example.DeepClone()];
            }

            // A list's items cannot carry attributes: the picture URLs' own limit goes in here, from the same constant.
            if (context.JsonTypeInfo.Type == typeof(CreateItemRequest) && schema.Properties?.TryGetValue("pictures", out var pictures) == true
                && pictures is OpenApiSchema list)
            {
                list.Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri", MaxLength = ItemsApi.MaxPictureUrlLength };
            }

            // A price no bid may reach is refused: the house's ceiling is a setting, so it is stated here, not in an attribute.
            if (context.JsonTypeInfo.Type == typeof(CreateItemRequest) && schema.Properties is { } terms)
            {
                var maxBid = context.ApplicationServices.GetRequiredService<IOptions<BidCeilingOptions>>().Value.MaxBidValue
                    .ToString(System.Globalization.CultureInfo.InvariantCulture);
                foreach (var price in new[] { "init_bid", "reserve_price" })
                {
                    if (terms.TryGetValue(price, out var property) && property is OpenApiSchema amount)
                    {
                        amount.Maximum = maxBid;
                    }
                }
            }

            // The closed lists of codes come from the one list each in the domain.
            if (context.JsonTypeInfo.Type == typeof(ItemResponse) && schema.Properties?.TryGetValue("result", out var result) == true
                && result is OpenApiSchema results)
            {
                results.Enum = [.. AuctionResult.All.Select(r => (JsonNode)JsonValue.Create(r)), null!];
            }

            if (context.JsonTypeInfo.Type == typeof(BidResponse) && schema.Properties?.TryGetValue("reason", out var reason) == true
                && reason is OpenApiSchema reasons)
            {
                reasons.Description += " One of " + string.Join(", ", RejectReason.All.Select(r => $"`{r}`")) + ".";
            }

            return Task.CompletedTask;
        });

        return options;
    }

    private const string BearerScheme = "bearer";

    private static OpenApiResponse Problem(string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails") },
        },
    };

    private static OpenApiSchema Choices(string[] values) =>
        new() { Type = JsonSchemaType.String, Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))] };

    private static readonly Dictionary<Type, JsonNode> Examples = new()
    {
        [typeof(CreateUserRequest)] = new JsonObject { ["name"] = "Ada Lovelace" },
        [typeof(CreateItemRequest)] = new JsonObject
        {
            ["name"] = "Victorian brass telescope",
            ["init_bid"] = 120.00m,
            ["currency"] = "EUR",
            ["pictures"] = new JsonArray("https://example.com/telescope.jpg"),
            ["bidding_enddate"] = "2030-01-31T18:00:00Z",
            ["bid_increment"] = 1.00m,
            ["reserve_price"] = 200.00m,
            ["soft_close_seconds"] = 120,
        },
        [typeof(CreateBidRequest)] = new JsonObject
        {
            ["item_id"] = "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f",
            ["user_id"] = "0194f3a2-9a77-7c01-8d2e-3f4a5b6c7d8e",
            ["value"] = 125.50m,
            ["max_value"] = 150.00m,
            ["client"] = "web",
        },
    };
}
