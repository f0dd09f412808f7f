using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace MailCluster.Testing;

/// <summary>
/// A throw-away PostgreSQL cluster for tests: a copy of the process's one <c>initdb</c> template in a temp dir,
/// trust auth, listening only on 127.0.0.1 at a free port (unix socket inside the temp dir), <c>fsync=on</c> so
/// durability claims are tested against a real fsync. PostgreSQL refuses to run as root, so under root the binaries run as the
/// <c>postgres</c> user (<c>runuser</c>) and the dir is chowned to it. Needs the Debian package
/// <c>postgresql</c> (<c>./test.sh</c> installs it).
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    private const string PostgresRoot = "/usr/lib/postgresql";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static string? template;

    private readonly string binDirectory;
    private readonly string rootDirectory;
    private int disposed;

    private PostgresServer(string binDirectory, string rootDirectory, int port)
    {
        this.binDirectory = binDirectory;
        this.rootDirectory = rootDirectory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Superuser connection to the <c>postgres</c> database.</summary>
    public string ConnectionString => BuildConnectionString("postgres");

    private string DataDirectory => Path.Combine(rootDirectory, "data");

    private string LogFile => Path.Combine(rootDirectory, "server.log");

    /// <summary>Creates the cluster, starts it and waits until it accepts connections.</summary>
    /// <param name="alsoListenOn">An address besides 127.0.0.1, on a link to a network namespace the test created
    /// (<see cref="PartitionNetwork"/>), and the one client address (<paramref name="alsoTrust"/>, CIDR) let in there.</param>
    public static async Task<PostgresServer> StartAsync(string? alsoListenOn = null, string? alsoTrust = null)
    {
        var bin = FindBinDirectory();
        var root = Path.Combine(Path.GetTempPath(), $"mc-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(root, "socket"));
        var server = new PostgresServer(bin, root, FreePort.Tcp());
        try
        {
            await RunAsync("cp", ["-a", await TemplateAsync(bin).ConfigureAwait(false), server.DataDirectory]).ConfigureAwait(false);
            if (Environment.IsPrivilegedProcess)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", root]).ConfigureAwait(false);
            }

            var settings = new StringBuilder()
                .AppendLine(alsoListenOn is null ? "listen_addresses = '127.0.0.1'" : $"listen_addresses = '127.0.0.1,{alsoListenOn}'")
                .AppendLine(FormattableString.Invariant($"port = {server.Port}"))
                .AppendLine($"unix_socket_directories = '{Path.Combine(root, "socket")}'")
                .AppendLine("fsync = on")
                .AppendLine("synchronous_commit = on")
                .AppendLine("max_connections = 300");
            await File.AppendAllTextAsync(Path.Combine(server.DataDirectory, "postgresql.conf"), settings.ToString()).ConfigureAwait(false);
            if (alsoTrust is not null)
            {
                await File.AppendAllTextAsync(Path.Combine(server.DataDirectory, "pg_hba.conf"), $"host all all {alsoTrust} trust\n").ConfigureAwait(false);
            }

            await server.StartAgainAsync().ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The data directory every server of this test process starts from a copy of: <c>initdb</c> runs once (under a
    /// busy machine it took 14-24 s, most of it waiting for the disk; a copy takes well under a second), and again only
    /// when it failed. <c>--no-sync</c>: the template is only ever copied, and what a test's server writes is fsync'd
    /// (<c>fsync = on</c>). Deleted when the process exits.
    /// </summary>
    private static async Task<string> TemplateAsync(string bin)
    {
        await TemplateGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (template is null)
            {
                var root = Path.Combine(Path.GetTempPath(), $"mc-pg-template-{Guid.NewGuid():N}");
                Directory.CreateDirectory(root);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteQuietly(root);
                var builder = new PostgresServer(bin, root, port: 0);
                if (Environment.IsPrivilegedProcess)
                {
                    await RunAsync("chown", ["postgres:postgres", root]).ConfigureAwait(false);
                }

                await builder.RunPostgresToolAsync("initdb",
                    ["-D", builder.DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions", "--no-sync"]).ConfigureAwait(false);
                template = builder.DataDirectory;
            }

            return template;
        }
        finally
        {
            TemplateGate.Release();
        }
    }

    /// <summary>Creates a fresh database and returns a connection string to it. Name: letters, digits, underscore.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        if (!DatabaseName().IsMatch(name))
        {
            throw new ArgumentException($"Database name '{name}' must match {DatabaseName()}.", nameof(name));
        }

        var connection = new NpgsqlConnection(ConnectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        return BuildConnectionString(name);
    }

    /// <summary>Stops the server cleanly (same data dir and port stay reserved for <see cref="StartAgainAsync"/>). For outage tests.</summary>
    public Task StopAsync() => RunPostgresToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"]);

    /// <summary>Starts the server on its existing data dir and port and waits until it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        await RunPostgresToolAsync("pg_ctl", ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "start"]).ConfigureAwait(false);
        await WaitForConnectionsAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the server hard (<c>pg_ctl stop -m immediate</c>) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            try
            {
                await RunPostgresToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already stopped, or it died: the directory goes either way.
            }
        }

        NpgsqlConnection.ClearAllPools();
        DeleteQuietly(rootDirectory);
    }

    /// <summary>Best effort: a temp dir left behind must not fail the test run.</summary>
    private static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The server's own log (start-up failures, crashes); handy in assertion messages.</summary>
    public string ReadServerLog() => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    private string BuildConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        Timeout = 10,
    }.ConnectionString;

    private async Task WaitForConnectionsAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
                await using (connection.ConfigureAwait(false))
                {
                    await connection.OpenAsync().ConfigureAwait(false);
                    return;
                }
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
    }

    private Task RunPostgresToolAsync(string tool, IReadOnlyList<string> arguments)
    {
        var path = Path.Combine(binDirectory, tool);
        return Environment.IsPrivilegedProcess
            ? RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments])
            : RunAsync(path, arguments);
    }

    private static string FindBinDirectory()
    {
        var candidates = Directory.Exists(PostgresRoot)
            ? Directory.GetDirectories(PostgresRoot)
                .Where(d => File.Exists(Path.Combine(d, "bin", "initdb")) && File.Exists(Path.Combine(d, "bin", "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var major) ? major : 0)
                .ToList()
            : [];
        return candidates.Count > 0
            ? Path.Combine(candidates[0], "bin")
            : throw new InvalidOperationException(
                $"PostgreSQL server binaries (initdb, pg_ctl) not found under {PostgresRoot}/*/bin. " +
                "Install the Debian package 'postgresql' (apt-get install postgresql), or run ./test.sh, which installs it.");
    }

    private static async Task RunAsync(string fileName, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(), // runuser'd tools must be able to enter it
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} did not finish within {CommandTimeout}.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await stdout.ConfigureAwait(false)}{await stderr.ConfigureAwait(false)}");
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    private static partial Regex DatabaseName();
}
