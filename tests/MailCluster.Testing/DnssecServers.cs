using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using DnsClient;

namespace MailCluster.Testing;

/// <summary>
/// DNSSEC for tests, from Debian packages: zones signed here with <c>ldns-keygen</c>/<c>ldns-signzone</c>
/// (ldnsutils), served by the authoritative <c>nsd</c> on 127.0.0.1, behind a validating <c>unbound</c> on 127.0.0.1
/// that trusts the signed zones' keys (islands of security: no root anchor, nothing is ever asked of another server).
/// Point <c>MailCluster:Dns:Servers</c> at <see cref="ResolverEndpoint"/>: answers from a signed zone carry the AD bit,
/// answers from an unsigned zone do not, and a record whose signature no longer matches answers SERVFAIL (bogus).
/// </summary>
public sealed class DnssecServers : IAsyncDisposable
{
    private readonly string _directory;
    private readonly List<Process> _processes = [];
    private readonly ConcurrentQueue<string> _log = new();

    private DnssecServers(string directory) => _directory = directory;

    /// <summary>unbound's port on 127.0.0.1 (UDP and TCP).</summary>
    public int ResolverPort { get; private set; }

    /// <summary><c>127.0.0.1:P</c>, the form <c>MailCluster:Dns:Servers</c> takes.</summary>
    public string ResolverEndpoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{ResolverPort}");

    /// <summary>Output of both servers and of the signing tools, for failure messages.</summary>
    public string Log => string.Join(Environment.NewLine, _log);

    /// <summary>
    /// Starts the servers. <paramref name="signedZones"/> and <paramref name="unsignedZones"/> map zone names (e.g. "dane.test")
    /// to their records in zone-file form relative to the origin ("mx IN A 127.0.0.5"); SOA and NS are added.
    /// <paramref name="tamperedAfterSigning"/> lines of a signed zone ("owner TYPE old-rdata" → "new-rdata") are
    /// replaced after signing, so their RRSIG no longer matches.
    /// </summary>
    public static Task<DnssecServers> StartAsync(
        IReadOnlyDictionary<string, string[]> signedZones,
        IReadOnlyDictionary<string, string[]> unsignedZones,
        IReadOnlyDictionary<string, (string Find, string Replace)>? tamperedAfterSigning = null,
        CancellationToken cancellationToken = default) =>
        StartAsync(signedZones, unsignedZones, tamperedAfterSigning, forwardOthersTo: null, cancellationToken);

    /// <param name="forwardOthersTo">A DNS server on 127.0.0.1 (e.g. a test's dnsmasq) that answers every other name
    /// (insecure: no trust anchor covers it); null refuses every other name.</param>
    public static async Task<DnssecServers> StartAsync(
        IReadOnlyDictionary<string, string[]> signedZones,
        IReadOnlyDictionary<string, string[]> unsignedZones,
        IReadOnlyDictionary<string, (string Find, string Replace)>? tamperedAfterSigning,
        int? forwardOthersTo,
        CancellationToken cancellationToken = default)
    {
        foreach (var tool in new[] { "nsd", "unbound", "ldns-keygen", "ldns-signzone" })
        {
            if (TestTools.Find(tool) is null && !File.Exists("/usr/sbin/" + tool))
            {
                throw new InvalidOperationException($"{tool} is missing: install the Debian packages nsd, unbound and ldnsutils.");
            }
        }

        var servers = new DnssecServers(Directory.CreateTempSubdirectory("mc-dnssec-").FullName);
        try
        {
            var anchors = new List<string>();
            foreach (var (zone, records) in signedZones)
            {
                anchors.Add(await servers.SignAsync(zone, records, tamperedAfterSigning, cancellationToken).ConfigureAwait(false));
            }

            foreach (var (zone, records) in unsignedZones)
            {
                await File.WriteAllTextAsync(servers.ZoneFile(zone), ZoneText(zone, records), cancellationToken).ConfigureAwait(false);
            }

            int nsdPort = FreePort.TcpAndUdp();
            await servers.StartNsdAsync(nsdPort, [.. signedZones.Keys.Select(z => (z, servers.ZoneFile(z) + ".signed")), .. unsignedZones.Keys.Select(z => (z, servers.ZoneFile(z)))], cancellationToken).ConfigureAwait(false);
            servers.ResolverPort = FreePort.TcpAndUdp();
            await servers.StartUnboundAsync(nsdPort, [.. signedZones.Keys, .. unsignedZones.Keys], anchors, forwardOthersTo, cancellationToken).ConfigureAwait(false);
            return servers;
        }
        catch
        {
            await servers.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                await process.WaitForExitAsync().ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            process.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp cleaner.
        }
    }

