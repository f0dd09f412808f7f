using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace MailCluster.Testing;

/// <summary>
/// A Linux network namespace made by the test (<c>ip netns add</c>, iproute2; needs root): its own loopback, so
/// processes inside bind 127.0.0.x and well-known ports (53, 8080) without meeting anything on the machine, and its
/// own <c>/etc/resolv.conf</c> (<c>/etc/netns/NAME/resolv.conf</c>, which <c>ip netns exec</c> bind-mounts over the
/// real one for the programs it starts). Traffic never leaves the namespace. <see cref="DisposeAsync"/> kills every
/// process inside, deletes the namespace and its <c>/etc/netns</c> folder; namespaces left behind by a test run that
/// was killed (their creator's pid is gone) are removed by the next <see cref="CreateAsync"/>.
/// </summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    private static int _serial;

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>The command prefix that runs a program inside: <c>ip netns exec NAME</c>.</summary>
    public IReadOnlyList<string> Exec => ["ip", "netns", "exec", Name];

    /// <summary>Creates <c>PREFIX-PID-N</c> with loopback up and, when given, <paramref name="resolvConf"/> as its resolv.conf.</summary>
    public static async Task<NetworkNamespace> CreateAsync(string prefix, string? resolvConf = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("network namespaces need root (ip netns add); test.sh and CI run as root");
        }

        await RemoveStaleAsync(prefix).ConfigureAwait(false);
        var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{Environment.ProcessId}-{Interlocked.Increment(ref _serial)}");
        await RunAsync(["ip", "netns", "add", name]).ConfigureAwait(false);
        var ns = new NetworkNamespace(name);
        try
        {
            await RunAsync(["ip", "-n", name, "link", "set", "lo", "up"]).ConfigureAwait(false);
            if (resolvConf is not null)
            {
                Directory.CreateDirectory(EtcDirectory(name));
                await File.WriteAllTextAsync(Path.Combine(EtcDirectory(name), "resolv.conf"), resolvConf).ConfigureAwait(false);
            }

            return ns;
        }
        catch
        {
            await ns.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs <paramref name="command"/> inside the namespace to completion; returns its exit code and output.</summary>
    public Task<(int ExitCode, string Output)> RunInsideAsync(IReadOnlyList<string> command, TimeSpan? timeout = null) =>
        RunAsync([.. Exec, .. command], check: false, timeout);

    /// <summary>Starts a long-running program inside; its output lines go to <paramref name="log"/>.</summary>
    public Process Start(IReadOnlyList<string> command, ConcurrentQueue<string> log)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(log);
        var start = new ProcessStartInfo(Exec[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var word in Exec.Skip(1).Concat(command))
        {
            start.ArgumentList.Add(word);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public async ValueTask DisposeAsync() => await DeleteAsync(Name).ConfigureAwait(false);

    private static string EtcDirectory(string name) => Path.Combine("/etc/netns", name);

    /// <summary>Kills what runs inside <paramref name="name"/> (SIGKILL), then deletes it and its /etc/netns folder.</summary>
    private static async Task DeleteAsync(string name)
    {
        var (_, pids) = await RunAsync(["ip", "netns", "pids", name], check: false).ConfigureAwait(false);
        foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                using var process = Process.GetProcessById(int.Parse(pid, CultureInfo.InvariantCulture));
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException)
            {
                // Already gone.
            }
        }

        await RunAsync(["ip", "netns", "delete", name], check: false).ConfigureAwait(false);
        if (Directory.Exists(EtcDirectory(name)))
        {
            Directory.Delete(EtcDirectory(name), recursive: true);
        }
    }

    private static async Task RemoveStaleAsync(string prefix)
    {
        var (_, list) = await RunAsync(["ip", "netns", "list"], check: false).ConfigureAwait(false);
        foreach (var line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            var parts = name.Split('-');
            if (name.StartsWith(prefix + "-", StringComparison.Ordinal) && parts.Length >= 2
                && int.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out var creator) && !Directory.Exists($"/proc/{creator}"))
            {
                await DeleteAsync(name).ConfigureAwait(false);
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyList<string> command, bool check = true, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var word in command.Skip(1))
        {
            start.ArgumentList.Add(word);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command[0]}");
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var output = process.StandardOutput.ReadToEndAsync(cancellation.Token);
        var error = process.StandardError.ReadToEndAsync(cancellation.Token);
        try
        {
            await process.WaitForExitAsync(cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{string.Join(' ', command)}: timed out");
        }

        var text = await output.ConfigureAwait(false) + await error.ConfigureAwait(false);
        return check && process.ExitCode != 0
            ? throw new InvalidOperationException($"{string.Join(' ', command)} exited with {process.ExitCode}: {text}")
            : (process.ExitCode, text);
    }

    private static void Append(ConcurrentQueue<string> log, string? line)
    {
        if (line is not null && log.Count < 10_000)
        {
            log.Enqueue(line);
        }
    }
}
