using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MailKit.Net.Smtp;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>What the suppression scenarios (T95-T97) share: the submission user of <see cref="DkimScenario"/> (alice,
/// allowed to send as anyone at example.org), submissions whose RCPT refusal is read back, and the list over the API.</summary>
internal static class SuppressionScenario
{
    /// <summary>The node environment: user alice for example.org (no DKIM keys).</summary>
    public static Dictionary<string, string> Environment() => DkimScenario.Environment(["example.org"]);

    /// <summary>Submits as alice over implicit TLS: null when accepted, or the refusal at RCPT (its status code and text).</summary>
    public static async Task<SmtpCommandException?> SubmitAsync(int submissionsPort, string to, string subject)
    {
        try
        {
            Assert.StartsWith("2.0.0 ", await DkimScenario.SubmitAsync(submissionsPort, Scenario.NewMessage(to, subject)), StringComparison.Ordinal);
            return null;
        }
        catch (SmtpCommandException refused) when (refused.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
        {
            return refused;
        }
    }

    /// <summary>Every entry, as GET /api/v1/suppressions lists it.</summary>
    public static async Task<List<JsonElement>> ListAsync(HttpClient api, string query = "")
    {
        var page = await QueueApiClient.GetJsonAsync(api, "/api/v1/suppressions?limit=1000" + query, HttpStatusCode.OK);
        return [.. page.GetProperty("suppressions").EnumerateArray()];
    }

    /// <summary>Polls the list every 200 ms until an entry for <paramref name="address"/> is there; fails after <paramref name="timeout"/>.</summary>
    public static async Task<JsonElement> WaitForEntryAsync(HttpClient api, string address, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var entry = (await ListAsync(api)).FirstOrDefault(e => e.GetProperty("address").GetString() == address);
            if (entry.ValueKind == JsonValueKind.Object)
            {
                return entry;
            }

            Assert.True(clock.Elapsed < timeout, $"<{address}> was not on the suppression list after {timeout}");
            await Task.Delay(200);
        }
    }

    public static async Task<HttpResponseMessage> AddAsync(HttpClient api, object body) =>
        await api.PostAsJsonAsync(new Uri("/api/v1/suppressions", UriKind.Relative), body);
}
