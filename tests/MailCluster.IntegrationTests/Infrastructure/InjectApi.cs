using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>The HTTP injection listener (T105–T109): its environment, API keys made through the ops API, requests.</summary>
public static class InjectApi
{
    /// <summary>Opens the injection listener on a free port; read it back with <see cref="Port"/>.</summary>
    public static Dictionary<string, string> Environment(IDictionary<string, string>? extra = null)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MailCluster__Api__Enabled"] = "true",
            ["MailCluster__Api__Port"] = FreePort.Tcp().ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        return env;
    }

    public static int Port(NodeConfig config) => int.Parse(config.Environment["MailCluster__Api__Port"], CultureInfo.InvariantCulture);

    /// <summary>A key made with <c>POST /api/v1/keys</c> (admin token); returns its id and secret.</summary>
    public static async Task<(string Id, string Secret)> CreateKeyAsync(NodeConfig config, string[] senders, string[]? scopes = null, int? ratePerMinute = null)
    {
        using var http = QueueApiClient.For(config);
        var body = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["name"] = "t-" + Guid.NewGuid().ToString("N")[..6],
            ["senders"] = senders,
            ["scopes"] = scopes ?? ["http"],
            ["rate_per_minute"] = ratePerMinute,
        });
        using var response = await http.PostAsync(new Uri("/api/v1/keys", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/v1/keys: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        return (document.RootElement.GetProperty("id").GetString()!, document.RootElement.GetProperty("secret").GetString()!);
    }

    public sealed record Answer(HttpStatusCode Status, JsonElement Json, HttpResponseHeaders Headers, string ContentType);

    /// <summary>POSTs <paramref name="body"/> to <c>/api/inject/v1</c> with the key's secret (none when null).</summary>
    public static async Task<Answer> PostAsync(NodeConfig config, string? secret, string body, string? idempotencyKey = null)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port(config)}"), Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/inject/v1", UriKind.Relative))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (secret is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
        return new Answer(response.StatusCode, document.RootElement.Clone(), response.Headers, response.Content.Headers.ContentType?.MediaType ?? "");
    }

    /// <summary>Asserts an RFC 7807 problem with <paramref name="status"/> whose field is <paramref name="field"/>.</summary>
    public static void AssertProblem(Answer answer, HttpStatusCode status, string field, string? detailContains = null)
    {
        ArgumentNullException.ThrowIfNull(answer);
        Assert.True(answer.Status == status, $"expected {(int)status}, got {(int)answer.Status}: {answer.Json}");
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal((int)status, answer.Json.GetProperty("status").GetInt32());
        Assert.True(answer.Json.TryGetProperty("field", out var f) && f.GetString() == field, $"expected field '{field}': {answer.Json}");
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, answer.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    /// <summary>The number of messages queued for <paramref name="domain"/>, from the queue API.</summary>
    public static async Task<int> QueuedAsync(NodeConfig config, string domain)
    {
        using var http = QueueApiClient.For(config);
        return (await QueueApiClient.GetJsonAsync(http, $"/api/v1/queues/{domain}", HttpStatusCode.OK)).GetProperty("total").GetInt32();
    }
}
