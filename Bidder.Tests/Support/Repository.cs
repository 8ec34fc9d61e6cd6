namespace Bidder.Tests.Support;

internal static class Repository
{
    /// <summary>The folder that holds Bidder.sln, found from the test assembly's location.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration these tests were built with, so tools run the same binaries.</summary>
    public static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Bidder.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Bidder.sln above {AppContext.BaseDirectory}.");
    }
}
