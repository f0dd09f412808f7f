using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailCluster.Edge.Auth;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T07: the TLS certificate comes from PEM files named in configuration and is reloaded when the files change
/// (as Kubernetes rotates a mounted secret), on both STARTTLS and implicit TLS; and the host's
/// <c>hash-password</c> command prints a hash that AUTH accepts.
/// </summary>
[ParallelScenario]
public class T07_CertificatesAndPasswordHashes
{
    private static void WritePem(string certPath, string keyPath, string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(keyPath + ".tmp", key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certPath + ".tmp", certificate.ExportCertificatePem());
        File.Move(keyPath + ".tmp", keyPath, overwrite: true);
        File.Move(certPath + ".tmp", certPath, overwrite: true);
    }

    private static async Task<string> StartTlsSubjectAsync(int port, bool implicitTls)
    {
        await using var client = await RawSmtpClient.ConnectAsync(port, implicitTls);
        if (!implicitTls)
        {
            await client.ReadReplyAsync();
            await client.CommandAsync("EHLO client.example");
            await client.CommandAsync("STARTTLS");
            await client.StartTlsAsync();
        }

        return client.Tls!.RemoteCertificate!.Subject;
    }

    [Fact]
    public async Task Pem_certificate_is_used_and_reloaded_when_it_changes()
    {
        await using var scenario = await Scenario.StartAsync();
        var certPath = Path.Combine(scenario.DataDir, "tls.crt");
        var keyPath = Path.Combine(scenario.DataDir, "tls.key");
        WritePem(certPath, keyPath, "first.test");
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Smtp__TlsCertificatePath"] = certPath,
            ["MailCluster__Smtp__TlsKeyPath"] = keyPath,
        });
        await scenario.StartNodeAsync(config);

        Assert.Equal("CN=first.test", await StartTlsSubjectAsync(config.MxPort, implicitTls: false));
        Assert.Equal("CN=first.test", await StartTlsSubjectAsync(config.SubmissionsPort, implicitTls: true));

        await Task.Delay(1100); // a visibly newer file timestamp
        WritePem(certPath, keyPath, "second.test");
        var clock = Stopwatch.StartNew();
        string subject;
        do
        {
            await Task.Delay(500);
            subject = await StartTlsSubjectAsync(config.MxPort, implicitTls: false);
        }
        while (subject != "CN=second.test" && clock.Elapsed < TimeSpan.FromSeconds(30));

        Assert.Equal("CN=second.test", subject);
        Assert.Equal("CN=second.test", await StartTlsSubjectAsync(config.SubmissionsPort, implicitTls: true));
    }

    [Fact]
    public async Task Hash_password_command_prints_a_verifiable_hash()
    {
        await using var node = Testing.NodeProcess.Start(new Dictionary<string, string>(), "hash-password", ["hash-password"], "s3cret pass\n");
        Assert.Equal(0, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var hash = node.Log.Trim().Split('\n')[^1].Trim();
        Assert.StartsWith("pbkdf2-sha256$", hash, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Verify("s3cret pass", hash));
        Assert.False(PasswordHasher.Verify("s3cret pas", hash));
    }
}
