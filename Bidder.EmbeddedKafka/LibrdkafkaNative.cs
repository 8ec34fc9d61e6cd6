using System.Reflection;
using System.Runtime.InteropServices;

namespace Bidder.EmbeddedKafka;

/// <summary>
/// Binds the mock-cluster imports to the very librdkafka build that Confluent.Kafka loaded, so that the
/// process holds one copy of the library whichever build (default, centos8, alpine) Confluent.Kafka chose
/// for this platform.
/// </summary>
internal static class LibrdkafkaNative
{
    private const string LibraryName = "librdkafka";

    internal static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != LibraryName)
        {
            return IntPtr.Zero;
        }

        // Reading the version makes Confluent.Kafka load its native library if it has not yet.
        _ = Confluent.Kafka.Library.Version;
        var path = LoadedLibraryPath();
        return path is not null && NativeLibrary.TryLoad(path, out var handle) ? handle : IntPtr.Zero;
    }

    private static string? LoadedLibraryPath()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps))
        {
            return null;
        }

        return File.ReadLines(maps)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6)
            .Select(fields => string.Join(' ', fields.Skip(5)))
            .FirstOrDefault(path => Path.GetFileName(path).EndsWith("librdkafka.so", StringComparison.Ordinal)
                || Path.GetFileName(path).StartsWith("librdkafka.so", StringComparison.Ordinal));
    }
}
