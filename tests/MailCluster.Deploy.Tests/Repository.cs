using System.Diagnostics;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.Deploy.Tests;

/// <summary>The checked-out repository these tests read (found upward from the test binary), and the external
/// programs they run on it.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string ValidatorDirectory => PathOf("tools", "k8s-validate");

    /// <summary>The program on PATH; the test fails (it does not skip) when it is missing: every check here is part
    /// of the test command, and test.sh installs what they need.</summary>
    public static string Tool(string program) =>
        TestTools.FindOnPath(program)
        ?? throw new InvalidOperationException($"{program} is not on PATH: run ./test.sh, which installs the tools these checks need (REQUIRED_PACKAGES)");

    /// <summary>Runs <paramref name="program"/> to completion; returns its exit code, standard output and standard error.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory ?? Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output, await error);
    }

    /// <summary><c>kubectl kustomize DIR</c> into a temporary file; returns its path.</summary>
    public static async Task<string> RenderAsync(string directory, string into)
    {
        var (exit, output, error) = await RunAsync(Tool("kubectl"), ["kustomize", directory]);
        Assert.True(exit == 0, $"kubectl kustomize {directory} failed:\n{error}");
        Assert.False(string.IsNullOrWhiteSpace(output), $"kubectl kustomize {directory} rendered nothing");
        var file = Path.Combine(into, Path.GetFileName(directory.TrimEnd('/')) + ".yaml");
        await File.WriteAllTextAsync(file, output, TestContext.Current.CancellationToken);
        return file;
    }

    /// <summary><c>node tools/k8s-validate/validate.mjs COMMAND FILE</c>.</summary>
    public static Task<(int ExitCode, string Output, string Error)> ValidateAsync(string command, string file)
    {
        if (!Directory.Exists(Path.Combine(ValidatorDirectory, "node_modules")))
        {
            throw new InvalidOperationException("tools/k8s-validate/node_modules is missing: run ./test.sh, or npm ci --prefix tools/k8s-validate");
        }

        return RunAsync(Tool("node"), [Path.Combine(ValidatorDirectory, "validate.mjs"), command, file]);
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MailCluster.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException($"No MailCluster.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>A temporary directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("mc-deploy-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
