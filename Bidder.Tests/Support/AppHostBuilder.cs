using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Bidder.Tests.Support;

/// <summary>The real AppHost's model, built (not started) in a given infrastructure mode.</summary>
internal static class AppHostBuilder
{
    public static Task<IDistributedApplicationTestingBuilder> CreateAsync(string mode, params string[] settings) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.Bidder_AppHost>(
            [$"Bidder:Infrastructure={mode}", .. settings],
            TestContext.Current.CancellationToken);

    public static IResource Resource(this IDistributedApplicationTestingBuilder builder, string name) =>
        Assert.Single(builder.Resources, r => r.Name == name);

    public static T Resource<T>(this IDistributedApplicationTestingBuilder builder, string name) where T : IResource =>
        Assert.IsAssignableFrom<T>(builder.Resource(name));
}
