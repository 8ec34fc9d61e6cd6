using Bidder.Api.Apis;
using Bidder.Api.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseProblemResponses();
app.MapDefaultEndpoints();
app.MapApiExplorer();

app.MapUsersApi();
app.MapItemsApi();
app.MapLiveApi();
app.MapEventsApi();
app.MapBenchmarkApi();

app.Run();
