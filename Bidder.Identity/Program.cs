using Bidder.Core.Http;
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
// The sign-in and sign-up pages share the token endpoint's per-address bucket: passwords are tried there too.
app.MapRazorPages().RequireRateLimiting(HttpLimits.SignIn);

app.Run();
