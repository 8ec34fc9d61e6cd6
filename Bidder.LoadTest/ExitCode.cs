namespace Bidder.LoadTest;

/// <summary>The process exit codes, distinct so that CI scripts can tell a broken system from a wrong command line.</summary>
internal enum ExitCode
{
    /// <summary>The run finished and the end-state check passed (or was skipped with --no-check).</summary>
    Passed = 0,

    /// <summary>The end-state check found a discrepancy, or bids were still unprocessed at the settle timeout.</summary>
    CheckFailed = 1,

    /// <summary>An option is unknown or invalid; nothing was sent.</summary>
    InvalidOptions = 2,

    /// <summary>The run could not be carried out: the API is unreachable, setting up users or items failed, or the tool failed.</summary>
    RunFailed = 3,

    /// <summary>Stopped with a second Ctrl+C before the check finished.</summary>
    Interrupted = 130,
}
