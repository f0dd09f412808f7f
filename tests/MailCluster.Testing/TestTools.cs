namespace MailCluster.Testing;

/// <summary>
/// Programs from Debian packages that some checks run when they are installed (chromium for the dashboard, promtool
/// for the metrics text). On a developer's machine a missing one only leaves its check out. test.sh, the one command
/// CI runs, installs them and names them in <see cref="RequiredVariable"/>: there a missing one fails the test, so
/// that a check CI relies on cannot quietly stop running.
/// </summary>
public static class TestTools
{
    /// <summary>Space-separated program names that must be on PATH (test.sh: <c>chromium promtool</c>).</summary>
    public const string RequiredVariable = "MAILCLUSTER_REQUIRED_TOOLS";

    /// <summary>The program's path on PATH; null when it is not installed and not required.</summary>
    /// <exception cref="InvalidOperationException">It is not installed but <see cref="RequiredVariable"/> names it.</exception>
    public static string? Find(string program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var path = FindOnPath(program);
        if (path is null && IsRequired(program))
        {
            throw new InvalidOperationException(
                $"{program} is not on PATH, but {RequiredVariable} requires it (test.sh installs it from Debian packages; see REQUIRED_PACKAGES there)");
        }

        return path;
    }

    public static bool IsRequired(string program) =>
        (Environment.GetEnvironmentVariable(RequiredVariable) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(program, StringComparer.Ordinal);

    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
}