    private string ZoneFile(string zone) => Path.Combine(_directory, zone + ".zone");

    private static string ZoneText(string zone, IEnumerable<string> records)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"$ORIGIN {zone}.\n$TTL 300\n");
        text.Append(CultureInfo.InvariantCulture, $"@ IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 300\n");
        text.Append(CultureInfo.InvariantCulture, $"@ IN NS ns.{zone}.\nns IN A 127.0.0.1\n");
        foreach (var record in records)
        {
            text.Append(record).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Signs the zone with a fresh KSK and ZSK; returns the KSK's DNSKEY record (unbound's trust anchor).</summary>
    private async Task<string> SignAsync(string zone, string[] records, IReadOnlyDictionary<string, (string Find, string Replace)>? tampered, CancellationToken ct)
    {
        string file = ZoneFile(zone);
        await File.WriteAllTextAsync(file, ZoneText(zone, records), ct).ConfigureAwait(false);
        string ksk = (await RunAsync("ldns-keygen", ["-a", "ECDSAP256SHA256", "-k", zone], ct).ConfigureAwait(false)).Trim();
        string zsk = (await RunAsync("ldns-keygen", ["-a", "ECDSAP256SHA256", zone], ct).ConfigureAwait(false)).Trim();
        await RunAsync("ldns-signzone", ["-n", file, Path.Combine(_directory, zsk), Path.Combine(_directory, ksk)], ct).ConfigureAwait(false);
        if (tampered is not null)
        {
            string signedFile = file + ".signed";
            string text = await File.ReadAllTextAsync(signedFile, ct).ConfigureAwait(false);
            foreach (var (owner, (find, replace)) in tampered.Where(t => t.Key.EndsWith("." + zone, StringComparison.OrdinalIgnoreCase)))
            {
                var lines = text.Split('\n');
                for (int i = 0; i < lines.Length; i++)
                {
                    if (lines[i].StartsWith(owner + ".", StringComparison.OrdinalIgnoreCase) && lines[i].Contains(find, StringComparison.OrdinalIgnoreCase))
                    {
                        lines[i] = lines[i].Replace(find, replace, StringComparison.OrdinalIgnoreCase);
                    }
                }

                text = string.Join('\n', lines);
            }

            await File.WriteAllTextAsync(signedFile, text, ct).ConfigureAwait(false);
        }

        return (await File.ReadAllTextAsync(Path.Combine(_directory, ksk + ".key"), ct).ConfigureAwait(false)).Trim();
    }

    private async Task StartNsdAsync(int port, IEnumerable<(string Zone, string File)> zones, CancellationToken ct)
    {
        var conf = new StringBuilder();
        conf.Append(CultureInfo.InvariantCulture, $"""
            server:
              ip-address: 127.0.0.1@{port}
              do-ip6: no
              username: ""
              chroot: ""
              zonesdir: "{_directory}"
              database: ""
              zonelistfile: "{_directory}/zone.list"
              xfrdfile: "{_directory}/xfrd.state"
              xfrdir: "{_directory}"
              pidfile: "{_directory}/nsd.pid"
              logfile: "{_directory}/nsd.log"
              server-count: 1
              verbosity: 1
            remote-control:
              control-enable: no

            """);
        foreach (var (zone, file) in zones)
        {
            conf.Append(CultureInfo.InvariantCulture, $"zone:\n  name: \"{zone}\"\n  zonefile: \"{file}\"\n");
        }

        string path = Path.Combine(_directory, "nsd.conf");
        await File.WriteAllTextAsync(path, conf.ToString(), ct).ConfigureAwait(false);
        Launch("/usr/sbin/nsd", ["-d", "-c", path]);
        await WaitAnsweringAsync(port, zones.First().Zone, ct).ConfigureAwait(false);
    }

    private async Task StartUnboundAsync(int nsdPort, IEnumerable<string> zones, IEnumerable<string> anchors, int? forwardOthersTo, CancellationToken ct)
    {
        var conf = new StringBuilder();
        conf.Append(CultureInfo.InvariantCulture, $"""
            server:
              interface: 127.0.0.1
              port: {ResolverPort}
              do-ip6: no
              do-daemonize: no
              username: ""
              chroot: ""
              directory: "{_directory}"
              pidfile: "{_directory}/unbound.pid"
              use-syslog: no
              logfile: ""
              verbosity: 1
              val-log-level: 2
              do-not-query-localhost: no
              access-control: 127.0.0.0/8 allow
              module-config: "validator iterator"
              harden-dnssec-stripped: yes
              qname-minimisation: no
              cache-max-ttl: 0
              cache-max-negative-ttl: 0

            """);
        // unbound answers the RFC 6761 name "test." itself (NXDOMAIN) unless told not to.
        conf.Append("  local-zone: \"test.\" nodefault\n");
        if (forwardOthersTo is null)
        {
            conf.Append("  local-zone: \".\" refuse\n");
        }

        foreach (var anchor in anchors)
        {
            conf.Append(CultureInfo.InvariantCulture, $"  trust-anchor: \"{anchor.Replace('\t', ' ')}\"\n");
        }

        foreach (var zone in zones)
        {
            conf.Append(CultureInfo.InvariantCulture, $"  local-zone: \"{zone}.\" transparent\n");
        }

        foreach (var zone in zones)
        {
            conf.Append(CultureInfo.InvariantCulture, $"stub-zone:\n  name: \"{zone}.\"\n  stub-addr: 127.0.0.1@{nsdPort}\n");
        }

        if (forwardOthersTo is { } forward)
        {
            conf.Append(CultureInfo.InvariantCulture, $"forward-zone:\n  name: \".\"\n  forward-addr: 127.0.0.1@{forward}\n");
        }

        conf.Append("remote-control:\n  control-enable: no\n");
        string path = Path.Combine(_directory, "unbound.conf");
        await File.WriteAllTextAsync(path, conf.ToString(), ct).ConfigureAwait(false);
        Launch("/usr/sbin/unbound", ["-d", "-c", path]);
        await WaitAnsweringAsync(ResolverPort, zones.First(), ct).ConfigureAwait(false);
    }

    private void Launch(string program, string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    private async Task<string> RunAsync(string program, string[] args, CancellationToken ct)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _directory };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException(program + " did not start");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        Append($"{program} {string.Join(' ', args)}: {await error.ConfigureAwait(false)}");
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} exited with {process.ExitCode}:{Environment.NewLine}{Log}");
        }

        return await output.ConfigureAwait(false);
    }

    private async Task WaitAnsweringAsync(int port, string zone, CancellationToken ct)
    {
        var probe = new LookupClient(new LookupClientOptions(new IPEndPoint(IPAddress.Loopback, port))
        {
            UseCache = false,
            Timeout = TimeSpan.FromMilliseconds(500),
            Retries = 0,
            ThrowDnsErrors = false,
        });
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            try
            {
                var answer = await probe.QueryAsync(zone, QueryType.SOA, cancellationToken: ct).ConfigureAwait(false);
                if (answer.Answers.Count > 0)
                {
                    return;
                }
            }
            catch (DnsResponseException)
            {
                // Not up yet.
            }

            await Task.Delay(100, ct).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"the DNS server on 127.0.0.1:{port} did not answer for {zone}:{Environment.NewLine}{Log}{Environment.NewLine}{ReadIfExists(Path.Combine(_directory, "nsd.log"))}");
    }

    private static string ReadIfExists(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

    private void Append(string? line)
    {
        if (line is not null && _log.Count < 10_000)
        {
            _log.Enqueue(line);
        }
    }
}
