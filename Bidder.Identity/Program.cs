using Bidder.Identity.Apis;
using Bidder.Identity.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseAntiforgery();
app.MapDefaultEndpoints();

app.MapConnectApi();
app.MapAccountApi();
app.MapRazorPages();

app.Run();
