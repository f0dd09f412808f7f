using System.Text;
using System.Text.RegularExpressions;
using MailCluster.Edge.Auth;
using MailCluster.Testing;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// What the DKIM scenarios (T75-T77) share: keys made by the host's own <c>dkim keygen</c> command, their TXT records
/// as dnsmasq arguments, a submission user, and authenticated submission over implicit TLS with MailKit.
/// </summary>
internal static partial class DkimScenario
{
    public const string User = "alice";

    private const string Password = "dkim scenario password";

    /// <summary>A key made by <c>dotnet MailCluster.Host.dll dkim keygen</c>, and its DNS record as dnsmasq serves it.</summary>
    public sealed record Key(string Domain, string Selector, string Algorithm, string Path, string Record)
    {
        public string DnsmasqRecord => DkimVerifier.TxtRecord(Selector, Domain, Record);
    }

    public static async Task<Key> KeygenAsync(string directory, string domain, string selector, string algorithm, string? fileName = null)
    {
        var path = System.IO.Path.Combine(directory, fileName ?? $"{selector}.{domain}.pem");
        await using var command = NodeProcess.Start(
            new Dictionary<string, string>(), "dkim-keygen", ["dkim", "keygen", "--domain", domain, "--selector", selector, "--algorithm", algorithm, "--out", path], null);
        Assert.Equal(0, await command.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var txt = command.Log.Split('\n').Single(l => l.Contains("._domainkey.", StringComparison.Ordinal));
        Assert.StartsWith($"{selector}._domainkey.{domain}. IN TXT \"", txt.Trim(), StringComparison.Ordinal);
        var record = string.Concat(Quoted().Matches(txt).Select(m => m.Groups[1].Value));
        return new Key(domain, selector, algorithm, path, record);
    }

    /// <summary>The node's environment: one submission user allowed to send as anyone at <paramref name="senderDomains"/>,
    /// and the keys as <c>MailCluster__Dkim__Domains__N__*</c>.</summary>
    public static Dictionary<string, string> Environment(IEnumerable<string> senderDomains, params Key[] keys)
    {
        var env = new Dictionary<string, string>
        {
            ["MailCluster__Smtp__Users__0__Name"] = User,
            ["MailCluster__Smtp__Users__0__PasswordHash"] = PasswordHasher.Hash(Password, iterations: 1000),
        };
        foreach (var (domain, i) in senderDomains.Select((d, i) => (d, i)))
        {
            env[$"MailCluster__Smtp__Users__0__AllowedSenders__{i}"] = domain;
        }

        for (var i = 0; i < keys.Length; i++)
        {
            env[$"MailCluster__Dkim__Domains__{i}__Domain"] = keys[i].Domain;
            env[$"MailCluster__Dkim__Domains__{i}__Selector"] = keys[i].Selector;
            env[$"MailCluster__Dkim__Domains__{i}__KeyPath"] = keys[i].Path;
            env[$"MailCluster__Dkim__Domains__{i}__Algorithm"] = keys[i].Algorithm;
        }

        return env;
    }

    /// <summary>Submits with AUTH over implicit TLS (RFC 8314) and returns the final reply.</summary>
    public static async Task<string> SubmitAsync(int submissionsPort, MimeMessage message)
    {
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync("127.0.0.1", submissionsPort, SecureSocketOptions.SslOnConnect);
        await client.AuthenticateAsync(User, Password);
        var reply = await client.SendAsync(Scenario.WireFormat, message);
        await client.DisconnectAsync(true);
        return reply;
    }

    /// <summary>Asserts that <paramref name="relayed"/> is one Received field, then DKIM-Signature fields only, then
    /// exactly the bytes the client sent (bytes in, bytes out), and returns the names of the prepended fields.</summary>
    public static IReadOnlyList<string> AssertPrependedFields(byte[] sent, byte[] relayed)
    {
        Assert.True(relayed.AsSpan().EndsWith(sent), "the message text after the prepended fields is exactly what the client sent");
        var prefix = Encoding.UTF8.GetString(relayed, 0, relayed.Length - sent.Length);
        var names = FieldName().Matches(prefix).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal("Received", names[0]);
        Assert.All(names.Skip(1), n => Assert.Equal("DKIM-Signature", n));
        return names;
    }

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"(?m)^([A-Za-z-]+):")]
    private static partial Regex FieldName();
}
