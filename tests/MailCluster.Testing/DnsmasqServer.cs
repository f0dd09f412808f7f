using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using DnsClient;

namespace MailCluster.Testing;

/// <summary>
/// A real DNS server for tests: Debian's <c>dnsmasq</c> (package <c>dnsmasq-base</c>) on 127.0.0.1 and a free
/// UDP+TCP port, authoritative-like for <c>*.test</c> only (<c>--local=/test/</c>: any other name under
/// <c>.test</c> answers NXDOMAIN, nothing is forwarded). Records come from dnsmasq options; use the builders
/// <see cref="Mx"/>, <see cref="NullMx"/>, <see cref="HostRecord"/>. The process is killed on dispose.
/// </summary>
public sealed class DnsmasqServer : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/sbin/dnsmasq";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log;

    private DnsmasqServer(Process process, int port, ConcurrentQueue<string> log)
    {
        _process = process;
        Port = port;
        _log = log;
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:P</c>, the form <c>MailCluster:Dns:Servers</c> takes.</summary>
    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    public IPEndPoint IPEndPoint => new(IPAddress.Loopback, Port);

    /// <summary>dnsmasq's own output so far (queries are logged), for failure messages.</summary>
    public string Log => string.Join(Environment.NewLine, _log);

    /// <summary><c>--mx-host</c>: an MX record <paramref name="domain"/> → <paramref name="host"/> with <paramref name="preference"/>.</summary>
    public static string Mx(string domain, string host, int preference) =>
        string.Create(CultureInfo.InvariantCulture, $"--mx-host={domain},{host},{preference}");

    /// <summary>An RFC 7505 null MX (<c>0 .</c>), written as a raw RR: preference 0x0000 then the root label 0x00.</summary>
    public static string NullMx(string domain) => $"--dns-rr={domain},15,000000";

    /// <summary><c>--host-record</c>: A/AAAA records for <paramref name="host"/> (use this, not <c>--address</c>,
    /// which makes MX queries for the name answer NXDOMAIN).</summary>
    public static string HostRecord(string host, params string[] addresses) => $"--host-record={host},{string.Join(',', addresses)}";

    /// <summary>
    /// TXT records, through a configuration file written into <paramref name="directory"/>: only dnsmasq's file
    /// syntax unquotes a value (on the command line the quotes stay in the record) and keeps commas inside one string
    /// (unquoted, a comma starts a new character-string). Returns the <c>--conf-file</c> option.
    /// </summary>
    public static string TxtRecords(string directory, params (string Name, string Text)[] records)
    {
        ArgumentNullException.ThrowIfNull(records);
        string path = Path.Combine(directory, $"txt-{Guid.NewGuid():N}.conf");
        File.WriteAllLines(path, records.Select(r => $"txt-record={r.Name},\"{r.Text}\""));
        return $"--conf-file={path}";
    }

    /// <summary>Starts dnsmasq with <paramref name="extraArgs"/> (records) and returns once it answers a query.</summary>
    /// <exception cref="InvalidOperationException">dnsmasq is not installed, or it did not start.</exception>
    public static async Task<DnsmasqServer> StartAsync(IEnumerable<string> extraArgs, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"{ExecutablePath} is missing: install the Debian package dnsmasq-base (apt-get install -y dnsmasq-base).");
        }

        string[] records = [.. extraArgs];
        string lastError = "";
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int port = FreePort.TcpAndUdp();
            var log = new ConcurrentQueue<string>();
            Process process = Launch(port, records, log);
            var server = new DnsmasqServer(process, port, log);
            if (await server.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false))
            {
                return server;
            }

            lastError = server.Log;
            await server.DisposeAsync().ConfigureAwait(false);
        }

        throw new InvalidOperationException($"dnsmasq did not start answering queries:{Environment.NewLine}{lastError}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    private static Process Launch(int port, string[] records, ConcurrentQueue<string> log)
    {
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "--keep-in-foreground", $"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
            "--no-resolv", "--no-hosts", "--local=/test/", "--local-ttl=300", "--pid-file=",
            "--log-queries", "--log-facility=-",
        ];
        foreach (string arg in args.Concat(Environment.IsPrivilegedProcess ? ["--user=root"] : []).Concat(records))
        {
            start.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(ConcurrentQueue<string> log, string? line)
    {
        if (line is not null && log.Count < 10_000)
        {
            log.Enqueue(line);
        }
    }

    private async Task<bool> WaitUntilAnsweringAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var probe = new LookupClient(new LookupClientOptions(IPEndPoint)
        {
            UseCache = false,
            Timeout = TimeSpan.FromMilliseconds(250),
            Retries = 0,
            ThrowDnsErrors = false,
        });
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !_process.HasExited)
        {
            try
            {
                // Any answer (NXDOMAIN included) proves the server is up.
                await probe.QueryAsync("ready-probe.test", QueryType.A, cancellationToken: cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (DnsResponseException)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }

        return false;
    }
}
