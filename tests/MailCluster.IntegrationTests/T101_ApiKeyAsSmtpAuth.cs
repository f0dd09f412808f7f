using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T101: an API key as SMTP AUTH (PLAIN and LOGIN, the key id as user name, the secret as password): it sends as its
/// senders (a domain entry: any address there; an address entry: exactly that) and is refused 553 5.7.1 for any other;
/// the mail is delivered; a wrong secret, a key without the smtp scope, a disabled or a deleted key get 535 5.7.8. The
/// keys API answers bad input with a problem naming the field, and never lists a secret.
/// </summary>
[ParallelScenario]
public sealed class T101_ApiKeyAsSmtpAuth
{
    private static readonly string[] ShopSenders = [Scenario.SenderDomain, "app@example.org"];
    private static readonly string[] SmtpScope = ["smtp"];
    private static readonly string[] ApiSenders = ["example.org"];
    private static readonly string[] HttpScope = ["http"];

    [Fact]
    public async Task A_key_authenticates_sends_as_its_senders_only_and_is_refused_once_disabled()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(new Dictionary<string, string> { ["MailCluster__Smtp__AuthFailureDelayMilliseconds"] = "10" });
        await scenario.StartNodeAsync(config);
        using var admin = QueueApiClient.For(config);
        var port = config.SubmissionsPort;

        var (id, secret) = await AuthSubmission.CreateKeyAsync(admin, new { name = "shop", senders = ShopSenders, scopes = SmtpScope });
        var (reply, client) = await AuthSubmission.LoginAsync(port, id, secret);
        await using (client)
        {
            Assert.StartsWith("235 2.7.0 ", reply, StringComparison.Ordinal);
            Assert.StartsWith("553 5.7.1 ", await AuthSubmission.SendAsync(client, "other@example.org", "bob@relay.test", "T101 refused"), StringComparison.Ordinal);
            Assert.StartsWith("250 ", await AuthSubmission.SendAsync(client, "app@example.org", "bob@relay.test", "T101 exact"), StringComparison.Ordinal);
            Assert.StartsWith("250 ", await AuthSubmission.SendAsync(client, "anyone@senders.test", "carol@relay.test", "T101 domain"), StringComparison.Ordinal);
        }

        var received = await scenario.Sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(60));
        Assert.Equal(["app@example.org", "anyone@senders.test"], received.Select(m => m.MailFrom).Order(StringComparer.Ordinal).Reverse());

        // LOGIN too; a wrong secret and the secret under another key id are refused.
        await using (var login = await RawSmtpClient.ConnectAsync(port, implicitTls: true))
        {
            await login.ReadReplyAsync();
            await login.CommandAsync("EHLO client.example");
            Assert.StartsWith("334 ", await login.CommandAsync("AUTH LOGIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes(id))), StringComparison.Ordinal);
            Assert.StartsWith("235 ", await login.CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret))), StringComparison.Ordinal);
        }

        Assert.StartsWith("535 5.7.8 ", await AuthSubmission.AuthReplyAsync(port, id, secret + "x"), StringComparison.Ordinal);
        Assert.StartsWith("535 5.7.8 ", await AuthSubmission.AuthReplyAsync(port, "key_0000000000000000", secret), StringComparison.Ordinal);

        var (httpOnly, httpSecret) = await AuthSubmission.CreateKeyAsync(admin, new { name = "api", senders = ApiSenders, scopes = HttpScope });
        Assert.StartsWith("535 5.7.8 ", await AuthSubmission.AuthReplyAsync(port, httpOnly, httpSecret), StringComparison.Ordinal);

        // Disabled: refused at once on this node (the API refreshes its copy before answering), accepted again once enabled.
        await QueueApiClient.SendAsync(admin, HttpMethod.Post, $"/api/v1/keys/{id}/disable", HttpStatusCode.OK);
        Assert.StartsWith("535 5.7.8 ", await AuthSubmission.AuthReplyAsync(port, id, secret), StringComparison.Ordinal);
        var keys = await QueueApiClient.GetJsonAsync(admin, "/api/v1/keys", HttpStatusCode.OK);
        var listed = keys.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        Assert.False(listed.GetProperty("enabled").GetBoolean());
        Assert.DoesNotContain(secret, keys.ToString(), StringComparison.Ordinal);
        await QueueApiClient.SendAsync(admin, HttpMethod.Post, $"/api/v1/keys/{id}/enable", HttpStatusCode.OK);
        Assert.StartsWith("235 ", await AuthSubmission.AuthReplyAsync(port, id, secret), StringComparison.Ordinal);
        await QueueApiClient.SendAsync(admin, HttpMethod.Delete, $"/api/v1/keys/{id}", HttpStatusCode.OK);
        Assert.StartsWith("535 5.7.8 ", await AuthSubmission.AuthReplyAsync(port, id, secret), StringComparison.Ordinal);
        await QueueApiClient.SendAsync(admin, HttpMethod.Delete, $"/api/v1/keys/{id}", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bad_key_and_user_requests_name_the_field()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);
        using var admin = QueueApiClient.For(config);
        (string Path, string Body, string Field)[] cases =
        [
            ("/api/v1/keys", "{\"senders\":[\"example.com\"]}", "name"),
            ("/api/v1/keys", "{\"name\":\"k\",\"senders\":[]}", "senders"),
            ("/api/v1/keys", "{\"name\":\"k\",\"senders\":[\"not a domain!\"]}", "senders"),
            ("/api/v1/keys", "{\"name\":\"k\",\"senders\":[\"example.com\"],\"scopes\":[\"ftp\"]}", "scopes"),
            ("/api/v1/keys", "{\"name\":\"k\",\"senders\":[\"example.com\"],\"rate_per_minute\":0}", "rate_per_minute"),
            ("/api/v1/keys", "{\"name\":\"k\",\"senders\":[\"example.com\"],\"daily_quota\":\"many\"}", "daily_quota"),
            ("/api/v1/keys", "[1]", "body"),
            ("/api/v1/users", "{\"name\":\"key_0123456789abcdef\",\"password\":\"pw\"}", "name"),
            ("/api/v1/users", "{\"name\":\"u\"}", "password"),
            ("/api/v1/users", "{\"name\":\"u\",\"password\":\"pw\",\"allowed_senders\":\"example.com\"}", "allowed_senders"),
            ("/api/v1/users", "not json", "body"),
        ];
        foreach (var (path, body, field) in cases)
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await admin.PostAsync(new Uri(path, UriKind.Relative), content);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path} {body}: {(int)response.StatusCode}");
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(field == problem.GetProperty("field").GetString(), $"{path} {body}: {problem}");
        }
    }
}
