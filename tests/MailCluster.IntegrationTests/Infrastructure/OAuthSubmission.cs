using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// MailKit's own OAuth2 mechanisms (<see cref="SaslMechanismOAuth2"/>, <see cref="SaslMechanismOAuthBearer"/>) against
/// a node's implicit-TLS submission listener, with the conversation recorded so that a test can read the server's
/// exact replies (the 334 error challenge, 535 5.7.8, 454 4.7.0) that MailKit only reports as an exception.
/// </summary>
internal sealed partial class OAuthSubmission : IAsyncDisposable
{
    private readonly MemoryStream _log = new();

    private OAuthSubmission(int port)
    {
        Client = new SmtpClient(new ProtocolLogger(_log, leaveOpen: true)) { ServerCertificateValidationCallback = (_, _, _, _) => true };
        Port = port;
    }

    public SmtpClient Client { get; }

    public int Port { get; }

    /// <summary>Everything said so far, both ways ("C: ", "S: " lines).</summary>
    public string Log => Encoding.UTF8.GetString(_log.ToArray());

    public static async Task<OAuthSubmission> ConnectAsync(int submissionsPort)
    {
        var session = new OAuthSubmission(submissionsPort);
        await session.Client.ConnectAsync("127.0.0.1", submissionsPort, SecureSocketOptions.SslOnConnect);
        return session;
    }

    /// <summary>Authenticates; null on success, else the exception MailKit threw.</summary>
    public async Task<Exception?> TryAuthenticateAsync(SaslMechanism mechanism)
    {
        try
        {
            await Client.AuthenticateAsync(mechanism);
            return null;
        }
        catch (Exception ex) when (ex is AuthenticationException or SmtpCommandException or SmtpProtocolException)
        {
            return ex;
        }
    }

    /// <summary>The JSON of the server's last "334" error challenge (RFC 7628 §3.2.2), decoded.</summary>
    public JsonElement ErrorChallenge()
    {
        var matches = ChallengeLine().Matches(Log);
        Assert.NotEmpty(matches);
        var json = Encoding.UTF8.GetString(Convert.FromBase64String(matches[^1].Groups[1].Value));
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        if (Client.IsConnected)
        {
            await Client.DisconnectAsync(quit: true);
        }

        Client.Dispose();
        await _log.DisposeAsync();
    }

    [GeneratedRegex(@"S: 334 (eyJ[A-Za-z0-9+/=]+)\s")]
    private static partial Regex ChallengeLine();
}
