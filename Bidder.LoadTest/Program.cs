using Bidder.LoadTest;
using Spectre.Console;
using Spectre.Console.Cli;

// Redirected output (CI logs, files) has no width of its own; Spectre's 80 columns would wrap the tables.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 160;
}

var app = new CommandApp<LoadTestCommand>();
app.Configure(config =>
{
    config.SetApplicationName("Bidder.LoadTest");
    // A mistyped option must stop the run, not be ignored and leave a default in its place.
    config.UseStrictParsing();
    config.AddExample("--duration", "30s", "--rate", "500", "--concurrency", "32");
    config.AddExample("--url", "https://bidder.example.com", "--identity-url", "https://identity.bidder.example.com", "--requests", "100000", "--rate", "0", "--no-check");
    // Spectre answers a bad option with -1; scripts get a code of their own for it instead (see ExitCode).
    config.SetExceptionHandler((exception, _) =>
    {
        if (exception is CommandAppException invalid)
        {
            if (invalid.Pretty is { } pretty)
            {
                AnsiConsole.Write(pretty);
            }
            else
            {
                AnsiConsole.MarkupLine($"[red]Error:[/] {Markup.Escape(invalid.Message)}");
            }

            AnsiConsole.MarkupLine("See --help for every option.");
            return (int)ExitCode.InvalidOptions;
        }

        AnsiConsole.WriteException(exception, ExceptionFormats.ShortenEverything);
        return (int)ExitCode.RunFailed;
    });
});

return await app.RunAsync(args);
