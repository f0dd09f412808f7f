using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T129 (#20): the HTTP injection listener with <c>MailCluster__Api__Tls=true</c> serves HTTPS only, with the SMTP
/// listeners' certificate (PEM files from a test CA), TLS 1.2 or 1.3; a client that trusts that CA submits a message
/// which the sink receives; a plain-HTTP request to the port gets no HTTP answer; a renewed certificate file is
/// served without a restart (the same <c>CertificateProvider</c> as SMTP).
/// </summary>
[ParallelScenario]
public sealed class T129_InjectOverHttps
{
    private const string Body = """{"envelope_sender":"app@senders.test","content":"Subject: over https\r\n\r\nsent over https\r\n","recipients":[{"email":"tls@relay.test"}]}""";

    [Fact]
    public async Task Https_only_with_the_smtp_certificate_and_a_renewal_is_served_without_restart()
    {
        await using var scenario = await Scenario.StartAsync();
        using var ca = new TestCertificateAuthority(scenario.DataDir);
        using var root = X509CertificateLoader.LoadCertificateFromFile(ca.RootPemPath);
        string certPath = Path.Combine(scenario.DataDir, "api.crt");
        string keyPath = Path.Combine(scenario.DataDir, "api.key");
        string firstSerial = WritePem(ca, certPath, keyPath);
        var config = scenario.NewNodeConfig(InjectApi.Environment(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MailCluster__Api__Tls"] = "true",
            ["MailCluster__Smtp__TlsCertificatePath"] = certPath,
            ["MailCluster__Smtp__TlsKeyPath"] = keyPath,
        }));
        await scenario.StartNodeAsync(config);
        int port = InjectApi.Port(config);
        var (_, secret) = await InjectApi.CreateKeyAsync(config, [Scenario.SenderDomain]);

        var (protocol, serial) = await HandshakeAsync(port, root);
        Assert.True(protocol is SslProtocols.Tls12 or SslProtocols.Tls13, $"negotiated {protocol}");
        Assert.Equal(firstSerial, serial);

        using (var https = TrustingClient(port, root))
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/inject/v1", UriKind.Relative)))
        {
            request.Content = new StringContent(Body, Encoding.UTF8, "application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            using var response = await https.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        var received = await scenario.Sink.WaitForRecipientAsync("tls@relay.test", TimeSpan.FromSeconds(60));
        Assert.Contains("sent over https", Encoding.ASCII.GetString(received.Data), StringComparison.Ordinal);

        // No cleartext: an http:// request to the TLS port never gets an HTTP answer.
        using (var plain = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) })
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync(new Uri("/api/inject/v1", UriKind.Relative)));
        }

        await Task.Delay(1100); // a visibly newer file timestamp for the certificate watcher
        string secondSerial = WritePem(ca, certPath, keyPath);
        Assert.NotEqual(firstSerial, secondSerial);
        var clock = Stopwatch.StartNew();
        do
        {
            await Task.Delay(500);
            (_, serial) = await HandshakeAsync(port, root);
        }
        while (serial != secondSerial && clock.Elapsed < TimeSpan.FromSeconds(30));

        Assert.Equal(secondSerial, serial);
    }

    /// <summary>Writes a fresh loopback certificate and its key as PEM (atomically); returns its serial number.</summary>
    private static string WritePem(TestCertificateAuthority ca, string certPath, string keyPath)
    {
        using var certificate = ca.IssueLoopbackServerCertificate();
        using var key = certificate.GetRSAPrivateKey()!;
        File.WriteAllText(keyPath + ".tmp", key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certPath + ".tmp", certificate.ExportCertificatePem());
        File.Move(keyPath + ".tmp", keyPath, overwrite: true);
        File.Move(certPath + ".tmp", certPath, overwrite: true);
        return certificate.SerialNumber;
    }

    /// <summary>A TLS handshake that accepts only a chain to the test root; the protocol and the served serial.</summary>
    private static async Task<(SslProtocols Protocol, string Serial)> HandshakeAsync(int port, X509Certificate2 root)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            CertificateChainPolicy = ChainTrusting(root),
        });
        return (tls.SslProtocol, tls.RemoteCertificate!.GetSerialNumberString());
    }

    private static HttpClient TrustingClient(int port, X509Certificate2 root) =>
        new(new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = ChainTrusting(root) } })
        {
            BaseAddress = new Uri($"https://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromSeconds(60),
        };

    private static X509ChainPolicy ChainTrusting(X509Certificate2 root)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(root);
        return policy;
    }
}
