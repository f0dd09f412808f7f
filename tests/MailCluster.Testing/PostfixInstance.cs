using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace MailCluster.Testing;

/// <summary>
/// A private Postfix (Debian package <c>postfix</c>) as a real receiving MTA: its own config_directory,
/// queue_directory and data_directory under a temp directory, smtpd on 127.0.0.1 and a free non-default port,
/// accepting mail for one virtual domain into Maildir mailboxes under the same directory (delivered as
/// <c>nobody</c>). The system's /etc/postfix and port 25 are never touched; only the shared read-only
/// meta_directory (/etc/postfix/postfix-files) is read. Postfix's master must start as root (CI runs as root).
/// </summary>
public sealed class PostfixInstance : IAsyncDisposable
{
    public const string PostfixPath = "/usr/sbin/postfix";

    private PostfixInstance(string root, string domain, int port)
    {
        Root = root;
        Domain = domain;
        Port = port;
    }

    public string Root { get; }

    public string Domain { get; }

    public int Port { get; }

    private string ConfigDirectory => Path.Combine(Root, "conf");

    private string MailDirectory => Path.Combine(Root, "mail");

    /// <summary>Postfix's own log (maillog_file), for failure messages.</summary>
    public string Log => File.Exists(Path.Combine(Root, "maillog")) ? File.ReadAllText(Path.Combine(Root, "maillog")) : "(no log)";

    /// <summary>Starts Postfix accepting mail for <paramref name="domain"/> to the given local parts; returns once
    /// smtpd accepts TCP connections.</summary>
    /// <exception cref="InvalidOperationException">Postfix is missing, not root, or it did not start.</exception>
    public static async Task<PostfixInstance> StartAsync(string domain, IReadOnlyList<string> mailboxes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mailboxes);
        if (!File.Exists(PostfixPath))
        {
            throw new InvalidOperationException($"{PostfixPath} is missing: install the Debian package postfix.");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("Postfix's master must be started as root.");
        }

        string root = Path.Combine(Path.GetTempPath(), "mc-postfix-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (string dir in new[] { "conf", "queue", "data", "mail" })
        {
            Directory.CreateDirectory(Path.Combine(root, dir));
        }

        // The virtual(8) agent writes as nobody; the data directory belongs to mail_owner (master.lock etc.).
        await RunAsync("chmod", ["0777", Path.Combine(root, "mail")], cancellationToken).ConfigureAwait(false);
        await RunAsync("chown", ["postfix", Path.Combine(root, "data")], cancellationToken).ConfigureAwait(false);
        int port = FreePort.Tcp();
        var instance = new PostfixInstance(root, domain, port);
        var (uid, gid) = NobodyIds();
        string maps = string.Join(", ", mailboxes.Select(m => $"{{{m}@{domain}={m}/}}"));
        await File.WriteAllTextAsync(Path.Combine(root, "conf", "main.cf"), string.Join('\n',
            "compatibility_level = 3.6",
            $"config_directory = {root}/conf",
            $"queue_directory = {root}/queue",
            $"data_directory = {root}/data",
            "mail_owner = postfix",
            $"myhostname = mx.{domain}",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mydestination =",
            "mynetworks = 127.0.0.0/8",
            "local_header_rewrite_clients =", // Never add or rewrite headers: the content is compared byte for byte.
            "smtputf8_enable = no",
            $"virtual_mailbox_domains = {domain}",
            $"virtual_mailbox_base = {root}/mail",
            $"virtual_mailbox_maps = inline:{{ {maps} }}",
            $"virtual_uid_maps = static:{uid}",
            $"virtual_gid_maps = static:{gid}",
            "virtual_minimum_uid = 1",
            "alias_maps =",
            "alias_database =",
            $"maillog_file = {root}/maillog",
            $"maillog_file_prefixes = {root}",
            "") + "\n", cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(root, "conf", "master.cf"), string.Join('\n',
            string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port} inet n - n - - smtpd"),
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "virtual unix - n n - - virtual",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
            "") + "\n", cancellationToken).ConfigureAwait(false);

        await RunAsync(PostfixPath, ["-c", instance.ConfigDirectory, "start"], cancellationToken).ConfigureAwait(false);
        if (!await instance.WaitListeningAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false))
        {
            string log = instance.Log;
            await instance.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"Postfix did not start listening on 127.0.0.1:{port}:{Environment.NewLine}{log}");
        }

        return instance;
    }

    /// <summary>Waits for the first message delivered to <paramref name="localPart"/>'s Maildir and returns its bytes
    /// exactly as Postfix stored them (LF line endings; Return-Path, Delivered-To and Received prepended).</summary>
    public async Task<byte[]> WaitForMessageAsync(string localPart, TimeSpan timeout)
    {
        string newDir = Path.Combine(MailDirectory, localPart, "new");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Directory.Exists(newDir) && Directory.GetFiles(newDir) is [var file, ..])
            {
                return await File.ReadAllBytesAsync(file).ConfigureAwait(false);
            }

            await Task.Delay(200).ConfigureAwait(false);
        }

        throw new TimeoutException($"no message for {localPart}@{Domain} in {timeout}; Postfix log:{Environment.NewLine}{Log}");
    }

    /// <summary>Messages delivered to <paramref name="localPart"/> so far.</summary>
    public int CountMessages(string localPart)
    {
        string newDir = Path.Combine(MailDirectory, localPart, "new");
        return Directory.Exists(newDir) ? Directory.GetFiles(newDir).Length : 0;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync(PostfixPath, ["-c", ConfigDirectory, "stop"], CancellationToken.None).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Not running (start failed); nothing to stop.
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task<bool> WaitListeningAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync("127.0.0.1", Port, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }

        return false;
    }

    private static (int Uid, int Gid) NobodyIds()
    {
        foreach (string line in File.ReadLines("/etc/passwd"))
        {
            string[] fields = line.Split(':');
            if (fields.Length > 3 && fields[0] == "nobody")
            {
                return (int.Parse(fields[2], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture));
            }
        }

        return (65534, 65534);
    }

    private static async Task RunAsync(string file, string[] args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await stdout.ConfigureAwait(false)}{await stderr.ConfigureAwait(false)}");
        }
    }
}
