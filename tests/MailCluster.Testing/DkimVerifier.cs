using System.Diagnostics;
using System.Globalization;

namespace MailCluster.Testing;

/// <summary>
/// An independent DKIM verifier: Debian's <c>python3-dkim</c> (dkimpy; Ed25519 through <c>python3-nacl</c>), run as
/// <c>/usr/bin/python3</c>, checking every DKIM-Signature of a message with the public keys that a test's
/// <see cref="DnsmasqServer"/> serves (<see cref="TxtRecord"/>). dkimpy reads DNS through dnspython; the script
/// passes it a <c>dnsfunc</c> bound to a resolver that asks only 127.0.0.1 on the dnsmasq port.
/// </summary>
public static class DkimVerifier
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Prints one line per signature: <c>pass|fail a=... d=... s=...</c>, in header order.</summary>
    private const string Script = """
        import sys, dkim, dkim.util, dns.resolver
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ['127.0.0.1']
        resolver.port = int(sys.argv[1])
        def txt(name, timeout=5):
            name = name.decode() if isinstance(name, bytes) else name
            try:
                answer = resolver.resolve(name, 'TXT', lifetime=timeout)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                return None
            return b''.join(answer[0].strings)
        message = sys.stdin.buffer.read()
        d = dkim.DKIM(message)
        signatures = [v for (k, v) in d.headers if k.lower() == b'dkim-signature']
        for i, value in enumerate(signatures):
            tags = dkim.util.parse_tag_value(b''.join(value.split()))
            try:
                ok = d.verify(idx=i, dnsfunc=txt)
            except dkim.DKIMException as e:
                ok = False
            print('%s a=%s d=%s s=%s' % ('pass' if ok else 'fail', tags[b'a'].decode(), tags[b'd'].decode(), tags[b's'].decode()))
        """;

    /// <summary>A <c>--txt-record</c> for dnsmasq: <paramref name="record"/> at <c>selector._domainkey.domain</c>, split
    /// into character-strings of at most 255 octets as a zone file would have them.</summary>
    public static string TxtRecord(string selector, string domain, string record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var strings = Enumerable.Range(0, (record.Length + 254) / 255).Select(i => record.Substring(i * 255, Math.Min(255, record.Length - (i * 255))));
        return $"--txt-record={selector}._domainkey.{domain},{string.Join(',', strings)}";
    }

    /// <summary>The verdict for every DKIM-Signature field of <paramref name="message"/>, e.g. <c>pass a=rsa-sha256
    /// d=example.test s=sel</c>; empty when the message has none.</summary>
    /// <exception cref="InvalidOperationException">python3-dkim is not installed, or the script failed.</exception>
    public static async Task<IReadOnlyList<string>> VerifyAsync(byte[] message, DnsmasqServer dns)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(dns);
        if (!File.Exists("/usr/lib/python3/dist-packages/dkim/__init__.py"))
        {
            throw new InvalidOperationException("python3-dkim is missing: apt-get install -y python3-dkim python3-nacl (test.sh does).");
        }

        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(dns.Port.ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Python}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(message).ConfigureAwait(false);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dkimpy failed ({process.ExitCode}): {await error.ConfigureAwait(false)}");
        }

        return (await output.ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
