using System.Reflection;
using System.Runtime.InteropServices;

namespace Bidder.EmbeddedKafka;

/// <summary>
/// Loads librdkafka once per process, for Confluent.Kafka and for the mock-cluster calls alike.
/// </summary>
/// <remarks>
/// On glibc Linux the default <c>librdkafka.so</c> of librdkafka.redist links against libsasl2.so.3,
/// which Debian (and the .NET base images built on it) do not ship; the <c>centos8</c> build of the
/// same version has no such dependency. Every Kafka client in Bidder calls <see cref="EnsureLoaded"/>
/// before it builds a client, so the choice is made in this one place.
/// </remarks>
public static class LibrdkafkaNative
{
    private const string LibraryName = "librdkafka";
    private static readonly Lock Gate = new();
    private static string? _loadedPath;

    /// <summary>The path of the librdkafka build in use, or null when Confluent.Kafka's default was kept.</summary>
    public static string? LoadedPath => _loadedPath;

    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loadedPath is not null || Confluent.Kafka.Library.IsLoaded)
            {
                return;
            }

            var path = FindPreferredBuild();
            if (path is null)
            {
                return;
            }

            Confluent.Kafka.Library.Load(path);
            _loadedPath = path;
        }
    }

    internal static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != LibraryName)
        {
            return IntPtr.Zero;
        }

        EnsureLoaded();
        var path = _loadedPath ?? FindPreferredBuild() ?? FindDefaultBuild();
        return path is null ? IntPtr.Zero : NativeLibrary.Load(path);
    }

    private static string? FindPreferredBuild()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64 || IsMusl())
        {
            return null;
        }

        return Candidates("centos8-librdkafka.so").FirstOrDefault(File.Exists);
    }

    private static string? FindDefaultBuild() =>
        Candidates(OperatingSystem.IsWindows() ? "librdkafka.dll" : OperatingSystem.IsMacOS() ? "librdkafka.dylib" : "librdkafka.so")
            .FirstOrDefault(File.Exists);

    // A portable build keeps native assets under runtimes/{rid}/native; a RID-specific publish flattens them.
    private static IEnumerable<string> Candidates(string fileName)
    {
        var baseDirectory = AppContext.BaseDirectory;
        yield return Path.Combine(baseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", fileName);
        yield return Path.Combine(baseDirectory, "runtimes", "linux-x64", "native", fileName);
        yield return Path.Combine(baseDirectory, fileName);
    }

    private static bool IsMusl() =>
        RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.OrdinalIgnoreCase)
        || File.Exists("/etc/alpine-release");
}
