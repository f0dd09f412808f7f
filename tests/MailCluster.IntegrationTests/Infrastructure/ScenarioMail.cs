using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace MailCluster.IntegrationTests.Infrastructure;

public static class ScenarioMail
{
    /// <summary>Sends <paramref name="messages"/> over one client connection (as a busy submitter would).</summary>
    public static async Task SendManyAsync(int port, IEnumerable<MimeMessage> messages)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None).ConfigureAwait(false);
        foreach (var message in messages)
        {
            await client.SendAsync(Scenario.WireFormat, message).ConfigureAwait(false);
        }

        await client.DisconnectAsync(true).ConfigureAwait(false);
    }

    /// <summary>Extra node environment: relay domains beyond <see cref="Scenario.RelayDomain"/> (items 1, 2, ...).</summary>
    public static Dictionary<string, string> RelayDomains(params string[] domains)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < domains.Length; i++)
        {
            env[$"MailCluster__Domains__Relay__{i + 1}"] = domains[i];
        }

        return env;
    }
}
