using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace MailCluster.Testing;

/// <summary>
/// The MailCluster host as a real OS process (<c>dotnet MailCluster.Host.dll</c>), for scenarios that
/// kill, stop and restart nodes. The host must already be built in the same configuration as the test
/// assembly (<c>dotnet build MailCluster.sln</c>; <c>./test.sh</c> does). Output (stdout and stderr) is
/// kept in memory and echoed to <c>{test bin}/node-logs/{name}-{pid}.log</c>.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private const int Sigterm = 15;

    private readonly Process process;
    private readonly Lock gate = new();
    private readonly List<string> lines = [];
    private readonly StringBuilder log = new();
    private readonly StreamWriter file;

    private NodeProcess(Process process, string name, string logFilePath, StreamWriter file)
    {
        this.process = process;
        Name = name;
        LogFilePath = logFilePath;
        this.file = file;
    }

    public string Name { get; }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public string LogFilePath { get; }

    /// <summary>Everything the node wrote so far (stderr lines prefixed with <c>[stderr] </c>).</summary>
    public string Log
    {
        get
        {
            lock (gate)
            {
                return log.ToString();
            }
        }
    }

    /// <summary>Starts the host with <paramref name="environment"/> added to (overriding) the current environment.</summary>
    public static NodeProcess Start(IDictionary<string, string> environment, string? name = null) =>
        Start(environment, name, [], standardInput: null);

    /// <summary>Starts the host with command-line <paramref name="arguments"/> and, when given, writes
    /// <paramref name="standardInput"/> to it and closes its input.</summary>
    public static NodeProcess Start(IDictionary<string, string> environment, string? name, IReadOnlyList<string> arguments, string? standardInput) =>
        Start(environment, name, arguments, standardInput, launcher: []);

    /// <summary>As above, run through <paramref name="launcher"/> (e.g. <c>ip netns exec NS</c>), which must exec the
    /// node in its own process so that the process id, signals and exit code are the node's.</summary>
    public static NodeProcess Start(IDictionary<string, string> environment, string? name, IReadOnlyList<string> arguments, string? standardInput, IReadOnlyList<string> launcher)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(launcher);
        var dll = LocateHostDll();
        var start = new ProcessStartInfo(launcher.Count == 0 ? "dotnet" : launcher[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!, // the content root: appsettings.json is found here
        };
        foreach (var word in launcher.Count == 0 ? [] : launcher.Skip(1).Append("dotnet"))
        {
            start.ArgumentList.Add(word);
        }

        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var logDirectory = Path.Combine(AppContext.BaseDirectory, "node-logs");
        Directory.CreateDirectory(logDirectory);
        name ??= "node";
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start dotnet {dll}.");
        }

        var logFilePath = Path.Combine(logDirectory, $"{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{process.Id}.log");
        var node = new NodeProcess(process, name, logFilePath, new StreamWriter(logFilePath, append: false) { AutoFlush = true });
        process.OutputDataReceived += (_, e) => node.Append(e.Data, "");
        process.ErrorDataReceived += (_, e) => node.Append(e.Data, "[stderr] ");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
            process.StandardInput.Close();
        }

        return node;
    }

    /// <summary>
    /// Polls <c>http://127.0.0.1:{opsPort}/healthz/ready</c> until it answers 200. Throws at once if the
    /// process exits, or at <paramref name="timeout"/> with the last status, body and 100 log lines.
    /// </summary>
    public Task WaitReadyAsync(int opsPort, TimeSpan timeout) => WaitReadyAsync("127.0.0.1", opsPort, timeout);

    /// <summary>As above, at <paramref name="host"/>: a node inside a network namespace the test created.</summary>
    public async Task WaitReadyAsync(string host, int opsPort, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var uri = new Uri($"http://{host}:{opsPort}/healthz/ready");
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer yet";
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Node '{Name}' exited with code {process.ExitCode} before it was ready.\n{Tail(100)}");
            }

            try
            {
                using var response = await http.GetAsync(uri).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {body}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }

            await Task.Delay(200).ConfigureAwait(false);
        }

        throw new TimeoutException($"Node '{Name}' was not ready at {uri} within {timeout}; last answer: {last}\n{Tail(100)}");
    }

    /// <summary>Waits until the log contains <paramref name="text"/> (ordinal); throws with the log tail on timeout.</summary>
    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Log.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Node '{Name}' did not log \"{text}\" within {timeout}.\n{Tail(100)}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>SIGKILL: the node gets no chance to clean up (the <c>kill -9</c> of DESIGN invariant 2).</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: false);
            process.WaitForExit();
        }
    }

    /// <summary>
    /// SIGTERM (graceful shutdown: CoordinatedShutdown, SMTP drain), then waits for exit and returns the exit
    /// code. If the node is still running at <paramref name="timeout"/> it is killed and a TimeoutException thrown.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!process.HasExited && SendSignal(process.Id, Sigterm) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        try
        {
            return await WaitForExitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Kill();
            throw new TimeoutException($"Node '{Name}' did not exit within {timeout} of SIGTERM; killed.\n{Tail(100)}");
        }
    }

    /// <summary>
    /// Waits for the node to exit on its own (e.g. refusing a bad configuration) and returns its exit code,
    /// once all its output is in <see cref="Log"/>. Throws a TimeoutException with the log tail otherwise;
    /// the process is left running (dispose kills it).
    /// </summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Node '{Name}' did not exit within {timeout}.\n{Tail(100)}");
        }

        return process.ExitCode;
    }

    /// <summary>The last <paramref name="count"/> lines of output.</summary>
    public string Tail(int count)
    {
        lock (gate)
        {
            return string.Join('\n', lines.Skip(Math.Max(0, lines.Count - count)));
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await process.WaitForExitAsync().ConfigureAwait(false); // drains the redirected output
        lock (gate)
        {
            file.Dispose();
        }

        process.Dispose();
    }

    private static string LocateHostDll()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MailCluster.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException($"No MailCluster.sln above {AppContext.BaseDirectory}; cannot find the host.");
        }

        var dll = Path.Combine(directory.FullName, "src", "MailCluster.Host", "bin", BuildConfiguration(), "net10.0", "MailCluster.Host.dll");
        return File.Exists(dll)
            ? dll
            : throw new InvalidOperationException($"{dll} does not exist: build the host first (dotnet build MailCluster.sln -c {BuildConfiguration()}).");
    }

    /// <summary>The configuration the test assembly was built in, read from its output path (…/bin/{Configuration}/…).</summary>
    private static string BuildConfiguration()
    {
        var parts = AppContext.BaseDirectory.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var bin = Array.LastIndexOf(parts, "bin");
        if (bin >= 0 && bin + 1 < parts.Length)
        {
            return parts[bin + 1];
        }
#if DEBUG
        return "Debug";
#else
        return "Release";
#endif
    }

    private void Append(string? line, string prefix)
    {
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            lines.Add(prefix + line);
            log.Append(prefix).Append(line).Append('\n');
            if (file.BaseStream.CanWrite)
            {
                file.WriteLine(prefix + line);
            }
        }
    }

    // DllImport rather than LibraryImport: the generated stub needs AllowUnsafeBlocks, and kill(2) takes
    // only blittable ints, so the classic marshaller costs nothing here.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
#pragma warning restore SYSLIB1054
}
