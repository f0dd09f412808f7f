using System.Diagnostics;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// The built <c>mailcluster</c> tool run as a process (<c>dotnet mailcluster.dll ...</c>), with an environment of its
/// own: HOME is an empty temp folder (no operator's config file is read) and MAILCLUSTER_* only as given.
/// </summary>
public sealed class MailClusterCli : IDisposable
{
    private readonly DirectoryInfo home = Directory.CreateTempSubdirectory("mc-cli-home-");

    public string Home => home.FullName;

    public async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Locate());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var key in new[] { "MAILCLUSTER_URL", "MAILCLUSTER_TOKEN", "MAILCLUSTER_CONFIG" })
        {
            start.Environment.Remove(key);
        }

        start.Environment["HOME"] = home.FullName;
        start.Environment["NO_COLOR"] = "1";
        start.Environment["COLUMNS"] = "200";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr, string.Join(' ', arguments));
    }

    public void Dispose() => home.Delete(recursive: true);

    private static string Locate()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MailCluster.sln")))
        {
            directory = directory.Parent;
        }

        var parts = AppContext.BaseDirectory.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var configuration = parts[Array.LastIndexOf(parts, "bin") + 1];
        var dll = Path.Combine(directory!.FullName, "src", "MailCluster.Cli", "bin", configuration, "net10.0", "mailcluster.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} does not exist: build the solution first");
    }
}

public sealed record CliResult(int ExitCode, string Stdout, string Stderr, string Command)
{
    public override string ToString() => $"mailcluster {Command} → exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}
