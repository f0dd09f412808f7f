using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>Submissions with AUTH PLAIN over implicit TLS (port 465 style) in raw SMTP, so a test reads the exact
/// replies (235, 535 5.7.8, 553 5.7.1, 451 4.7.1); and the users and keys admin calls the scenarios share.</summary>
internal static class AuthSubmission
{
    public static string Plain(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    /// <summary>A fresh connection, EHLO and AUTH PLAIN; the AUTH reply and the open client.</summary>
    public static async Task<(string Reply, RawSmtpClient Client)> LoginAsync(int submissionsPort, string user, string password)
    {
        var client = await RawSmtpClient.ConnectAsync(submissionsPort, implicitTls: true);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example");
        return (await client.CommandAsync("AUTH PLAIN " + Plain(user, password)), client);
    }

    /// <summary>Logs in on a new connection and answers the AUTH reply, closing the connection.</summary>
    public static async Task<string> AuthReplyAsync(int submissionsPort, string user, string password)
    {
        var (reply, client) = await LoginAsync(submissionsPort, user, password);
        await client.DisposeAsync();
        return reply;
    }

    /// <summary>MAIL, RCPT and DATA with a small message; the first reply that is not positive, or the final 250.</summary>
    public static async Task<string> SendAsync(RawSmtpClient client, string from, string to, string subject)
    {
        foreach (var command in new[] { $"MAIL FROM:<{from}>", $"RCPT TO:<{to}>", "DATA" })
        {
            var reply = await client.CommandAsync(command);
            if (reply[0] is not ('2' or '3'))
            {
                await client.CommandAsync("RSET");
                return reply;
            }
        }

        return await client.CommandAsync($"From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\nbody\r\n.");
    }

    /// <summary>MAIL FROM only (where the sender and the quotas are decided), then RSET; the MAIL reply.</summary>
    public static async Task<string> MailFromAsync(RawSmtpClient client, string from)
    {
        var reply = await client.CommandAsync($"MAIL FROM:<{from}>");
        await client.CommandAsync("RSET");
        return reply;
    }

    /// <summary>Logs in every 100 ms until the AUTH reply starts with <paramref name="expected"/>; how long that took.</summary>
    public static async Task<TimeSpan> WaitForAuthAsync(int submissionsPort, string user, string password, string expected)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            last = await AuthReplyAsync(submissionsPort, user, password);
            if (last.StartsWith(expected, StringComparison.Ordinal))
            {
                return clock.Elapsed;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"AUTH as {user} kept answering '{last}', not {expected}");
    }

    /// <summary>POST /api/v1/keys; the created key's id and secret.</summary>
    public static async Task<(string Id, string Secret)> CreateKeyAsync(HttpClient admin, object body)
    {
        using var response = await admin.PostAsJsonAsync(new Uri("/api/v1/keys", UriKind.Relative), body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, json.ToString());
        return (json.GetProperty("id").GetString()!, json.GetProperty("secret").GetString()!);
    }
}
